"""The stack's life: Ctrl-C/SIGTERM leaves no process behind, a second start keeps the data, and a
busy port is a clear message rather than a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from devstack.database import REPO_ROOT
from tests.support.local_stack import api_client, free_port, process_alive, stack_env, start_stack


def postmaster_pid(state: Path) -> int | None:
    pid_file = state / "pgdata" / "postmaster.pid"
    return int(pid_file.read_text().splitlines()[0]) if pid_file.exists() else None


def test_stop_leaves_nothing_behind_and_a_second_start_keeps_the_data() -> None:
    # Given a running stack with a user who linked a handle
    first = start_stack()
    user = str(uuid.uuid4())
    try:
        runtime_pids = [
            pid
            for pids in httpx.get(f"{first.control}/status", timeout=10).json()["runtime_pids"].values()
            for pid in pids
        ]
        database_pid = postmaster_pid(first.state)
        with api_client(first, first.token(user)) as client:
            assert (
                client.patch("/profile", json={"niche": "kept", "tiktok_handle": "kept.handle"}).status_code
                == 200
            )
    finally:
        # When it is stopped with SIGTERM
        code = first.stop()
    # Then it exits cleanly and no function runtime or database process survives
    assert code == 0
    assert database_pid is not None
    assert [pid for pid in [*runtime_pids, database_pid] if process_alive(pid)] == []
    assert first.process.stdout is not None
    assert "stopped; data kept in" in first.process.stdout.read()
    # and a second start on the same state finds the user's data
    second = start_stack(state=first.state, ports=first.ports)
    try:
        with api_client(second, second.token(user)) as client:
            profile = client.get("/profile").json()
        assert (profile["niche"], profile["tiktok_handle"]) == ("kept", "kept.handle")
    finally:
        assert second.stop() == 0


def test_a_busy_port_is_a_clear_message() -> None:
    # Given something already listening on the API port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        ports = {name: free_port() for name in ("supabase", "sqs", "apify", "control")} | {
            "api": squatter.getsockname()[1]
        }
        state = Path(tempfile.mkdtemp(prefix="creator-sync-busy-"))
        # When the stack starts
        done = subprocess.run(
            [sys.executable, "-m", "devstack", "up"],
            cwd=REPO_ROOT,
            env=stack_env(state, ports),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    # Then it says which port is taken and how to move it, without a traceback
    assert done.returncode == 2
    assert f"port {ports['api']} on 127.0.0.1 is already in use" in done.stderr
    assert "DEVSTACK_API_PORT" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_banner_names_every_piece_and_prints_working_curl_lines() -> None:
    stack = start_stack()
    try:
        text = "".join(stack.output)
        for piece in ("Supabase", "SQS", "Apify API", "API (ProfileApiFunction)"):
            assert piece in text
        assert text.count("stand-in") >= 3
        token = next(
            line.split("=", 1)[1].strip() for line in stack.output if line.startswith("export TOKEN=")
        )
        curl_get = next(
            line
            for line in stack.output
            if line.startswith("curl -s http") and line.rstrip().endswith('"Authorization: Bearer $TOKEN"')
        )
        done = subprocess.run(
            ["bash", "-c", curl_get],
            env={"TOKEN": token, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert '"user_id"' in done.stdout, done.stdout + done.stderr
    finally:
        stack.stop()
