"""Sample events from events/: loading them with their placeholders filled in.

`{{devstack:user-token:UUID}}` stands for a fresh access token of that user: events never carry a
real or long-lived token, and they keep working after a token would have expired."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devstack.database import REPO_ROOT

EVENTS_DIR = REPO_ROOT / "events"
TOKEN_PLACEHOLDER = re.compile(r"\{\{devstack:user-token:([0-9a-fA-F-]{36})\}\}")


def placeholder_users(path: Path) -> set[str]:
    return set(TOKEN_PLACEHOLDER.findall(path.read_text()))


def load_event(path: Path, token_for: Callable[[str], str]) -> dict[str, Any]:
    text = TOKEN_PLACEHOLDER.sub(lambda match: token_for(match.group(1)), path.read_text())
    event = json.loads(text)
    assert isinstance(event, dict)
    return event


def manifest() -> list[dict[str, Any]]:
    entries = json.loads((EVENTS_DIR / "manifest.json").read_text())["events"]
    assert isinstance(entries, list)
    return entries
