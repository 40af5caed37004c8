"""The user-facing RPC functions, called as the signed-in user (publishable key + the user's token),
so row-level security decides what each call may touch. One RPC per use case."""

from typing import Any, Protocol

import httpx

from creator_sync.api.auth import AuthenticatedUser
from creator_sync.api.models import Profile
from creator_sync.boundary import BoundaryModel
from creator_sync.stores.rpc import Rpc


class ScrapeTicket(BoundaryModel):
    """What the database says must be scraped after a write."""

    user_id: str
    tiktok_handle: str
    generation: int


class ProfileWrite(BoundaryModel):
    profile: Profile
    scrape: ScrapeTicket | None


class RefreshOutcome(BoundaryModel):
    """Exactly one of: a queued write, the seconds left in the cooldown, or no handle linked."""

    write: ProfileWrite | None = None
    retry_after: int | None = None
    no_handle: bool = False


class ProfileStore(Protocol):
    def get_profile(self, user: AuthenticatedUser) -> Profile: ...

    def update_profile(
        self, user: AuthenticatedUser, settings: dict[str, Any], set_handle: bool, handle: str | None
    ) -> ProfileWrite: ...

    def request_refresh(self, user: AuthenticatedUser) -> RefreshOutcome: ...


class PostgrestProfileStore:
    def __init__(self, rest_url: str, anon_key: str, http_client: httpx.Client) -> None:
        self._rest_url = rest_url
        self._anon_key = anon_key
        self._http = http_client

    def _rpc(self, user: AuthenticatedUser) -> Rpc:
        return Rpc(self._rest_url, self._anon_key, user.token, self._http)

    def get_profile(self, user: AuthenticatedUser) -> Profile:
        return Profile.model_validate(self._rpc(user).call("get_profile", {}))

    def update_profile(
        self, user: AuthenticatedUser, settings: dict[str, Any], set_handle: bool, handle: str | None
    ) -> ProfileWrite:
        data = self._rpc(user).call(
            "update_profile", {"p_settings": settings, "p_set_handle": set_handle, "p_handle": handle}
        )
        return ProfileWrite.model_validate(data)

    def request_refresh(self, user: AuthenticatedUser) -> RefreshOutcome:
        """The cooldown is the database's (DESIGN §3): the caller has no say in it."""
        data = self._rpc(user).call("request_refresh", {})
        if data.get("no_handle"):
            return RefreshOutcome(no_handle=True)
        if "retry_after" in data:
            return RefreshOutcome(retry_after=int(data["retry_after"]))
        return RefreshOutcome(write=ProfileWrite.model_validate(data))
