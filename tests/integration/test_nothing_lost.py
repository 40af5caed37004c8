"""[R8] across the three functions: the queue is down when a handle changes, the API still answers
200 with the change saved, and the reconciler then the worker bring the profile to succeeded."""

from __future__ import annotations

from devstack.database import Database
from devstack.event_source import SqsEventSource
from devstack.sqs import LocalQueues
from tests.integration.conftest import MakeApi, MakeFunction
from tests.support.postgres import admin_execute
from tests.support.scrape import creator
from tests.support.stack import SupabaseStandIn, queue_messages


def test_a_handle_change_made_while_sqs_is_down_is_still_scraped(
    db: Database,
    queues: LocalQueues,
    supabase: SupabaseStandIn,
    make_api: MakeApi,
    make_function: MakeFunction,
    user: str,
    token: str,
) -> None:
    # Given the queue is unreachable when the user links a handle
    reply = make_api(AWS_ENDPOINT_URL_SQS="http://127.0.0.1:9").request(
        "PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"}
    )
    assert reply.status == 200
    assert queue_messages(queues) == []
    # When LOST_AFTER_SECONDS have passed and the reconciler runs with the queue back
    admin_execute(
        db.url, "update public.creator_profiles set scrape_requested_at = now() - interval '301 seconds'"
    )
    assert make_function("ReconcilerFunction")({"id": "run-1"}) == {"claimed": 1, "sent": 1, "unsent": 0}
    # and the worker takes the message
    worker = make_function("ScrapeWorkerFunction")
    assert SqsEventSource(queues.client(), queues.queue_url, worker).poll_once() == {"batchItemFailures": []}
    # Then the profile is scraped
    row = creator(db, user)
    assert (row["scrape_status"], row["followers"]) == ("succeeded", 15300)
