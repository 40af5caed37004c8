"""Runs `python -m devstack up` as a user would, on free ports and a state dir of its own, and talks
to it over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack.database import REPO_ROOT
from devstack.keys import StackKeys
from devstack.stack import DEFAULT_PORTS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    state: Path
    ports: dict[str, int]
    output: list[str]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def control(self) -> str:
        return f"http://127.0.0.1:{self.ports['control']}"

    def stack_json(self) -> dict[str, Any]:
        return dict(json.loads((self.state / "stack.json").read_text()))

    def keys(self) -> StackKeys:
        return StackKeys.load_or_create(
            self.state, issuer=f"http://127.0.0.1:{self.ports['supabase']}/auth/v1"
        )

    def env(self) -> dict[str, str]:
        return stack_env(self.state, self.ports)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "devstack", *args],
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def token(self, user_id: str) -> str:
        done = self.cli("token", "--user", user_id)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


def stack_env(state: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "APIFY_", "SCRAPE_", "AWS_"))
    }
    env |= {f"DEVSTACK_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    return env | {"DEVSTACK_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1"}


def start_stack(
    state: Path | None = None,
    ports: dict[str, int] | None = None,
    timeout: float = 90,
    extra_env: dict[str, str] | None = None,
) -> RunningStack:
    state = state or Path(tempfile.mkdtemp(prefix="creator-sync-stack-"))
    ports = ports or {name: free_port() for name in DEFAULT_PORTS}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up"],
        cwd=REPO_ROOT,
        env=stack_env(state, ports) | (extra_env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(process, state, ports, [])
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the stack exited during start:\n" + "".join(stack.output))
        stack.output.append(line)
        if line.startswith("Ctrl-C stops everything"):
            return stack
    stack.stop()
    raise TimeoutError("the stack did not come up:\n" + "".join(stack.output))


def wait_for(check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s; last value: {last!r}")


def process_alive(pid: int) -> bool:
    """True while the process runs; an exited process not yet reaped by its parent (a zombie,
    e.g. a daemonised postmaster waiting for init) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" not in status


def api_client(stack: RunningStack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=15)
