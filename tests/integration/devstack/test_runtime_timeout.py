"""The local runtime ends an invocation exactly at the function's timeout, as Lambda does: the caller
gets Sandbox.Timedout, and the environment is replaced (the next invocation is a cold start)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from devstack.runtime import FunctionError, RuntimePool
from devstack.template import function_spec

TIMEOUT = 2.0


@pytest.fixture
def pool() -> RuntimePool:
    log = Path(tempfile.mkdtemp(prefix="creator-sync-runtime-")) / "runtime.log"
    env = {"DEVSTACK_RUNTIME_HANDLER": "tests/support/sleepy_handler.py:handler"}
    return RuntimePool("ReconcilerFunction", env, 1, log, TIMEOUT).wait_ready()


def test_an_invocation_past_the_timeout_ends_exactly_then(pool: RuntimePool) -> None:
    try:
        first_pid = pool.pids()[0]
        started = time.monotonic()
        with pytest.raises(FunctionError) as timed_out:
            pool.invoke({"sleep": 10})
        elapsed = time.monotonic() - started
        assert timed_out.value.error_type == "Sandbox.Timedout"
        assert TIMEOUT <= elapsed < TIMEOUT + 0.5
        # the environment was replaced: a new process serves the next invocation
        reply = pool.invoke({"sleep": 0.1})
        assert reply["slept"] == 0.1
        assert pool.pids()[0] != first_pid
        # and the context's remaining time agrees with the timeout that is enforced
        assert 1_500 < reply["remaining_ms"] <= TIMEOUT * 1000
    finally:
        pool.stop()


def test_the_stack_gives_each_function_its_template_timeout_unchanged() -> None:
    from devstack import stack

    source = Path(stack.__file__).read_text()
    assert "function_spec(logical_id).timeout_seconds" in source
    assert function_spec("ProfileApiFunction").timeout_seconds == 10
    assert function_spec("ScrapeWorkerFunction").timeout_seconds == 120
