"""The reconciler claims only what it has time to send (DESIGN §7): chunk by chunk, each sent before
the next is claimed, stopping while enough time is left; nothing is left claimed and unsent."""

from __future__ import annotations

import uuid

from creator_sync.adapters.scrape_queue import ScrapeRequested
from creator_sync.scraping.reconcile import CLAIM_CHUNK, SEND_RESERVE_SECONDS, Reconciler
from creator_sync.stores.scrapes import ReconcileClaim, RefreshPolicy

POLICY = RefreshPolicy(
    lost_after_seconds=3600,
    refresh_after_seconds=86400,
    inactive_after_days=14,
    inactive_refresh_after_seconds=604800,
)


class Store:
    def __init__(self, due: int) -> None:
        self.due = due
        self.claims: list[int] = []

    def claim_reconcile(self, policy: RefreshPolicy, limit: int) -> list[ReconcileClaim]:
        taken = min(limit, self.due)
        self.due -= taken
        self.claims.append(taken)
        return [
            ReconcileClaim(user_id=uuid.uuid4(), tiktok_handle=f"h.{i}", generation=1, reason="scheduled")
            for i in range(taken)
        ]


class Publisher:
    def __init__(self) -> None:
        self.sent: list[ScrapeRequested] = []

    def publish_many(self, messages: list[ScrapeRequested]) -> list[ScrapeRequested]:
        self.sent.extend(messages)
        return []


def test_every_claim_is_sent_before_the_next_and_the_limit_holds() -> None:
    store, publisher = Store(due=1_000), Publisher()
    report = Reconciler(store, publisher, policy=POLICY, limit=350).run("c")  # type: ignore[arg-type]
    assert store.claims == [CLAIM_CHUNK, CLAIM_CHUNK, CLAIM_CHUNK, 50]
    assert (report.claimed, report.sent, report.unsent) == (350, 350, 0)
    assert len(publisher.sent) == 350


def test_a_run_short_of_time_stops_claiming_and_leaves_nothing_unsent() -> None:
    store, publisher = Store(due=1_000), Publisher()
    clock = iter([60.0, 40.0, SEND_RESERVE_SECONDS - 1, 0.0])
    report = Reconciler(store, publisher, policy=POLICY, limit=1_000).run(  # type: ignore[arg-type]
        "c", seconds_left=lambda: next(clock)
    )
    assert store.claims == [CLAIM_CHUNK, CLAIM_CHUNK]
    assert (report.claimed, report.sent, report.unsent) == (200, 200, 0)
    assert store.due == 800  # still due: the next run takes them, nothing waits LOST_AFTER_SECONDS


def test_an_empty_backlog_costs_one_claim() -> None:
    store = Store(due=0)
    report = Reconciler(store, Publisher(), policy=POLICY, limit=500).run("c")  # type: ignore[arg-type]
    assert store.claims == [0]
    assert report.claimed == 0
