"""An Apify outage is not the handles' fault [R10]: during a 2-minute outage the worker defers its
batches (messages acknowledged, no receive burnt, nothing in the DLQ), the reconciler resumes them
with back-off, and once Apify answers every handle ends succeeded with a bounded number of tries.

Runs in real time with the deployed back-off (60 s, doubling): about three minutes."""

from __future__ import annotations

import time
from collections import Counter

from devstack.apify import ApifyStandIn
from devstack.database import Database
from devstack.event_source import SqsEventSource
from devstack.sqs import LocalQueues
from tests.integration.conftest import MakeFunction
from tests.support.scrape import creator, request_scrape
from tests.support.stack import queue_messages

OUTAGE_SECONDS = 120
CLIENT_ATTEMPTS = 3  # the worker's apify-client tries a start three times (two retries)


def test_after_a_two_minute_outage_every_handle_succeeds_with_bounded_tries(
    db: Database,
    queues: LocalQueues,
    apify: ApifyStandIn,
    make_worker: MakeFunction,
    make_reconciler: MakeFunction,
) -> None:
    # Given ten linked handles waiting in the queue and Apify down for two minutes
    messages = [request_scrape(db, queues, f"outage.{i}") for i in range(10)]
    apify.start_outage(OUTAGE_SECONDS)
    started = time.monotonic()
    source = SqsEventSource(queues.client(), queues.queue_url, make_worker(), batching_window_seconds=0.5)
    reconcile = make_reconciler()
    # When the worker polls continuously and the reconciler runs every 10 s (as a schedule would)
    next_reconcile = 0.0
    while time.monotonic() - started < OUTAGE_SECONDS + 150:
        source.poll_once(wait_seconds=1)
        if time.monotonic() >= next_reconcile:
            reconcile({"id": f"tick-{int(time.monotonic())}"})
            next_reconcile = time.monotonic() + 10
        if all(creator(db, m.user_id)["scrape_status"] == "succeeded" for m in messages):
            break
    elapsed = time.monotonic() - started
    # Then every handle succeeded soon after Apify came back
    rows = [creator(db, m.user_id) for m in messages]
    assert [r["scrape_status"] for r in rows] == ["succeeded"] * 10, [r["scrape_error"] for r in rows]
    assert elapsed < OUTAGE_SECONDS + 120
    # with at most three tries per handle: runs started plus starts refused during the outage
    runs_per_handle = Counter(h for run in apify.runs.values() for h in run.profiles)
    refused_tries = apify.refused_starts // CLIENT_ATTEMPTS
    for message in messages:
        assert runs_per_handle[message.tiktok_handle] + refused_tries <= 3
    assert runs_per_handle.total() == 10  # one successful run served all ten
    # and nothing burnt receives toward failed or reached the DLQ
    assert all(r["scrape_attempts"] == 1 for r in rows)
    assert queue_messages(queues) == []
    dlq = queues.client().receive_message(QueueUrl=queues.dlq_url, MaxNumberOfMessages=10)
    assert dlq.get("Messages", []) == []
