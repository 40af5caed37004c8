"""The worker under a hostile upstream and a spent budget [R9] [R10], through the real handler, the
real apify-client against the stand-in, PostgREST and SQS: actor runs are counted."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from creator_sync.adapters.scrape_queue import ScrapeRequested

from devstack.apify import ApifyStandIn
from devstack.database import Database
from devstack.event_source import SqsEventSource
from devstack.sqs import LocalQueues
from tests.integration.api.test_observability import emf_documents, metric_total
from tests.integration.conftest import MakeFunction
from tests.support.postgres import admin_execute, admin_rows, new_user
from tests.support.scrape import creator, link_handle, request_scrape, send
from tests.support.stack import queue_messages


def author(handle: str, **extra: Any) -> dict[str, Any]:
    return {"id": "6812", "name": handle, "nickName": "Jane", "fans": 10, "heart": 20, "video": 3} | extra


def poisoned(handle: str, **extra: Any) -> list[Any]:
    return [{"input": handle, "authorMeta": author(handle, **extra)}]


def drain_source(source: SqsEventSource, seconds: float) -> None:
    """Poll like the event source mapping until the queue stays empty for a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        source.poll_once(wait_seconds=1)


def test_one_poisoned_profile_never_touches_its_three_batch_mates(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    # Given one handle whose profile is poisoned in every way at once, batched with three honest ones
    apify.item_overrides["poison.ed"] = poisoned(
        "poison.ed",
        fans=1e20,
        heart="²",
        video="12K",
        nickName="\ud800Ja\x00ne",
        signature="bio\x00\x1b",
        avatar="http://insecure.test/a.jpg",
        verified="true",
    )
    honest = [request_scrape(db, queues, h) for h in ("honest.one", "honest.two", "honest.three")]
    bad = request_scrape(db, queues, "poison.ed")
    # When the worker takes the batch
    response = worker_source.poll_once(wait_seconds=1)
    # Then one run served all four, every record is done, and nothing is retried
    assert response == {"batchItemFailures": []}
    assert len(apify.runs) == 1
    for message in honest:
        row = creator(db, message.user_id)
        assert (row["scrape_status"], row["tiktok_user_id"]) == ("succeeded", row["tiktok_user_id"])
        assert row["followers"] is not None
    # and the poisoned one was stored sanitised: bad values null, texts cleaned
    row = creator(db, bad.user_id)
    assert row["scrape_status"] == "succeeded"
    assert (row["followers"], row["hearts"], row["videos"], row["avatar_url"], row["verified"]) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert (row["display_name"], row["bio"]) == ("Jane", "bio")


@pytest.mark.parametrize(
    ("items", "error"),
    [
        (poisoned("poison.ed", id=None), "no valid TikTok user id"),
        (poisoned("poison.ed", id="1") + poisoned("poison.ed", id="2"), "conflicting profiles"),
    ],
)
def test_an_unusable_profile_is_terminal_for_its_generation(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    worker_source: SqsEventSource,
    items: list[Any],
    error: str,
) -> None:
    # Given a handle the upstream answers with an unusable profile, and an honest batch-mate
    # (max_items caps a run at one item per handle, so conflicting twins arrive in a run whose
    # other handle got no item: that batch-mate is then retried on its own)
    apify.item_overrides["poison.ed"] = items
    if len(items) > 1:
        apify.item_overrides["honest.one"] = []
    bad = request_scrape(db, queues, "poison.ed")
    good = request_scrape(db, queues, "honest.one")
    # When the worker runs until the queue is quiet
    drain_source(worker_source, 5)
    # Then the bad handle is failed with a readable reason after one run, never retried
    row = creator(db, bad.user_id)
    assert row["scrape_status"] == "failed"
    assert error in row["scrape_error"]
    assert sum("poison.ed" in run.profiles for run in apify.runs.values()) == 1
    if len(items) == 1:
        assert len(apify.runs) == 1
        assert creator(db, good.user_id)["scrape_status"] == "succeeded"
        assert queue_messages(queues) == []


def test_items_for_handles_nobody_asked_for_are_ignored(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    apify.item_overrides["jane.doe"] = poisoned("jane.doe") + poisoned("stranger.x", id="999", fans=5)
    message = request_scrape(db, queues, "jane.doe")
    worker_source.poll_once()
    assert creator(db, message.user_id)["tiktok_user_id"] == "6812"
    assert admin_rows(db.url, "select count(*) as n from public.creator_profiles")[0]["n"] == 1


def test_a_handle_the_upstream_keeps_failing_costs_one_run_per_receive_then_rests_failed(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    worker_source: SqsEventSource,
    make_reconciler: MakeFunction,
) -> None:
    # Given a handle for which every run holds no item (the stand-in's flaky.user)
    message = request_scrape(db, queues, "flaky.user")
    # When the worker keeps taking it until SQS gives up (5 receives, then the DLQ)
    drain_source(worker_source, 16)
    # Then it cost one run per receive, and the row rests failed (not queued forever)
    assert len(apify.runs) == queues.max_receives
    row = creator(db, message.user_id)
    assert (row["scrape_status"], row["scrape_attempts"]) == ("failed", 1)
    # and the reconciler never brings it back, however long after
    admin_execute(db.url, "update public.creator_profiles set scrape_requested_at = now() - interval '1 day'")
    assert make_reconciler()({"id": "later"}) == {"claimed": 0, "sent": 0, "unsent": 0}
    assert len(apify.runs) == queues.max_receives


def test_a_fresh_scrape_serves_other_users_across_batches_without_a_run(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    # Given a popular handle scraped for its first user
    first = request_scrape(db, queues, "popular.one")
    worker_source.poll_once()
    assert len(apify.runs) == 1
    # When twenty more users link it, each in a later batch
    others = [request_scrape(db, queues, "popular.one") for _ in range(20)]
    drain_source(worker_source, 2)
    # Then no further run was made and every user has the profile
    assert len(apify.runs) == 1
    expected = creator(db, first.user_id)["tiktok_user_id"]
    for message in others:
        row = creator(db, message.user_id)
        assert (row["scrape_status"], row["tiktok_user_id"]) == ("succeeded", expected)


def test_every_run_is_written_to_the_ledger_with_its_cost(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, worker_source: SqsEventSource
) -> None:
    request_scrape(db, queues, "jane.doe")
    request_scrape(db, queues, "bob.bakes")
    worker_source.poll_once(wait_seconds=1)
    (run_id,) = apify.runs
    rows = admin_rows(db.url, "select * from public.apify_runs")
    assert len(rows) == 1
    assert (rows[0]["run_id"], sorted(rows[0]["handles"]), rows[0]["status"], rows[0]["reason"]) == (
        run_id,
        ["bob.bakes", "jane.doe"],
        "SUCCEEDED",
        "requested",
    )
    assert float(rows[0]["usage_usd"]) > 0


def spend_today(db: Database, usd: float) -> None:
    admin_execute(
        db.url,
        "insert into public.apify_runs (run_id, actor_id, handles, reason, started_at, status, usage_usd)"
        " values ('EARLIER', 'a', '{}', 'requested', now(), 'SUCCEEDED', %s)",
        (usd,),
    )


def scheduled_refresh(db: Database, queues: LocalQueues, handle: str) -> ScrapeRequested:
    """A linked handle and the message the reconciler sends when its refresh is due."""
    user = new_user(db.url)
    ticket = link_handle(db, user, handle)
    assert ticket is not None
    message = ScrapeRequested(
        user_id=uuid.UUID(user),
        tiktok_handle=handle,
        generation=ticket["generation"],
        reason="scheduled",
        correlation_id="reconcile-test",
    )
    send(queues, message)
    return message


def test_a_spent_budget_defers_every_scrape_until_midnight_utc(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    make_worker: MakeFunction,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Given today's runs already cost the whole budget
    spend_today(db, 5.0)
    source = SqsEventSource(
        queues.client(),
        queues.queue_url,
        make_worker(APIFY_DAILY_BUDGET_USD="5"),
        batching_window_seconds=0.3,
    )
    message = request_scrape(db, queues, "jane.doe")
    capfd.readouterr()
    # When the worker takes the request
    response = source.poll_once()
    # Then no run starts, the message is acknowledged (no DLQ), the row waits with the reason
    assert response == {"batchItemFailures": []}
    assert apify.runs == {}
    time.sleep(2.2)
    assert queue_messages(queues) == []
    row = creator(db, message.user_id)
    assert row["scrape_status"] == "queued"
    assert row["scrape_error"] == "deferred: the daily Apify budget is spent; resumes after midnight UTC"
    midnight = admin_rows(
        db.url, "select date_trunc('day', now() at time zone 'UTC') + interval '1 day' as m"
    )[0]["m"]
    assert row["retry_at"].replace(tzinfo=None) == midnight
    # and the alarm's metric was emitted
    assert metric_total(emf_documents(capfd.readouterr().out), "ApifyBudgetExhausted") == 1


def test_scheduled_refreshes_stop_first_at_their_share_of_the_budget(
    db: Database, queues: LocalQueues, apify: ApifyStandIn, make_worker: MakeFunction
) -> None:
    # Given 85 % of the budget spent (scheduled refreshes stop at 80 %)
    spend_today(db, 8.5)
    source = SqsEventSource(
        queues.client(),
        queues.queue_url,
        make_worker(APIFY_DAILY_BUDGET_USD="10", SCHEDULED_BUDGET_SHARE="0.8"),
        batching_window_seconds=0.5,
    )
    user_request = request_scrape(db, queues, "jane.doe")
    refresh = scheduled_refresh(db, queues, "bob.bakes")
    # When the worker takes both
    source.poll_once(wait_seconds=1)
    # Then the user's own request ran and the scheduled refresh waits for tomorrow's budget
    assert [run.profiles for run in apify.runs.values()] == [["jane.doe"]]
    assert creator(db, user_request.user_id)["scrape_status"] == "succeeded"
    waiting = creator(db, refresh.user_id)
    assert (waiting["scrape_status"], waiting["scrape_error"]) == (
        "queued",
        "deferred: the daily Apify budget is spent; resumes after midnight UTC",
    )
