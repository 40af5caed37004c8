"""The scrape batch use case (DESIGN §6): parse, keep what is still current, one actor run for every
distinct handle, one write for every result, and a verdict per SQS record.

The batch-wide work happens first; Powertools' BatchProcessor then reports each record's verdict as
a partial batch response. Nothing is silently dropped: a poison body, a transient scrape or a
database outage fails its record, and SQS retries it until the redrive limit moves it to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json, ValidationError

from creator_sync.apify import ProfileScraper
from creator_sync.errors import ApiError
from creator_sync.observability import logger, metrics
from creator_sync.queue import ScrapeRequested
from creator_sync.scrape_results import HandleResult
from creator_sync.scrape_store import ScrapeResultRow, ScrapeStore

STATUS_METRICS = {
    "succeeded": "ScrapeSucceeded",
    "not_found": "ScrapeNotFound",
    "private": "ScrapePrivate",
    "failed": "ScrapeFailed",
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


class ScrapeBatch:
    def __init__(self, store: ScrapeStore, scraper: ProfileScraper, max_receives: int) -> None:
        self._store = store
        self._scraper = scraper
        self._max_receives = max_receives

    def run(self, records: list[dict[str, Any]], wait_seconds: Callable[[], float]) -> BatchVerdicts:
        verdicts = BatchVerdicts()
        requests = self._parse(records, verdicts)
        if not requests:
            return verdicts
        metrics.add_metric(name="ScrapeRequested", unit="Count", value=len(requests))
        try:
            targets = self._store.scrape_targets(
                list({(r.message.user_id, r.message.generation) for r in requests})
            )
        except ApiError as exc:
            return self._fail_all(requests, verdicts, f"database unavailable: {exc.message}")
        current = {(t.user_id, t.generation): t.tiktok_handle for t in targets}
        live = [r for r in requests if (r.message.user_id, r.message.generation) in current]
        for request in requests:
            if request not in live:
                with correlation(request.message.correlation_id):
                    logger.info("stale scrape request skipped", extra=_fields(request))
                metrics.add_metric(name="ScrapeSkippedStale", unit="Count", value=1)
        if not live:
            return verdicts
        handles = sorted({current[(r.message.user_id, r.message.generation)] for r in live})
        logger.info(
            "starting one actor run",
            extra={
                "handles": len(handles),
                "records": len(live),
                "correlation_ids": sorted({r.message.correlation_id for r in live}),
            },
        )
        report = self._scraper.scrape(handles, wait_seconds())
        metrics.add_metric(name="ApifyRuns", unit="Count", value=1)
        metrics.add_metric(name="ApifyRunSeconds", unit="Seconds", value=round(report.run_seconds, 3))
        if report.cost_usd is not None:
            metrics.add_metric(name="ApifyCostUsd", unit="None", value=report.cost_usd)
        return self._record(live, current, report.results, verdicts)

    def _record(
        self,
        live: list[_Request],
        current: dict[tuple[UUID, int], str],
        results: dict[str, HandleResult],
        verdicts: BatchVerdicts,
    ) -> BatchVerdicts:
        rows: dict[tuple[UUID, int], ScrapeResultRow] = {}
        retry: list[tuple[_Request, str]] = []
        for request in live:
            key = (request.message.user_id, request.message.generation)
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
            if (
                request.receive_count >= self._max_receives
            ):  # last receive: the user must not see queued forever
                rows.setdefault(
                    key, ScrapeResultRow(user_id=key[0], generation=key[1], status="failed", error=reason)
                )
        if rows:
            try:
                applied = self._store.record_scrape_results(list(rows.values()))
            except ApiError as exc:
                return self._fail_all(live, verdicts, f"database unavailable: {exc.message}")
            written = {(a.user_id, a.generation) for a in applied if a.applied}
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


def _fields(request: _Request) -> dict[str, Any]:
    return {
        "message_id": request.message_id,
        "user_id": str(request.message.user_id),
        "generation": request.message.generation,
        "tiktok_handle": request.message.tiktok_handle,
        "receive_count": request.receive_count,
    }
