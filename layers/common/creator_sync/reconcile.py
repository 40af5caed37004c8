"""The reconciler use case (DESIGN §7): claim scrapes that were accepted but never delivered, then
deferred scrapes that are due (Apify outage, spent budget), then profiles due for a refresh — in that
order, through indexes only — and send one message for each.

A claimed row whose send fails stays `queued` with a fresh `scrape_requested_at`, so the next run
after `LOST_AFTER_SECONDS` claims it again: no accepted handle change is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from creator_sync.observability import logger, metrics
from creator_sync.queue import ScrapePublisher, ScrapeRequested
from creator_sync.scrape_store import RefreshPolicy, ScrapeStore


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

    def run(self, correlation_id: str) -> ReconcileReport:
        claims = self._store.claim_reconcile(self._policy, self._limit)
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
        unsent = self._publisher.publish_many(messages) if messages else []
        for message in unsent:
            logger.warning(
                "reconciled scrape not sent; the next run will claim it again",
                extra={"user_id": str(message.user_id), "generation": message.generation},
            )
        report = ReconcileReport(claimed=len(claims), sent=len(messages) - len(unsent), unsent=len(unsent))
        metrics.add_metric(name="ReconcileClaimed", unit="Count", value=report.claimed)
        metrics.add_metric(name="ReconcileSent", unit="Count", value=report.sent)
        metrics.add_metric(name="ReconcileUnsent", unit="Count", value=report.unsent)
        logger.info(
            "reconcile run done",
            extra={"claimed": report.claimed, "sent": report.sent, "unsent": report.unsent},
        )
        return report
