"""The local stack as a user meets it (DESIGN §10): the database always stops with the stack (also
after a killed run), outages on purpose through the control API, `token` and `invoke` follow a moved
stack, each real piece plugs in, and the banner's curl lines work pasted in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from devstack.apify import ApifyStandIn, apify_server
from devstack.database import REPO_ROOT
from devstack.sqs import create_queues, start_moto
from tests.support.local_stack import api_client, process_alive, start_stack, wait_for

pytestmark = pytest.mark.e2e


def postmaster_pid(state: Path) -> int | None:
    pid_file = state / "pgdata" / "postmaster.pid"
    return int(pid_file.read_text().splitlines()[0]) if pid_file.exists() else None


def test_a_killed_stack_leaves_a_server_that_the_next_start_finds_and_its_stop_stops() -> None:
    # Given a stack killed without a chance to stop its database
    first = start_stack()
    stale = postmaster_pid(first.state)
    first.process.kill()
    first.process.wait()
    assert stale is not None
    assert process_alive(stale)
    # When the next start comes on the same state (on ports of its own: the killed process's
    # listening sockets are the kernel's to release, not what this test is about), then stops cleanly
    second = start_stack(state=first.state)
    try:
        user = str(uuid.uuid4())
        with api_client(second, second.token(user)) as client:
            assert client.get("/profile").status_code == 200
        current = postmaster_pid(second.state)
    finally:
        assert second.stop() == 0
    # Then no database server is left behind, neither the stale one nor the new one
    assert current is not None
    assert not process_alive(stale)
    assert not process_alive(current)


def test_the_database_can_be_stopped_hung_and_started_on_purpose() -> None:
    stack = start_stack()
    try:
        user = str(uuid.uuid4())
        with api_client(stack, stack.token(user)) as client:
            assert client.patch("/profile", json={"tiktok_handle": "before.hang"}).status_code == 200
            # a hung database: answered 503 inside the budget, and the write never lands
            httpx.post(f"{stack.control}/db/hang", json={"seconds": 8}, timeout=15).raise_for_status()
            started = time.monotonic()
            hung = client.patch("/profile", json={"tiktok_handle": "during.hang"})
            assert (hung.status_code, hung.json()["error"]["code"]) == (503, "unavailable")
            assert hung.headers["retry-after"]
            assert time.monotonic() - started < 8
            time.sleep(6)
            assert client.get("/profile").json()["tiktok_handle"] == "before.hang"
            # a stopped database: 503, then back to normal once started
            httpx.post(f"{stack.control}/db/stop", timeout=30).raise_for_status()
            down = client.get("/profile")
            assert (down.status_code, down.json()["error"]["code"]) == (503, "unavailable")
            httpx.post(f"{stack.control}/db/start", timeout=60).raise_for_status()
            wait_for(lambda: client.get("/profile").status_code == 200, timeout=30)
    finally:
        stack.stop()


def cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a second terminal runs it: no port variables, only the state folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVSTACK_", "SUPABASE_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        cwd=REPO_ROOT,
        env=env | {"DEVSTACK_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_token_and_invoke_follow_a_moved_stack() -> None:
    # Given a stack on ports other than the defaults
    stack = start_stack()
    try:
        # When a token is minted and a function invoked without naming the ports
        user = str(uuid.uuid4())
        token = cli("token", "--user", user, state=stack.state)
        assert token.returncode == 0, token.stderr
        invoked = cli(
            "invoke", "ProfileApiFunction", "--event", "events/api-get-profile.json", state=stack.state
        )
        # Then both work against the moved stack (issuer and endpoints from what it recorded)
        with api_client(stack, token.stdout.strip()) as client:
            assert client.get("/profile").status_code == 200
        assert invoked.returncode == 0, invoked.stderr
        assert json.loads(invoked.stdout)["statusCode"] == 200
    finally:
        stack.stop()


def test_real_sqs_and_a_real_apify_endpoint_plug_in() -> None:
    # Given a queue on a second moto server and an Apify-compatible endpoint elsewhere, both "real"
    moto, sqs_endpoint = start_moto(0)
    queues = create_queues(sqs_endpoint, visibility_timeout=5, prefix="real")
    apify = ApifyStandIn(token="real-apify-token", run_seconds=0.1)
    apify_http = apify_server(0, apify).start()
    apify.url = apify_http.url
    try:
        stack = start_stack(
            extra_env={
                "SCRAPE_QUEUE_URL": queues.queue_url,
                "AWS_ACCESS_KEY_ID": "real-looking",
                "AWS_SECRET_ACCESS_KEY": "real-looking",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_SQS": sqs_endpoint,
                "APIFY_TOKEN": "real-apify-token",
                "APIFY_API_URL": apify_http.url,
            }
        )
        try:
            assert "SQS (ScrapeQueue + DLQ)                   real" in "".join(stack.output)
            user = str(uuid.uuid4())
            with api_client(stack, stack.token(user)) as client:
                # When a handle is linked
                assert client.patch("/profile", json={"tiktok_handle": "real.flow"}).status_code == 200
                # Then it went through the real queue and the real Apify endpoint
                wait_for(
                    lambda: client.get("/profile").json()["creator"]["scrape"]["status"] == "succeeded",
                    timeout=60,
                )
            assert [run.profiles for run in apify.runs.values()] == [["real.flow"]]
        finally:
            stack.stop()
    finally:
        apify_http.stop()
        moto.stop()


def test_the_apify_stand_in_serves_fixtures_from_a_folder_of_ones_own() -> None:
    folder = Path(tempfile.mkdtemp(prefix="creator-sync-fixtures-"))
    item = {
        "input": "my.fixture",
        "authorMeta": {"id": "42", "name": "my.fixture", "nickName": "From My Folder", "fans": 7},
    }
    (folder / "my.fixture.json").write_text(json.dumps([item]))
    stack = start_stack(extra_env={"DEVSTACK_APIFY_FIXTURES": str(folder)})
    try:
        with api_client(stack, stack.token(str(uuid.uuid4()))) as client:
            client.patch("/profile", json={"tiktok_handle": "my.fixture"})
            wait_for(lambda: client.get("/profile").json()["creator"]["scrape"]["status"] == "succeeded", 60)
            creator = client.get("/profile").json()["creator"]
        assert (creator["display_name"], creator["followers"]) == ("From My Folder", 7)
    finally:
        stack.stop()


def test_the_banners_curl_lines_all_succeed_pasted_in_order() -> None:
    stack = start_stack()
    try:
        token = next(
            line.split("=", 1)[1].strip() for line in stack.output if line.startswith("export TOKEN=")
        )
        lines = [line.strip() for line in stack.output if line.startswith("curl ")]
        assert len(lines) >= 5
        for line in lines:
            done = subprocess.run(
                ["bash", "-c", line + " -o /dev/null -w '%{http_code}'"],
                env={"TOKEN": token, "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert done.stdout.strip() in {"200", "202"}, f"{line} -> {done.stdout} {done.stderr}"
    finally:
        stack.stop()
