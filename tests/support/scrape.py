"""Scrape requests as the API would leave them: the handle linked in the database (as the user) and
the §5 message on the queue with its correlation id attribute."""

from __future__ import annotations

import uuid
from typing import Any

from creator_sync.adapters.scrape_queue import ScrapeRequested

from devstack.database import Database
from devstack.sqs import LocalQueues
from tests.support.postgres import admin_rows, new_user, role_client, user_claims


def link_handle(db: Database, user_id: str, handle: str | None) -> dict[str, Any] | None:
    with role_client(db.authenticator_url, "authenticated", user_claims(user_id)) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=handle)
    scrape = out["scrape"]
    return dict(scrape) if scrape else None


def send(queues: LocalQueues, message: ScrapeRequested) -> str:
    reply = queues.client().send_message(
        QueueUrl=queues.queue_url,
        MessageBody=message.model_dump_json(),
        MessageAttributes={"correlation_id": {"DataType": "String", "StringValue": message.correlation_id}},
    )
    return str(reply["MessageId"])


def request_scrape(
    db: Database, queues: LocalQueues, handle: str, user_id: str | None = None
) -> ScrapeRequested:
    """Link `handle` for a (new) user and queue the message the API would have sent."""
    user_id = user_id or new_user(db.url)
    ticket = link_handle(db, user_id, handle)
    assert ticket is not None, "the handle did not change, so no scrape was needed"
    message = ScrapeRequested(
        user_id=uuid.UUID(user_id),
        tiktok_handle=ticket["tiktok_handle"],
        generation=ticket["generation"],
        reason="handle_linked",
        correlation_id=f"req-{uuid.uuid4().hex[:12]}",
    )
    send(queues, message)
    return message


def creator(db: Database, user_id: str | uuid.UUID) -> dict[str, Any]:
    rows = admin_rows(db.url, "select * from public.creator_profiles where user_id = %s", (str(user_id),))
    assert len(rows) == 1
    return rows[0]
