"""The scrape batch use case (DESIGN §6): parse, keep what is still current, serve what another
user's fresh scrape already answers, check the daily Apify budget, one actor run for every distinct
remaining handle, one write for every result (and the run's ledger entry), and a verdict per record.

Cost is bounded by construction [R10]: a handle costs at most one run per receive; a run that fails
as a whole (an Apify outage) and a spent budget defer the batch — rows stay `queued` with the
reason and a `retry_at`, messages are acknowledged, no receive is burnt — and the reconciler
resumes them. The batch-wide work happens first; Powertools' BatchProcessor then reports each
record's verdict as a partial batch response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json, ValidationError

from creator_sync.adapters.apify import ProfileScraper
from creator_sync.adapters.scrape_queue import ScrapeRequested
from creator_sync.errors import ApiError
from creator_sync.observability import logger, metrics
from creator_sync.scraping.results import HandleResult, RunRecord
from creator_sync.stores.scrapes import ScrapeResultRow, ScrapeStore

STATUS_METRICS = {
    "succeeded": "ScrapeSucceeded",
    "not_found": "ScrapeNotFound",
    "private": "ScrapePrivate",
    "failed": "ScrapeFailed",
    "deferred": "ScrapeDeferred",
}


class ScrapeRecord(SqsRecordModel):
    """An SQS record whose body is a scrape request (parsed with Powertools' parser)."""

    body: Json[ScrapeRequested]


@dataclass
class BatchVerdicts:
    """Message id → the reason it failed; every other record of the batch succeeded."""

    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, message_id: str, reason: str) -> None:
        self.failures[message_id] = reason


@dataclass(frozen=True)
class _Request:
    message_id: str
    message: ScrapeRequested
    receive_count: int

    @property
    def key(self) -> tuple[UUID, int]:
        return (self.message.user_id, self.message.generation)


@dataclass(frozen=True)
class CostGuard:
    """The worker's spending rules: reuse window, daily budget (scheduled refreshes stop at
    `scheduled_share` of it, everything at all of it) and the outage back-off."""

    reuse_seconds: int = 600
    daily_budget_usd: float = 100.0
    scheduled_share: float = 0.8
    outage_backoff_seconds: int = 60
    outage_backoff_max_seconds: int = 900


class ScrapeBatch:
    def __init__(
        self, store: ScrapeStore, scraper: ProfileScraper, max_receives: int, guard: CostGuard | None = None
    ) -> None:
        self._store = store
        self._scraper = scraper
        self._max_receives = max_receives
        self._guard = guard or CostGuard()

    def run(self, records: list[dict[str, Any]], wait_seconds: Callable[[], float]) -> BatchVerdicts:
        verdicts = BatchVerdicts()
        requests = self._parse(records, verdicts)
        if not requests:
            return verdicts
        metrics.add_metric(name="ScrapeRequested", unit="Count", value=len(requests))
        try:
            found = self._store.scrape_targets(list({r.key for r in requests}), self._guard.reuse_seconds)
        except ApiError as exc:
            return self._fail_all(requests, verdicts, f"database unavailable: {exc.message}")
        current = {(t.user_id, t.generation): t.tiktok_handle for t in found.targets}
        reused = {(t.user_id, t.generation) for t in found.reused}
        live = []
        for request in requests:
            if request.key in current:
                live.append(request)
            elif request.key in reused:
                with correlation(request.message.correlation_id):
                    logger.info("served from another user's fresh scrape", extra=_fields(request))
                metrics.add_metric(name="ScrapeReused", unit="Count", value=1)
            else:
                with correlation(request.message.correlation_id):
                    logger.info("stale scrape request skipped", extra=_fields(request))
                metrics.add_metric(name="ScrapeSkippedStale", unit="Count", value=1)
        if not live:
            return verdicts
        live, over_budget = self._within_budget(live, found.spent_today_usd)
        if over_budget:
            reason = "deferred: the daily Apify budget is spent; resumes after midnight UTC"
            self._defer(over_budget, verdicts, reason, retry_at=_next_utc_midnight())
        if not live:
            return verdicts
        handles = sorted({current[r.key] for r in live})
        logger.info(
            "starting one actor run",
            extra={
                "handles": len(handles),
                "records": len(live),
                "correlation_ids": sorted({r.message.correlation_id for r in live}),
            },
        )
        report = self._scraper.scrape(handles, wait_seconds())
        if report.run is not None:
            metrics.add_metric(name="ApifyRuns", unit="Count", value=1)
            metrics.add_metric(name="ApifyRunSeconds", unit="Seconds", value=round(report.run_seconds, 3))
        if report.cost_usd is not None:
            metrics.add_metric(name="ApifyCostUsd", unit="None", value=report.cost_usd)
        run_reason = "scheduled" if all(r.message.reason == "scheduled" for r in live) else "requested"
        if report.outage is not None:
            logger.warning("apify outage: deferring the batch", extra={"reason": report.outage})
            return self._defer(
                live, verdicts, f"deferred: {report.outage}", run=report.run, run_reason=run_reason
            )
        return self._record(live, current, report.results, verdicts, run=report.run, run_reason=run_reason)

    def _within_budget(self, live: list[_Request], spent_usd: float) -> tuple[list[_Request], list[_Request]]:
        """(may run, must wait): scheduled refreshes stop first, then everything."""
        budget = self._guard.daily_budget_usd
        if spent_usd >= budget:
            metrics.add_metric(name="ApifyBudgetExhausted", unit="Count", value=1)
            logger.warning("daily Apify budget spent", extra={"spent_usd": spent_usd, "budget_usd": budget})
            return [], live
        if spent_usd >= budget * self._guard.scheduled_share:
            scheduled = [r for r in live if r.message.reason == "scheduled"]
            if scheduled:
                metrics.add_metric(name="ApifyBudgetExhausted", unit="Count", value=1)
                logger.warning(
                    "scheduled refreshes paused: the budget's share for them is spent",
                    extra={"spent_usd": spent_usd, "budget_usd": budget},
                )
            return [r for r in live if r.message.reason != "scheduled"], scheduled
        return live, []

    def _defer(
        self,
        requests: list[_Request],
        verdicts: BatchVerdicts,
        reason: str,
        *,
        retry_at: datetime | None = None,
        run: RunRecord | None = None,
        run_reason: str = "requested",
    ) -> BatchVerdicts:
        """Rows stay queued with the reason, for the reconciler; the messages are acknowledged."""
        rows = {
            r.key: ScrapeResultRow(
                user_id=r.key[0],
                generation=r.key[1],
                status="deferred",
                error=reason,
                retry_at=retry_at,
                retry_after_seconds=None if retry_at else self._guard.outage_backoff_seconds,
                retry_max_seconds=None if retry_at else self._guard.outage_backoff_max_seconds,
            )
            for r in requests
        }
        try:
            self._store.record_scrape_results(list(rows.values()), run, run_reason)
        except ApiError as exc:
            return self._fail_all(requests, verdicts, f"database unavailable: {exc.message}")
        metrics.add_metric(name="ScrapeDeferred", unit="Count", value=len(rows))
        for request in requests:
            with correlation(request.message.correlation_id):
                logger.info("scrape deferred", extra=_fields(request) | {"reason": reason})
        return verdicts

    def _record(
        self,
        live: list[_Request],
        current: dict[tuple[UUID, int], str],
        results: dict[str, HandleResult],
        verdicts: BatchVerdicts,
        *,
        run: RunRecord | None,
        run_reason: str,
    ) -> BatchVerdicts:
        rows: dict[tuple[UUID, int], ScrapeResultRow] = {}
        retry: list[tuple[_Request, str]] = []
        for request in live:
            key = request.key
            result = results[current[key]]
            if result.is_final:
                rows[key] = ScrapeResultRow(
                    user_id=key[0],
                    generation=key[1],
                    status=result.status.value,
                    profile=result.profile,
                    error=result.error,
                )
                continue
            reason = result.error or "transient scrape failure"
            retry.append((request, reason))
            if request.receive_count >= self._max_receives:  # last receive: never queued forever [R6]
                rows.setdefault(
                    key, ScrapeResultRow(user_id=key[0], generation=key[1], status="failed", error=reason)
                )
        try:
            applied = self._store.record_scrape_results(list(rows.values()), run, run_reason)
        except ApiError as exc:
            return self._fail_all(live, verdicts, f"database unavailable: {exc.message}")
        written = {(a.user_id, a.generation) for a in applied if a.applied}
        for a in applied:
            if a.rejected:
                logger.error(
                    "the database refused a scrape result",
                    extra={"user_id": str(a.user_id), "generation": a.generation, "reason": a.rejected},
                )
        for key, row in rows.items():
            if key in written:
                metrics.add_metric(name=STATUS_METRICS[row.status], unit="Count", value=1)
        for request, reason in retry:
            with correlation(request.message.correlation_id):
                final = request.receive_count >= self._max_receives
                logger.warning(
                    "scrape failed; leaving the message to SQS"
                    + (" (last receive: written as failed)" if final else ""),
                    extra=_fields(request) | {"reason": reason},
                )
            verdicts.fail(request.message_id, reason)
        for request in live:
            if request.message_id not in verdicts.failures:
                with correlation(request.message.correlation_id):
                    logger.info("scrape recorded", extra=_fields(request))
        return verdicts

    def _parse(self, records: list[dict[str, Any]], verdicts: BatchVerdicts) -> list[_Request]:
        requests = []
        for record in records:
            message_id = str(record.get("messageId", ""))
            correlation_id = _attribute(record, "correlation_id")
            try:
                parsed = parse(event=record, model=ScrapeRecord)
            except ValidationError as exc:
                with correlation(correlation_id):
                    logger.error(
                        "poison message: not a scrape request",
                        extra={"message_id": message_id, "errors": [e["msg"] for e in exc.errors()][:5]},
                    )
                verdicts.fail(message_id, "malformed scrape request")
                continue
            requests.append(_Request(message_id, parsed.body, int(parsed.attributes.ApproximateReceiveCount)))
        return requests

    def _fail_all(self, requests: list[_Request], verdicts: BatchVerdicts, reason: str) -> BatchVerdicts:
        for request in requests:
            with correlation(request.message.correlation_id):
                logger.warning(
                    "scrape not recorded; leaving the message to SQS",
                    extra=_fields(request) | {"reason": reason},
                )
            verdicts.fail(request.message_id, reason)
        return verdicts


@contextmanager
def correlation(correlation_id: str | None) -> Iterator[None]:
    """Log lines inside carry this record's correlation id (from the API request that caused it)."""
    previous = logger.get_correlation_id()
    logger.set_correlation_id(correlation_id)
    try:
        yield
    finally:
        logger.set_correlation_id(previous)


def _attribute(record: dict[str, Any], name: str) -> str | None:
    attribute = (record.get("messageAttributes") or {}).get(name) or {}
    value = attribute.get("stringValue") if isinstance(attribute, dict) else None
    return str(value) if value else None


def _next_utc_midnight() -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def _fields(request: _Request) -> dict[str, Any]:
    return {
        "message_id": request.message_id,
        "user_id": str(request.message.user_id),
        "generation": request.message.generation,
        "tiktok_handle": request.message.tiktok_handle,
        "receive_count": request.receive_count,
    }
