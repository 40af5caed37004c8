"""What a scrape can yield for one handle, and the TikTok fields kept from it (DESIGN §4 columns)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class HandleStatus(StrEnum):
    SUCCEEDED = "succeeded"
    NOT_FOUND = "not_found"
    PRIVATE = "private"
    TRANSIENT = "transient"  # retry: the run failed, or held no item for this handle


Count = Annotated[int, Field(ge=0)]


class ScrapedProfile(BaseModel):
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
class RunReport:
    """One actor run's outcome per requested handle, with what the run cost."""

    results: dict[str, HandleResult]
    run_id: str | None
    run_seconds: float
    cost_usd: float | None
