"""The reconciler use case (DESIGN §7): claim scrapes that were accepted but never delivered, then
deferred scrapes that are due (Apify outage, spent budget), then profiles due for a refresh — in that
order, through indexes only — and send one message for each.

A claimed row whose send fails stays `queued` with a fresh `scrape_requested_at`, so the next run
after `LOST_AFTER_SECONDS` claims it again: no accepted handle change is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from creator_sync.adapters.scrape_queue import ScrapePublisher, ScrapeRequested
from creator_sync.observability import logger, metrics
from creator_sync.stores.scrapes import RefreshPolicy, ScrapeStore

CLAIM_CHUNK = 100  # rows claimed per round trip: sent before the next chunk is claimed
SEND_RESERVE_SECONDS = 10.0  # what one chunk's claim and sends may take at worst


def _unbounded() -> float:
    return float("inf")


@dataclass(frozen=True)
class ReconcileReport:
    claimed: int
    sent: int
    unsent: int


class Reconciler:
    def __init__(
        self,
        store: ScrapeStore,
        publisher: ScrapePublisher,
        *,
        policy: RefreshPolicy,
        limit: int,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._policy = policy
        self._limit = limit

    def run(self, correlation_id: str, seconds_left: Callable[[], float] = _unbounded) -> ReconcileReport:
        """Claims in chunks and sends each chunk before claiming the next, while the invocation has
        time: a row is claimed only when there is time to send it, so a run that meets its timeout
        leaves nothing claimed and unsent (such rows would wait LOST_AFTER_SECONDS)."""
        claimed = sent = 0
        unsent: list[ScrapeRequested] = []
        while claimed < self._limit and seconds_left() >= SEND_RESERVE_SECONDS:
            chunk = min(CLAIM_CHUNK, self._limit - claimed)
            claims = self._store.claim_reconcile(self._policy, chunk)
            messages = [
                ScrapeRequested(
                    user_id=claim.user_id,
                    tiktok_handle=claim.tiktok_handle,
                    generation=claim.generation,
                    reason=claim.reason,
                    correlation_id=correlation_id,
                )
                for claim in claims
            ]
            failed = self._publisher.publish_many(messages) if messages else []
            claimed += len(claims)
            sent += len(messages) - len(failed)
            unsent.extend(failed)
            if len(claims) < chunk:
                break
        for message in unsent:
            logger.warning(
                "reconciled scrape not sent; the next run will claim it again",
                extra={"user_id": str(message.user_id), "generation": message.generation},
            )
        report = ReconcileReport(claimed=claimed, sent=sent, unsent=len(unsent))
        metrics.add_metric(name="ReconcileClaimed", unit="Count", value=report.claimed)
        metrics.add_metric(name="ReconcileSent", unit="Count", value=report.sent)
        metrics.add_metric(name="ReconcileUnsent", unit="Count", value=report.unsent)
        logger.info(
            "reconcile run done",
            extra={"claimed": report.claimed, "sent": report.sent, "unsent": report.unsent},
        )
        return report
