"""The Apify adapter: one run of the TikTok profile actor for a batch of handles, and the mapping of
its dataset items back to handles (shared/reference/apify.md).

The run is started, waited for at most the time the Lambda can spare, and aborted if it is still
going: a run is never left behind. Items are read with `fields` limited to what is mapped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from apify_client import ApifyClient
from apify_client.errors import ApifyApiError

from creator_sync.observability import logger
from creator_sync.scrape_results import HandleResult, HandleStatus, RunReport, ScrapedProfile

ITEM_FIELDS = ["input", "authorMeta", "errorCode", "error", "url"]
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED-OUT", "ABORTED"})
PERMANENT_ERRORS = {
    "NOT_FOUND": HandleStatus.NOT_FOUND,
    "PROFILE_PRIVATE": HandleStatus.PRIVATE,
    "INVALID_URLS": HandleStatus.NOT_FOUND,
}


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
        run_id: str | None = None
        try:
            run = self._client.actor(self._actor_id).start(
                run_input=actor_input(handles),
                max_items=len(handles),
                memory_mbytes=self._memory,
                run_timeout=self._run_timeout,
            )
            run_id = run.id
            finished = self._client.run(run.id).wait_for_finish(
                wait_duration=timedelta(seconds=max(wait_seconds - (time.monotonic() - started), 1))
            )
            if finished is None:
                return _all_transient(handles, "the actor run vanished", run_id, started, None)
            status = str(getattr(finished.status, "value", finished.status))
            if status not in TERMINAL_STATUSES:
                self._abort(run.id)
                run_id = None  # aborted: nothing left behind
                return _all_transient(
                    handles, "the actor run did not finish in time and was aborted", run.id, started, None
                )
            cost = float(finished.usage_total_usd) if finished.usage_total_usd is not None else None
            if status != "SUCCEEDED":
                return _all_transient(handles, f"the actor run ended {status}", run.id, started, cost)
            items = (
                self._client.dataset(finished.default_dataset_id)
                .list_items(fields=ITEM_FIELDS, limit=max(len(handles) * 2, 10))
                .items
            )
            return RunReport(map_items(handles, items), run.id, time.monotonic() - started, cost)
        except Exception as exc:  # any upstream failure (API error after retries, transport) is transient
            if run_id is not None:
                self._abort(run_id)
            reason = f"Apify API error: {_describe(exc)}"
            logger.warning("apify call failed", extra={"reason": reason, "run_id": run_id})
            return _all_transient(handles, reason, run_id, started, None)

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


def map_items(handles: Iterable[str], items: Iterable[Mapping[str, Any]]) -> dict[str, HandleResult]:
    """Each handle's result, matching items by `input`, then `authorMeta.name`, then the handle in
    `profileUrl`/`url`, case-insensitively. A handle with no item is transient, never 'not found'."""
    by_handle: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        for key in _item_keys(item):
            by_handle.setdefault(key, []).append(item)
    results: dict[str, HandleResult] = {}
    for handle in handles:
        matches = by_handle.get(handle.lower(), [])
        results[handle] = _result_for(matches)
    return results


def _result_for(matches: list[Mapping[str, Any]]) -> HandleResult:
    for item in matches:
        author = item.get("authorMeta")
        if isinstance(author, Mapping):
            return HandleResult(HandleStatus.SUCCEEDED, profile_from_author(author))
    for item in matches:
        status = PERMANENT_ERRORS.get(str(item.get("errorCode") or ""))
        if status is not None:
            return HandleResult(status, error=_text(item.get("error")) or str(item.get("errorCode")))
    if matches:
        return HandleResult(
            HandleStatus.TRANSIENT, error=_text(matches[0].get("error")) or "unrecognised actor item"
        )
    return HandleResult(HandleStatus.TRANSIENT, error="the actor run returned no item for this handle")


def _item_keys(item: Mapping[str, Any]) -> list[str]:
    keys = []
    if isinstance(item.get("input"), str):
        keys.append(item["input"].strip().lstrip("@").lower())
    author = item.get("authorMeta")
    if isinstance(author, Mapping) and isinstance(author.get("name"), str):
        keys.append(author["name"].lower())
    for url in (author.get("profileUrl") if isinstance(author, Mapping) else None, item.get("url")):
        if isinstance(url, str):
            segment = next((s for s in urlsplit(url).path.split("/") if s.startswith("@")), None)
            if segment:
                keys.append(segment[1:].lower())
    return list(dict.fromkeys(keys))


def profile_from_author(author: Mapping[str, Any]) -> ScrapedProfile:
    return ScrapedProfile(
        tiktok_user_id=_text(author.get("id")),
        display_name=_text(author.get("nickName")),
        avatar_url=_text(author.get("avatar")) or _text(author.get("originalAvatarUrl")),
        bio=_text(author.get("signature")),
        followers=_count(author.get("fans")),
        following=_count(author.get("following")),
        hearts=_count(author.get("heart")),
        videos=_count(author.get("video")),
        verified=author.get("verified") if isinstance(author.get("verified"), bool) else None,
        private_account=author.get("privateAccount")
        if isinstance(author.get("privateAccount"), bool)
        else None,
    )


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _all_transient(
    handles: list[str], reason: str, run_id: str | None, started: float, cost: float | None
) -> RunReport:
    result = HandleResult(HandleStatus.TRANSIENT, error=reason)
    return RunReport(dict.fromkeys(handles, result), run_id, time.monotonic() - started, cost)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApifyApiError):
        return f"{exc.status_code} {exc.type or ''}".strip()
    return type(exc).__name__
