"""The service-role RPC functions the worker and the reconciler call (one call each per batch/run)."""

from __future__ import annotations

from typing import Literal, Protocol
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter

from creator_sync.db import Rpc
from creator_sync.scrape_results import ScrapedProfile

ResultStatus = Literal["succeeded", "not_found", "private", "failed"]


class ScrapeTarget(BaseModel):
    user_id: UUID
    generation: int
    tiktok_handle: str


class ScrapeResultRow(BaseModel):
    user_id: UUID
    generation: int
    status: ResultStatus
    profile: ScrapedProfile | None = None
    error: str | None = None


class AppliedResult(BaseModel):
    user_id: UUID
    generation: int
    applied: bool


class ReconcileClaim(BaseModel):
    user_id: UUID
    tiktok_handle: str
    generation: int
    reason: Literal["reconcile", "scheduled"]


_targets = TypeAdapter(list[ScrapeTarget])
_applied = TypeAdapter(list[AppliedResult])
_claims = TypeAdapter(list[ReconcileClaim])


class ScrapeStore(Protocol):
    def scrape_targets(self, requests: list[tuple[UUID, int]]) -> list[ScrapeTarget]: ...

    def record_scrape_results(self, results: list[ScrapeResultRow]) -> list[AppliedResult]: ...

    def claim_reconcile(
        self, lost_after_seconds: int, refresh_after_seconds: int, limit: int
    ) -> list[ReconcileClaim]: ...


class PostgrestScrapeStore:
    def __init__(self, rest_url: str, service_role_key: str, http_client: httpx.Client) -> None:
        self._rpc = Rpc(rest_url, service_role_key, service_role_key, http_client)

    def scrape_targets(self, requests: list[tuple[UUID, int]]) -> list[ScrapeTarget]:
        items = [{"user_id": str(user_id), "generation": generation} for user_id, generation in requests]
        return _targets.validate_python(self._rpc.call("scrape_targets", {"p_items": items}))

    def record_scrape_results(self, results: list[ScrapeResultRow]) -> list[AppliedResult]:
        payload = [row.model_dump(mode="json") for row in results]
        return _applied.validate_python(self._rpc.call("record_scrape_results", {"p_results": payload}))

    def claim_reconcile(
        self, lost_after_seconds: int, refresh_after_seconds: int, limit: int
    ) -> list[ReconcileClaim]:
        data = self._rpc.call(
            "claim_reconcile",
            {
                "p_lost_after_seconds": lost_after_seconds,
                "p_refresh_after_seconds": refresh_after_seconds,
                "p_limit": limit,
            },
        )
        return _claims.validate_python(data)
