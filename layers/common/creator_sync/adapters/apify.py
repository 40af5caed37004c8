"""The Apify adapter: one run of the TikTok profile actor for a batch of handles
(shared/reference/apify.md); the items are mapped by `scraping.profile_items`.

The run is started, waited for at most the time the Lambda can spare, and aborted if it is still
going: a run is never left behind. Items are read with `fields` limited to what is mapped. A run
that fails as a whole is reported as an outage (no handle's fault), with the run's record for the
ledger whenever a run was started.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apify_client import ApifyClient
from apify_client.errors import ApifyApiError

from creator_sync.observability import logger
from creator_sync.scraping.profile_items import ITEM_FIELDS, map_items
from creator_sync.scraping.results import RunRecord, RunReport

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})


class ProfileScraper(Protocol):
    def scrape(self, handles: list[str], wait_seconds: float) -> RunReport: ...


class ApifyProfileScraper:
    def __init__(
        self,
        client: ApifyClient,
        actor_id: str,
        *,
        run_timeout_seconds: int,
        memory_mbytes: int,
    ) -> None:
        self._client = client
        self._actor_id = actor_id
        self._run_timeout = timedelta(seconds=run_timeout_seconds)
        self._memory = memory_mbytes

    def scrape(self, handles: list[str], wait_seconds: float) -> RunReport:
        started = time.monotonic()
        run: Any = None
        try:
            run = self._client.actor(self._actor_id).start(
                run_input=actor_input(handles),
                max_items=len(handles),
                memory_mbytes=self._memory,
                run_timeout=self._run_timeout,
            )
            finished = self._client.run(run.id).wait_for_finish(
                wait_duration=timedelta(seconds=max(wait_seconds - (time.monotonic() - started), 1))
            )
            if finished is None:
                return self._outage(handles, "the actor run vanished", run, started)
            status = _status(finished)
            if status not in TERMINAL_STATUSES:
                self._abort(run.id)
                reason = "the actor run did not finish in time and was aborted"
                return self._outage(handles, reason, finished, started, "ABORTED")
            if status != "SUCCEEDED":
                return self._outage(handles, f"the actor run ended {status}", finished, started)
            items = (
                self._client.dataset(finished.default_dataset_id)
                .list_items(fields=ITEM_FIELDS, limit=max(len(handles) * 2, 10))
                .items
            )
            return RunReport(
                map_items(handles, items), self._record(handles, finished), time.monotonic() - started
            )
        except Exception as exc:  # any upstream failure (API error after retries, transport)
            if run is not None and _status(run) not in TERMINAL_STATUSES:
                self._abort(run.id)
            reason = f"Apify API error: {_describe(exc)}"
            logger.warning("apify call failed", extra={"reason": reason, "run_id": getattr(run, "id", None)})
            return self._outage(handles, reason, run, started)

    def _outage(
        self, handles: list[str], reason: str, run: Any, started: float, status: str | None = None
    ) -> RunReport:
        record = self._record(handles, run, status) if run is not None else None
        return RunReport({}, record, time.monotonic() - started, outage=reason)

    def _record(self, handles: list[str], run: Any, status: str | None = None) -> RunRecord:
        cost = getattr(run, "usage_total_usd", None)
        return RunRecord(
            run_id=str(run.id),
            actor_id=self._actor_id,
            handles=list(handles),
            started_at=_utc(getattr(run, "started_at", None)) or datetime.now(UTC),
            finished_at=_utc(getattr(run, "finished_at", None)),
            status=status or _status(run),
            usage_usd=float(cost) if cost is not None else None,
        )

    def _abort(self, run_id: str) -> None:
        try:
            self._client.run(run_id).abort()
            logger.info("aborted an unfinished actor run", extra={"run_id": run_id})
        except Exception as exc:
            logger.error("could not abort actor run", extra={"run_id": run_id, "reason": _describe(exc)})


def actor_input(handles: list[str]) -> dict[str, Any]:
    return {
        "profiles": handles,
        "resultsPerPage": 1,
        "excludePinnedPosts": False,
        "shouldDownloadVideos": False,
        "shouldDownloadCovers": False,
        "shouldDownloadAvatars": False,
    }


def _status(run: Any) -> str:
    status = getattr(run, "status", "")
    return str(getattr(status, "value", status))


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApifyApiError):
        return f"{exc.status_code} {exc.type or ''}".strip()
    return type(exc).__name__
