"""What a scrape can yield for one handle, and the TikTok fields kept from it (DESIGN §4 columns)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from creator_sync.boundary import BoundaryModel


class HandleStatus(StrEnum):
    SUCCEEDED = "succeeded"
    NOT_FOUND = "not_found"
    PRIVATE = "private"
    FAILED = "failed"  # terminal for this generation: the upstream's data for it is unusable
    TRANSIENT = "transient"  # retry: the run held no item for this handle


Count = Annotated[int, Field(ge=0)]


class ScrapedProfile(BoundaryModel):
    """The columns of creator_profiles a successful scrape fills."""

    model_config = ConfigDict(frozen=True)

    tiktok_user_id: str | None
    display_name: str | None
    avatar_url: str | None
    bio: str | None
    followers: Count | None
    following: Count | None
    hearts: Count | None
    videos: Count | None
    verified: bool | None
    private_account: bool | None


@dataclass(frozen=True)
class HandleResult:
    status: HandleStatus
    profile: ScrapedProfile | None = None
    error: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status is not HandleStatus.TRANSIENT


@dataclass(frozen=True)
class RunRecord:
    """One actor run as the ledger keeps it (`apify_runs`)."""

    run_id: str
    actor_id: str
    handles: list[str]
    started_at: datetime
    finished_at: datetime | None
    status: str
    usage_usd: float | None


@dataclass(frozen=True)
class RunReport:
    """One actor run's outcome per requested handle, with what the run cost.

    `outage` is set when the run failed as a whole (Apify unreachable or rate limiting after the
    client's retries, the run FAILED, TIMED-OUT, ABORTED, vanished or outlived the wait): that is no
    handle's fault, so the batch is deferred rather than retried, and `results` is empty."""

    results: dict[str, HandleResult]
    run: RunRecord | None
    run_seconds: float
    outage: str | None = None

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run else None

    @property
    def cost_usd(self) -> float | None:
        return self.run.usage_usd if self.run else None
