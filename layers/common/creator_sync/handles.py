"""TikTok handle parsing: the one place that knows what a handle is and where to find it in a URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HANDLE_RULE = (
    "a TikTok handle is 2 to 24 characters of a-z, 0-9, '_' and '.', not ending in '.'; "
    "it may be given as name, @name or a profile URL such as https://www.tiktok.com/@name"
)
HANDLE_PATTERN = re.compile(r"[a-z0-9_.]{1,23}[a-z0-9_]", re.ASCII)
_TIKTOK_HOSTS = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"})


class InvalidHandle(ValueError):
    def __init__(self) -> None:
        super().__init__(HANDLE_RULE)


def parse_handle(raw: str) -> str:
    """The bare lower-cased handle in `raw`, or InvalidHandle.

    Accepts `name`, `@name`, `tiktok.com/@name` and `http(s)://(www.|m.)tiktok.com/@name[/...][?...]`.
    Anything with other hosts, whitespace inside or non-ASCII characters (look-alikes) is rejected.
    """
    text = raw.strip()
    # ASCII first: str.lower() would turn look-alikes such as the Kelvin sign into a plain "k".
    if not text or not text.isascii() or any(ch.isspace() for ch in text):
        raise InvalidHandle
    if "/" in text:
        text = _handle_from_url(text)
    elif text.startswith("@"):
        text = text[1:]
    name = text.lower()
    if not HANDLE_PATTERN.fullmatch(name):
        raise InvalidHandle
    return name


def _handle_from_url(text: str) -> str:
    url = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidHandle from exc
    if parts.scheme not in {"http", "https"} or (parts.hostname or "") not in _TIKTOK_HOSTS:
        raise InvalidHandle
    if parts.username or parts.password or port:
        raise InvalidHandle
    segments = [s for s in parts.path.split("/") if s]
    if not segments or not segments[0].startswith("@"):
        raise InvalidHandle
    return segments[0][1:]
