"""Boundary models of the HTTP API: what a client sends and what it gets back.

Field descriptions flow into the generated OpenAPI document. Request models are strict (no type
coercion: "true" is not a boolean, "5" is not an integer) and forbid unknown keys.
"""

import re
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator

from creator_sync.boundary import BoundaryModel
from creator_sync.handles import parse_handle


class ScrapeStatus(StrEnum):
    IDLE = "idle"
    QUEUED = "queued"
    SUCCEEDED = "succeeded"
    NOT_FOUND = "not_found"
    PRIVATE = "private"
    FAILED = "failed"


# Printable text only (DESIGN §3): no C0/C1 control characters (NUL included), and neither the
# Unicode line and paragraph separators nor U+FEFF, which are invisible or break a one-line label.
# Lone surrogates are refused by pydantic itself (not valid Unicode text).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]*$"
ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")

Niche = Annotated[
    str,
    Field(
        min_length=1, max_length=64, pattern=PRINTABLE_PATTERN, description="What the creator posts about."
    ),
]
PostingGoal = Annotated[int, Field(ge=0, le=50, description="Posts per week the creator aims for.")]


class ScrapeState(BoundaryModel):
    status: Annotated[ScrapeStatus, Field(description="Where the latest scrape request stands.")]
    requested_at: Annotated[datetime | None, Field(description="When the latest scrape was requested.")]
    scraped_at: Annotated[datetime | None, Field(description="When a scrape last completed.")]
    error: Annotated[str | None, Field(description="Why the latest scrape did not succeed.")]


class Creator(BoundaryModel):
    tiktok_user_id: str | None
    display_name: str | None
    avatar_url: str | None
    bio: str | None
    followers: int | None
    following: int | None
    hearts: int | None
    videos: int | None
    verified: bool | None
    private_account: bool | None
    scrape: ScrapeState


class Profile(BoundaryModel):
    """A user's settings and, when a handle is linked, what is known of that TikTok account."""

    user_id: UUID
    niche: Niche | None
    timezone: Annotated[str | None, Field(description="IANA time zone name, e.g. Europe/Paris.")]
    email_notifications: bool
    posting_goal_per_week: PostingGoal | None
    tiktok_handle: Annotated[str | None, Field(description="Linked TikTok handle, bare and lower-cased.")]
    creator: Annotated[Creator | None, Field(description="Null while no handle is linked.")]


@cache
def _zone_names() -> frozenset[str]:
    # Read once per container; the tzdata package makes the list independent of the OS image.
    return frozenset(available_timezones())


class ProfilePatch(BoundaryModel):
    """Any subset of the fields; omitted fields are left alone, `tiktok_handle: null` unlinks."""

    model_config = ConfigDict(strict=True, extra="forbid")

    niche: Niche | None = None
    timezone: Annotated[
        str | None,
        Field(min_length=1, max_length=64, pattern=ZONE_PATTERN, description="IANA time zone name or null."),
    ] = None
    # Omitted means "leave alone"; null is refused, so the schema says boolean only.
    email_notifications: Annotated[
        bool | None, WithJsonSchema({"type": "boolean", "description": "Whether to send e-mail."})
    ] = None
    posting_goal_per_week: PostingGoal | None = None
    # The shortest handle is 2 characters: documented here, checked (with a message that says what a
    # handle may be) by parse_handle.
    tiktok_handle: Annotated[
        Annotated[str, Field(json_schema_extra={"minLength": 2})] | None,
        Field(
            max_length=200,
            description="name, @name or a TikTok profile URL; stored bare and lower-cased. Null unlinks.",
        ),
    ] = None

    @field_validator("niche", "timezone", "tiktok_handle", mode="before")
    @classmethod
    def _printable(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and _UNPRINTABLE.search(value):
            raise ValueError(
                f"{info.field_name} must not contain control characters (NUL included), line or"
                " paragraph separators, byte order marks or unpaired surrogates"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _zone_names():
            raise ValueError("timezone must be an IANA time zone name such as Europe/Paris")
        return value

    @field_validator("email_notifications")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool | None:
        if value is None:
            raise ValueError("email_notifications must be true or false")
        return value

    @field_validator("tiktok_handle")
    @classmethod
    def _bare_handle(cls, value: str | None) -> str | None:
        return None if value is None else parse_handle(value)

    def settings_changes(self) -> dict[str, object]:
        """The settings fields the client sent, with their values (null included)."""
        handle_field = {"tiktok_handle"}
        return {name: getattr(self, name) for name in self.model_fields_set - handle_field}

    @property
    def sets_handle(self) -> bool:
        return "tiktok_handle" in self.model_fields_set
