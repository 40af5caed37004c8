from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, start_stack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    """One local stack (`python -m devstack up`) for the e2e tier, on free ports."""
    stack = start_stack()
    try:
        yield stack
    finally:
        stack.stop()
