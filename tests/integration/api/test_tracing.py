"""Tracing as deployed (DESIGN §9, §11): on Lambda, with tracing on, a handle-changing PATCH sends
X-Ray subsegments for the handler, the route, the JWKS fetch, the PostgREST call and the SQS send,
and no subsegment carries the caller's profile."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from devstack.api_gateway import http_event
from devstack.database import REPO_ROOT
from devstack.sqs import LocalQueues
from tests.support.lambda_runtime import lambda_environment, xray_daemon
from tests.support.stack import SupabaseStandIn, function_env

FUNCTION = REPO_ROOT / "functions" / "profile_api"
INVOKE = """
import json, sys
sys.path[:0] = [{function!r}, {layer!r}]
import app
from devstack.lambda_context import new_context
from devstack.template import function_spec
answer = app.lambda_handler(json.loads(sys.stdin.read()), new_context(function_spec("ProfileApiFunction")))
print(answer["statusCode"])
"""


def test_a_patch_sends_the_subsegments_of_each_call_and_no_profile(
    supabase: SupabaseStandIn, queues: LocalQueues, token: str
) -> None:
    event = http_event(
        "PATCH",
        "/profile",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        body=json.dumps({"tiktok_handle": "traced.creator", "niche": "private niche"}),
    )
    with xray_daemon() as (address, documents):
        environment = lambda_environment(address, FUNCTION) | {
            name: value
            for name, value in function_env("ProfileApiFunction", supabase, queues).items()
            if name != "POWERTOOLS_TRACE_DISABLED"  # tracing on, as deployed
        }
        script = INVOKE.format(function=str(FUNCTION), layer=str(REPO_ROOT / "layers" / "common"))
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(event),
            env=environment | {"PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "200"
        _wait_for(lambda: any(d.get("name") == "## lambda_handler" for d in documents))

    by_name = {document["name"]: document for document in documents}
    handler, route, sqs = by_name["## lambda_handler"], by_name["## app.patch_profile"], by_name["SQS"]
    assert handler["annotations"] == {"ColdStart": True, "Service": "profile-api"}
    assert route["parent_id"] == handler["id"]
    remote = {d["http"]["request"]["url"]: d for d in documents if d.get("namespace") == "remote"}
    jwks = remote[f"{supabase.url}/auth/v1/.well-known/jwks.json"]
    rpc = remote[f"{supabase.url}/rest/v1/rpc/update_profile"]
    assert (jwks["parent_id"], jwks["http"]["response"]["status"]) == (handler["id"], 200)
    assert (rpc["parent_id"], rpc["http"]["request"]["method"]) == (route["id"], "POST")
    assert (sqs["namespace"], sqs["annotations"], sqs["parent_id"]) == (
        "aws",
        {"operation": "SendMessage"},
        route["id"],
    )
    assert sqs["metadata"]["aws"]["queue_url"] == queues.queue_url
    assert {d["trace_id"] for d in documents} == {handler["trace_id"]}
    everything = json.dumps(documents)
    assert "traced.creator" not in everything
    assert "private niche" not in everything
    assert token not in everything


def _wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the X-Ray daemon received no handler subsegment"
        time.sleep(0.05)
