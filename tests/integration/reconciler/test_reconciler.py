"""The reconciler: lost scrapes are sent again, stale profiles get a new generation, concurrent runs
never send one row twice, and a failed send is picked up by a later run [R8]."""

from __future__ import annotations

import json
import threading
from typing import Any

from devstack.database import Database
from devstack.sqs import LocalQueues
from tests.integration.conftest import MakeFunction
from tests.support.postgres import admin_execute, new_user
from tests.support.scrape import creator, link_handle
from tests.support.stack import drain, message_bodies, queue_messages

SCHEDULE_EVENT = {
    "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "time": "2026-11-24T09:00:00Z",
    "detail": {},
}


def age(db: Database, user_id: str, column: str, seconds: int) -> None:
    admin_execute(
        db.url,
        f"update public.creator_profiles set {column} = now() - make_interval(secs => %s) where user_id = %s",
        (seconds, user_id),
    )


def lost_scrape(db: Database, handle: str) -> str:
    """A handle change that was committed but whose message never reached the queue."""
    user = new_user(db.url)
    link_handle(db, user, handle)
    age(db, user, "scrape_requested_at", 301)
    return user


def test_a_lost_scrape_is_sent_again_at_its_generation(
    db: Database, queues: LocalQueues, make_reconciler: MakeFunction
) -> None:
    user = lost_scrape(db, "lost.one")
    young = new_user(db.url)
    link_handle(db, young, "young.one")
    report = make_reconciler()(SCHEDULE_EVENT)
    assert report == {"claimed": 1, "sent": 1, "unsent": 0}
    messages = queue_messages(queues)
    body = json.loads(messages[0]["Body"])
    assert (body["user_id"], body["tiktok_handle"], body["generation"], body["reason"]) == (
        user,
        "lost.one",
        1,
        "reconcile",
    )
    assert body["correlation_id"] == f"reconcile-{SCHEDULE_EVENT['id']}"
    assert messages[0]["MessageAttributes"]["correlation_id"]["StringValue"] == body["correlation_id"]
    assert len(messages) == 1


def test_a_stale_profile_gets_a_new_generation_and_is_sent(
    db: Database, queues: LocalQueues, make_reconciler: MakeFunction
) -> None:
    from tests.support.postgres import role_client

    user = new_user(db.url)
    link_handle(db, user, "old.profile")
    with role_client(db.authenticator_url, "service_role", {"role": "service_role"}) as service:
        service.rpc(
            "record_scrape_results",
            p_results=[
                {"user_id": user, "generation": 1, "status": "succeeded", "profile": {"followers": 1}}
            ],
        )
    age(db, user, "next_refresh_at", 1)
    make_reconciler()(SCHEDULE_EVENT)
    bodies = message_bodies(queues)
    assert [(b["user_id"], b["generation"], b["reason"]) for b in bodies] == [(user, 2, "scheduled")]
    row = creator(db, user)
    assert (row["scrape_status"], row["scrape_generation"], row["followers"]) == ("queued", 2, 1)


def test_two_reconcilers_at_once_never_send_the_same_row(
    db: Database, queues: LocalQueues, make_reconciler: MakeFunction
) -> None:
    users = [lost_scrape(db, f"lost.{i}") for i in range(12)]
    reconcile = make_reconciler(RECONCILE_LIMIT="7")
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(reconcile(SCHEDULE_EVENT))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent: list[str] = []
    while batch := queue_messages(queues):
        sent += [json.loads(m["Body"])["user_id"] for m in batch]
        for m in batch:
            queues.client().delete_message(QueueUrl=queues.queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(sent) == sorted(users)
    assert sum(r["sent"] for r in reports) == 12


def test_a_send_failure_leaves_the_row_for_the_next_run(
    db: Database, queues: LocalQueues, make_reconciler: MakeFunction
) -> None:
    # Given a lost scrape and a reconciler whose queue is unreachable
    user = lost_scrape(db, "lost.again")
    report = make_reconciler(AWS_ENDPOINT_URL_SQS="http://127.0.0.1:9")(SCHEDULE_EVENT)
    assert report == {"claimed": 1, "sent": 0, "unsent": 1}
    assert creator(db, user)["scrape_status"] == "queued"
    # When the next run comes after LOST_AFTER_SECONDS with the queue back
    age(db, user, "scrape_requested_at", 301)
    report = make_reconciler()(SCHEDULE_EVENT)
    # Then the scrape is delivered
    assert report == {"claimed": 1, "sent": 1, "unsent": 0}
    assert [b["user_id"] for b in message_bodies(queues)] == [user]


def test_nothing_to_do_sends_nothing(
    db: Database, queues: LocalQueues, make_reconciler: MakeFunction
) -> None:
    link_handle(db, new_user(db.url), "fresh.one")
    assert make_reconciler()(SCHEDULE_EVENT) == {"claimed": 0, "sent": 0, "unsent": 0}
    assert drain(queues) == 0
