"""The worker end to end: moto's SQS server, the event source mapping stand-in, the real handler, the
Apify stand-in through the real apify-client, and PostgreSQL through the PostgREST stand-in."""

from __future__ import annotations

import json
import time

import pytest

from devstack.apify import ApifyStandIn
from devstack.database import Database
from devstack.event_source import SqsEventSource
from devstack.sqs import LocalQueues
from tests.support.postgres import new_user
from tests.support.scrape import creator, link_handle, request_scrape, send
from tests.support.stack import SupabaseStandIn, queue_messages


def wait_visible(seconds: float = 2.2) -> None:
    """Let failed records come back (the test queue's visibility timeout is 2 s)."""
    time.sleep(seconds)


def test_ten_records_with_seven_handles_make_one_run_with_seven_profiles(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    supabase: SupabaseStandIn,
    worker_source: SqsEventSource,
) -> None:
    # Given ten requests: seven distinct handles, three of them requested by a second user too
    handles = [f"creator.{i}" for i in range(7)]
    messages = [request_scrape(db, queues, h) for h in handles]
    messages += [request_scrape(db, queues, h) for h in handles[:3]]
    calls_before = sum(supabase.postgrest.calls.values())
    # When the worker takes them in one batch
    response = worker_source.poll_once(wait_seconds=1)
    # Then exactly one actor run was made, for the seven profiles
    assert response == {"batchItemFailures": []}
    assert len(apify.runs) == 1
    run = next(iter(apify.runs.values()))
    assert sorted(run.profiles) == handles
    # with two database calls for the whole batch, and every user's row written
    assert sum(supabase.postgrest.calls.values()) - calls_before == 2
    for message in messages:
        row = creator(db, message.user_id)
        assert row["scrape_status"] == "succeeded"
        assert row["tiktok_user_id"]
        assert row["followers"] is not None
    assert queue_messages(queues) == []


def test_every_mapped_field_is_written(
    db: Database, queues: LocalQueues, worker_source: SqsEventSource
) -> None:
    message = request_scrape(db, queues, "jane.doe")
    worker_source.poll_once()
    row = creator(db, message.user_id)
    assert {
        k: row[k]
        for k in (
            "tiktok_user_id",
            "display_name",
            "avatar_url",
            "bio",
            "followers",
            "following",
            "hearts",
            "videos",
            "verified",
            "private_account",
            "scrape_status",
            "scrape_error",
        )
    } == {
        "tiktok_user_id": "6812345678901234567",
        "display_name": "Jane Doe",
        "avatar_url": "https://p16-sign-va.tiktokcdn.com/avatar/jane.jpeg?x-expires=1795600000",
        "bio": "coffee | travel | 10-minute recipes",
        "followers": 15300,
        "following": 180,
        "hearts": 412000,
        "videos": 87,
        "verified": False,
        "private_account": False,
        "scrape_status": "succeeded",
        "scrape_error": None,
    }
    assert row["scraped_at"] is not None


def test_a_profile_without_videos_succeeds(
    db: Database, queues: LocalQueues, worker_source: SqsEventSource
) -> None:
    message = request_scrape(db, queues, "no.videos")
    worker_source.poll_once()
    row = creator(db, message.user_id)
    assert (row["scrape_status"], row["videos"], row["display_name"]) == ("succeeded", 0, "Nobody Posts")


def test_not_found_and_private_are_written_and_not_retried(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    ghost = request_scrape(db, queues, "ghost.user")
    private = request_scrape(db, queues, "private.user")
    response = worker_source.poll_once(wait_seconds=1)
    assert response == {"batchItemFailures": []}
    ghost_row, private_row = creator(db, ghost.user_id), creator(db, private.user_id)
    assert (ghost_row["scrape_status"], ghost_row["scrape_error"]) == (
        "not_found",
        "This profile/hashtag does not exist.",
    )
    assert (private_row["scrape_status"], private_row["private_account"]) == ("private", True)
    wait_visible()
    assert queue_messages(queues) == []
    assert worker_source.poll_once(wait_seconds=0) is None
    assert len(apify.runs) == 1


def test_a_handle_missing_from_a_run_fails_the_record_and_a_later_receive_succeeds(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    # Given a run that succeeds but holds no item for the handle
    apify.inject("empty_dataset")
    message = request_scrape(db, queues, "jane.doe")
    # When the worker takes the message
    first = worker_source.poll_once()
    # Then the record is reported failed (SQS retries it) and the row is untouched, still queued
    assert first is not None
    assert len(first["batchItemFailures"]) == 1
    assert creator(db, message.user_id)["scrape_status"] == "queued"
    # and the next receive, with a healthy run, succeeds
    wait_visible()
    second = worker_source.poll_once()
    assert second == {"batchItemFailures": []}
    assert creator(db, message.user_id)["scrape_status"] == "succeeded"


@pytest.mark.parametrize(
    ("fault", "count", "reason"),
    [
        ("run_failed", 1, "deferred: the actor run ended FAILED"),
        ("http_429", 3, "deferred: Apify API error: 429 rate-limit-exceeded"),
        ("http_500", 3, "deferred: Apify API error: 500 internal-server-error"),
    ],
)
def test_a_run_that_fails_as_a_whole_defers_the_batch_without_burning_a_receive(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    worker_source: SqsEventSource,
    fault: str,
    count: int,
    reason: str,
) -> None:
    # Given Apify failing as a whole (3 x for HTTP errors: the client's attempts)
    apify.inject(fault, count=count)
    message = request_scrape(db, queues, "jane.doe")
    # When the worker takes the message
    response = worker_source.poll_once()
    # Then the message is acknowledged (no receive burnt toward failed, nothing left in SQS)
    assert response == {"batchItemFailures": []}
    wait_visible()
    assert queue_messages(queues) == []
    # and the row stays queued with the reason and a retry time for the reconciler
    row = creator(db, message.user_id)
    assert (row["scrape_status"], row["scrape_error"], row["scrape_deferrals"]) == ("queued", reason, 1)
    assert row["retry_at"] is not None
    assert row["retry_at"] > row["updated_at"]


def test_a_run_that_never_finishes_is_aborted_and_the_batch_deferred(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, make_worker: object
) -> None:
    # Given a worker with little time left (the wait is bounded by the Lambda's remaining time)
    from devstack.event_source import SqsEventSource as Source

    # (a 117 s margin leaves a 3 s wait; the declared timeout is raised so the start-up rule
    # "one full run fits the timeout" still holds for this configuration)
    worker = make_worker(WAIT_MARGIN_SECONDS="117", WORKER_TIMEOUT_SECONDS="300")  # type: ignore[operator]
    source = Source(queues.client(), queues.queue_url, worker, batching_window_seconds=0.2)
    apify.inject("never_finishes")
    message = request_scrape(db, queues, "jane.doe")
    started = time.monotonic()
    response = source.poll_once()
    # Then the run was aborted, not left behind, and the batch deferred (an outage, not the handle's fault)
    assert time.monotonic() - started < 10
    assert response == {"batchItemFailures": []}
    assert [run.status for run in apify.runs.values()] == ["ABORTED"]
    row = creator(db, message.user_id)
    assert (row["scrape_status"], row["scrape_error"]) == (
        "queued",
        "deferred: the actor run did not finish in time and was aborted",
    )


def test_on_the_last_receive_the_row_is_failed_and_the_message_ends_in_the_dlq(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    # Given a handle the actor never returns an item for
    message = request_scrape(db, queues, "flaky.user")
    # When the worker receives it as many times as the redrive policy allows
    for receive in range(1, queues.max_receives + 1):
        response = worker_source.poll_once(wait_seconds=1)
        assert response is not None, f"receive {receive} got nothing"
        assert len(response["batchItemFailures"]) == 1
        row = creator(db, message.user_id)
        expected = "failed" if receive == queues.max_receives else "queued"
        assert row["scrape_status"] == expected, receive
        wait_visible()
    # Then the row says why, and SQS moved the message to the DLQ
    assert creator(db, message.user_id)["scrape_error"] == "the actor run returned no item for this handle"
    assert worker_source.poll_once(wait_seconds=0.5) is None
    dead = queue_messages(queues, queues.dlq_url)
    assert [json.loads(m["Body"])["tiktok_handle"] for m in dead] == ["flaky.user"]


def test_a_poison_body_fails_and_ends_in_the_dlq_with_its_message_id_logged(
    db: Database, queues: LocalQueues, worker_source: SqsEventSource, capfd: object
) -> None:
    from tests.support.logs import captured_logs

    client = queues.client()
    poison_id = client.send_message(
        QueueUrl=queues.queue_url, MessageBody='{"type": "scrape_requested", "version": 2}'
    )["MessageId"]
    good = request_scrape(db, queues, "jane.doe")
    with captured_logs() as logs:
        first = worker_source.poll_once(wait_seconds=1)
    assert first == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert creator(db, good.user_id)["scrape_status"] == "succeeded"
    errors = [r for r in logs.records if r["level"] == "ERROR"]
    assert [e["message_id"] for e in errors] == [poison_id]
    for _ in range(queues.max_receives - 1):
        wait_visible()
        worker_source.poll_once(wait_seconds=1)
    wait_visible()
    assert worker_source.poll_once(wait_seconds=0.5) is None
    assert [m["MessageId"] for m in queue_messages(queues, queues.dlq_url)] == [poison_id]


def test_a_stale_generation_makes_no_apify_call_and_writes_nothing(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    # Given a request for a handle the user changed again before the worker ran
    old = request_scrape(db, queues, "old.name")
    link_handle(db, str(old.user_id), "new.name")
    before = creator(db, old.user_id)
    # When the worker takes the stale message
    response = worker_source.poll_once()
    # Then it succeeds without a run and leaves the row alone
    assert response == {"batchItemFailures": []}
    assert apify.runs == {}
    assert creator(db, old.user_id) == before


def test_the_same_message_again_after_success_starts_no_second_run(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    message = request_scrape(db, queues, "jane.doe")
    worker_source.poll_once()
    after_first = creator(db, message.user_id)
    send(queues, message)  # SQS delivers at least once
    response = worker_source.poll_once()
    assert response == {"batchItemFailures": []}
    assert len(apify.runs) == 1
    assert creator(db, message.user_id) == after_first


def test_a_database_outage_fails_every_record_and_writes_nothing(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    supabase: SupabaseStandIn,
    worker_source: SqsEventSource,
) -> None:
    messages = [request_scrape(db, queues, h) for h in ("jane.doe", "ghost.user", "someone.else")]
    before = [creator(db, m.user_id) for m in messages]
    supabase.postgrest.database_down = True
    try:
        response = worker_source.poll_once(wait_seconds=1)
    finally:
        supabase.postgrest.database_down = False
    assert response is not None
    assert len(response["batchItemFailures"]) == 3
    assert [creator(db, m.user_id) for m in messages] == before
    assert apify.runs == {}


def test_a_database_outage_while_recording_fails_every_record(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, supabase: SupabaseStandIn, make_worker: object
) -> None:
    # Given the database goes away after the targets were read (during the actor run)
    from devstack.event_source import SqsEventSource as Source

    message = request_scrape(db, queues, "jane.doe")
    original = apify.start_run

    def start_then_break(*args: object, **kwargs: object) -> dict[str, object]:
        supabase.postgrest.database_down = True
        return original(*args, **kwargs)  # type: ignore[arg-type]

    apify.start_run = start_then_break  # type: ignore[method-assign]
    try:
        source = Source(queues.client(), queues.queue_url, make_worker(), batching_window_seconds=0.2)  # type: ignore[operator]
        response = source.poll_once()
    finally:
        supabase.postgrest.database_down = False
        apify.start_run = original  # type: ignore[method-assign]
    assert response is not None
    assert len(response["batchItemFailures"]) == 1
    assert creator(db, message.user_id)["scrape_status"] == "queued"


def test_a_new_user_with_no_request_is_untouched(db: Database, worker_source: SqsEventSource) -> None:
    user = new_user(db.url)
    assert worker_source.poll_once(wait_seconds=0.2) is None
    assert link_handle(db, user, None) is None
