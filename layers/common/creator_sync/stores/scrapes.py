"""The service-role RPC functions the worker and the reconciler call (one call each per batch/run)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import httpx
from pydantic import TypeAdapter

from creator_sync.boundary import BoundaryModel
from creator_sync.scraping.results import RunRecord, ScrapedProfile
from creator_sync.stores.rpc import Rpc

ResultStatus = Literal["succeeded", "not_found", "private", "failed", "deferred"]


class ScrapeTarget(BoundaryModel):
    user_id: UUID
    generation: int
    tiktok_handle: str


class ScrapeTargets(BoundaryModel):
    """The requests that still want a run, those served from another user's fresh result, and
    what Apify has cost today (for the budget)."""

    targets: list[ScrapeTarget]
    reused: list[ScrapeTarget]
    spent_today_usd: float


class ScrapeResultRow(BoundaryModel):
    """One outcome. `deferred` keeps the row queued for the reconciler: at `retry_at`, or after
    `retry_after_seconds` doubled per earlier deferral (at most `retry_max_seconds`)."""

    user_id: UUID
    generation: int
    status: ResultStatus
    profile: ScrapedProfile | None = None
    error: str | None = None
    retry_at: datetime | None = None
    retry_after_seconds: int | None = None
    retry_max_seconds: int | None = None


class AppliedResult(BoundaryModel):
    user_id: UUID
    generation: int
    applied: bool
    rejected: str | None = None


class RefreshPolicy(BoundaryModel):
    """When the reconciler re-sends a scrape: lost after `lost_after_seconds` in `queued`; a
    succeeded profile after `refresh_after_seconds`, or `inactive_refresh_after_seconds` for users
    not seen for `inactive_after_days`."""

    lost_after_seconds: int
    refresh_after_seconds: int
    inactive_after_days: int
    inactive_refresh_after_seconds: int


class ReconcileClaim(BoundaryModel):
    user_id: UUID
    tiktok_handle: str
    generation: int
    reason: Literal["reconcile", "scheduled"]


_applied = TypeAdapter(list[AppliedResult])
_claims = TypeAdapter(list[ReconcileClaim])


class ScrapeStore(Protocol):
    def scrape_targets(self, requests: list[tuple[UUID, int]], reuse_seconds: int) -> ScrapeTargets: ...

    def record_scrape_results(
        self, results: list[ScrapeResultRow], run: RunRecord | None = None, run_reason: str = "requested"
    ) -> list[AppliedResult]: ...

    def claim_reconcile(self, policy: RefreshPolicy, limit: int) -> list[ReconcileClaim]: ...


class PostgrestScrapeStore:
    def __init__(self, rest_url: str, service_role_key: str, http_client: httpx.Client) -> None:
        self._rpc = Rpc(rest_url, service_role_key, service_role_key, http_client)

    def scrape_targets(self, requests: list[tuple[UUID, int]], reuse_seconds: int) -> ScrapeTargets:
        items = [{"user_id": str(user_id), "generation": generation} for user_id, generation in requests]
        data = self._rpc.call("scrape_targets", {"p_items": items, "p_reuse_seconds": reuse_seconds})
        return ScrapeTargets.model_validate(data)

    def record_scrape_results(
        self, results: list[ScrapeResultRow], run: RunRecord | None = None, run_reason: str = "requested"
    ) -> list[AppliedResult]:
        payload = [row.model_dump(mode="json", exclude_none=True) for row in results]
        ledger = None
        if run is not None:
            ledger = {
                "run_id": run.run_id,
                "actor_id": run.actor_id,
                "handles": run.handles,
                "reason": run_reason,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "status": run.status,
                "usage_usd": run.usage_usd,
            }
        data = self._rpc.call("record_scrape_results", {"p_results": payload, "p_run": ledger})
        return _applied.validate_python(data)

    def claim_reconcile(self, policy: RefreshPolicy, limit: int) -> list[ReconcileClaim]:
        data = self._rpc.call(
            "claim_reconcile",
            {
                "p_lost_after_seconds": policy.lost_after_seconds,
                "p_refresh_after_seconds": policy.refresh_after_seconds,
                "p_limit": limit,
                "p_inactive_after_days": policy.inactive_after_days,
                "p_inactive_refresh_after_seconds": policy.inactive_refresh_after_seconds,
            },
        )
        return _claims.validate_python(data)
