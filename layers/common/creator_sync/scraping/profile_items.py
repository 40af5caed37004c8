"""The TikTok profile actor's dataset items, mapped back to the requested handles [R9].

The upstream is untrusted: every item may be malformed, hostile or for someone else. The mapping is
total — it never raises — and each handle gets exactly one outcome:

- an item with a usable `authorMeta`: `succeeded`, every field sanitised (see `profile_from_author`);
- an `authorMeta` with no usable TikTok id, or two items that disagree on who the handle is:
  `failed` (terminal for this generation, with a readable reason; a retry would buy the same data);
- `errorCode` NOT_FOUND / INVALID_URLS: `not_found`; PROFILE_PRIVATE: `private`;
- nothing usable for the handle: transient (the record is retried by SQS, up to the redrive limit).

Items for handles nobody asked for are ignored. Nothing one item holds can change another handle's
outcome.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from creator_sync.scraping.results import HandleResult, HandleStatus, ScrapedProfile

ITEM_FIELDS = ["input", "authorMeta", "errorCode", "error", "url"]
MAX_COUNT = 10**15
MAX_DISPLAY_NAME = 256
MAX_BIO = 4096
MAX_URL = 2048
MAX_USER_ID = 64
MAX_ERROR = 300
PERMANENT_ERRORS = {
    "NOT_FOUND": HandleStatus.NOT_FOUND,
    "PROFILE_PRIVATE": HandleStatus.PRIVATE,
    "INVALID_URLS": HandleStatus.NOT_FOUND,
}
_ASCII_DIGITS = re.compile(r"[0-9]{1,16}", re.ASCII)
_USER_ID = re.compile(r"[0-9A-Za-z_.-]{1,64}", re.ASCII)
# C0 and C1 control characters (tab and newline survive in a bio), and lone UTF-16 surrogates,
# which JSON can carry (`"\ud800"`) but neither UTF-8 nor PostgreSQL text can.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def map_items(handles: Iterable[str], items: Iterable[object]) -> dict[str, HandleResult]:
    """Each requested handle's outcome, matching items by `input`, then `authorMeta.name`, then the
    handle in `profileUrl`/`url`, case-insensitively."""
    wanted = {handle.lower(): handle for handle in handles}
    by_handle: dict[str, list[Mapping[str, Any]]] = {key: [] for key in wanted}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        for key in _item_keys(item):
            if key in by_handle:
                by_handle[key].append(item)
    return {handle: _result_for(by_handle[key]) for key, handle in wanted.items()}


def _result_for(matches: list[Mapping[str, Any]]) -> HandleResult:
    authors = [item["authorMeta"] for item in matches if isinstance(item.get("authorMeta"), Mapping)]
    if authors:
        profiles = [profile_from_author(author) for author in authors]
        usable = [p for p in profiles if p.tiktok_user_id is not None]
        if not usable:
            return HandleResult(
                HandleStatus.FAILED, error="the scraped profile was unusable: it has no valid TikTok user id"
            )
        if len({p.tiktok_user_id for p in usable}) > 1:
            return HandleResult(
                HandleStatus.FAILED,
                error="the scrape returned conflicting profiles for this handle (different TikTok user ids)",
            )
        return HandleResult(HandleStatus.SUCCEEDED, usable[0])
    for item in matches:
        status = PERMANENT_ERRORS.get(clean_text(item.get("errorCode"), 64) or "")
        if status is not None:
            error = clean_text(item.get("error"), MAX_ERROR) or clean_text(item.get("errorCode"), 64)
            return HandleResult(status, error=error)
    if matches:
        return HandleResult(
            HandleStatus.TRANSIENT,
            error=clean_text(matches[0].get("error"), MAX_ERROR) or "unrecognised actor item",
        )
    return HandleResult(HandleStatus.TRANSIENT, error="the actor run returned no item for this handle")


def _item_keys(item: Mapping[str, Any]) -> list[str]:
    keys = []
    if isinstance(item.get("input"), str):
        keys.append(item["input"].strip().lstrip("@").lower())
    author = item.get("authorMeta")
    if isinstance(author, Mapping) and isinstance(author.get("name"), str):
        keys.append(author["name"].strip().lower())
    for url in (author.get("profileUrl") if isinstance(author, Mapping) else None, item.get("url")):
        if isinstance(url, str):
            try:
                path = urlsplit(url).path
            except ValueError:
                continue
            segment = next((s for s in path.split("/") if s.startswith("@")), None)
            if segment:
                keys.append(segment[1:].lower())
    return list(dict.fromkeys(keys))


def profile_from_author(author: Mapping[str, Any]) -> ScrapedProfile:
    """The profile columns from one `authorMeta`, each sanitised to what the table accepts:
    counts are integers in 0..10^15 (else null), texts lose control characters and lone surrogates
    and are cut to the column's length, the avatar is an https URL (else null)."""
    user_id = clean_text(author.get("id"), MAX_USER_ID + 1)  # longer than allowed: not an id
    return ScrapedProfile(
        tiktok_user_id=user_id if user_id and _USER_ID.fullmatch(user_id) else None,
        display_name=clean_text(author.get("nickName"), MAX_DISPLAY_NAME),
        avatar_url=https_url(author.get("avatar")) or https_url(author.get("originalAvatarUrl")),
        bio=clean_text(author.get("signature"), MAX_BIO, keep_lines=True),
        followers=count(author.get("fans")),
        following=count(author.get("following")),
        hearts=count(author.get("heart")),
        videos=count(author.get("video")),
        verified=author.get("verified") if isinstance(author.get("verified"), bool) else None,
        private_account=author.get("privateAccount")
        if isinstance(author.get("privateAccount"), bool)
        else None,
    )


def clean_text(value: object, max_length: int, *, keep_lines: bool = False) -> str | None:
    """A printable string of at most `max_length` characters, or None (also for non-strings other
    than integers, which the actor uses for ids)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    text = (_CONTROL_KEEP_LINES if keep_lines else _CONTROL).sub("", text)
    text = unicodedata.normalize("NFC", text).strip()
    return text[:max_length] or None


def count(value: object) -> int | None:
    """A non-negative integer up to 10^15, from an int, an integral float or a string of ASCII
    digits; anything else (negative, fractional, NaN, "12K", "²", booleans) is None."""
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _ASCII_DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not 0 <= number <= MAX_COUNT:
        return None
    return number


def https_url(value: object) -> str | None:
    """An absolute https URL of at most 2,048 characters with no whitespace or control characters."""
    if (
        not isinstance(value, str)
        or len(value) > MAX_URL
        or _CONTROL.search(value)
        or any(c.isspace() for c in value)
    ):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.netloc:
        return None
    return value
