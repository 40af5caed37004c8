"""The profile use cases: read, update (settings and handle), refresh.

A handle change or refresh is committed first and published second. If the publish fails the change
stays saved, the caller still gets 200/202, and the reconciler delivers the scrape later [R8].
"""

from __future__ import annotations

from uuid import UUID

from creator_sync import time_budget
from creator_sync.adapters.scrape_queue import (
    QueueUnavailable,
    ScrapePublisher,
    ScrapeReason,
    ScrapeRequested,
)
from creator_sync.api.auth import AuthenticatedUser
from creator_sync.api.models import Profile, ProfilePatch
from creator_sync.errors import Conflict, RateLimited
from creator_sync.observability import logger, metrics
from creator_sync.stores.profiles import ProfileStore, ProfileWrite


class ProfileService:
    def __init__(self, store: ProfileStore, publisher: ScrapePublisher) -> None:
        self._store = store
        self._publisher = publisher

    def get(self, user: AuthenticatedUser) -> Profile:
        return self._store.get_profile(user)

    def update(self, user: AuthenticatedUser, patch: ProfilePatch, correlation_id: str) -> Profile:
        write = self._store.update_profile(
            user,
            patch.settings_changes(),
            patch.sets_handle,
            patch.tiktok_handle if patch.sets_handle else None,
        )
        metrics.add_metric(name="ProfileUpdated", unit="Count", value=1)
        self._publish(write, "handle_linked", correlation_id)
        return write.profile

    def refresh(self, user: AuthenticatedUser, correlation_id: str) -> Profile:
        outcome = self._store.request_refresh(user)
        if outcome.no_handle:
            raise Conflict("no TikTok handle is linked: PATCH /profile with tiktok_handle first")
        if outcome.retry_after is not None:
            raise RateLimited(
                f"a scrape was requested recently; try again in {outcome.retry_after} s", outcome.retry_after
            )
        assert outcome.write is not None
        self._publish(outcome.write, "refresh", correlation_id)
        return outcome.write.profile

    def _publish(self, write: ProfileWrite, reason: ScrapeReason, correlation_id: str) -> None:
        if write.scrape is None:
            return
        message = ScrapeRequested(
            user_id=UUID(write.scrape.user_id),
            tiktok_handle=write.scrape.tiktok_handle,
            generation=write.scrape.generation,
            reason=reason,
            correlation_id=correlation_id,
        )
        if not time_budget.current().allows(self._publisher.budget_seconds):
            logger.warning(
                "scrape request saved but not sent: too little time left; the reconciler will deliver it",
                extra={"user_id": str(message.user_id), "generation": message.generation, "reason": reason},
            )
            return
        try:
            self._publisher.publish(message)
        except QueueUnavailable:
            logger.warning(
                "scrape request saved but not sent; the reconciler will deliver it",
                extra={"user_id": str(message.user_id), "generation": message.generation, "reason": reason},
            )
            return
        metrics.add_metric(name="ScrapeRequested", unit="Count", value=1)
