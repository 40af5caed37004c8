from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import RunningStack, start_stack


@pytest.fixture(scope="module")
def local_stack() -> Iterator[RunningStack]:
    """One local stack (`python -m devstack up`) per e2e module, on free ports; stopped afterwards."""
    stack = start_stack()
    try:
        yield stack
    finally:
        stack.stop()
