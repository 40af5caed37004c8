"""Stand-in for the `snapshot_restore_py` module that Lambda's SnapStart Python runtime provides:
it records the registered hooks so a test can run them as Lambda would (before the snapshot, after
each restore). Covers only the two registration functions."""

from __future__ import annotations

from collections.abc import Callable

before_snapshot: list[Callable[[], None]] = []
after_restore: list[Callable[[], None]] = []


def register_before_snapshot(hook: Callable[[], None]) -> None:
    before_snapshot.append(hook)


def register_after_restore(hook: Callable[[], None]) -> None:
    after_restore.append(hook)
