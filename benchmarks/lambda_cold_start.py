"""Cold start as Lambda charges it (DESIGN §11): what a user waits for on a cold container is the
function's init plus its first request, so that is what is timed, side by side with the naive stack.

Each sample is a fresh interpreter that sees what a Lambda python3.13 container sees: only the
function folder, the layer (built by its own Makefile, byte-compiled) and the runtime's boto3 on
`sys.path`; Lambda's environment (`LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_NAME`,
`AWS_XRAY_DAEMON_ADDRESS`, `_X_AMZN_TRACE_ID`, ...), so Powertools Tracer and the X-Ray SDK take
their Lambda path, with tracing on and segments sent to a UDP listener here. The clock starts before
the handler module is imported and stops when the first request has answered 200 (`GET /profile`, or
a handle-changing `PATCH /profile`, which also builds the SQS client and sends). The database,
PostgREST + JWKS and SQS are the local stand-ins on loopback, the same for both sides.

The naive stack (`benchmarks/naive_app/app.py`) does the same job as a typical developer would,
with the full dependency set (`supabase` whole). Pairs alternate which side runs first; the figure
is the median of the per-pair ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import uuid
from pathlib import Path
from typing import Any

from benchmarks.layers import python313
from devstack.api_gateway import http_event
from devstack.database import REPO_ROOT, create_user
from devstack.sqs import create_queues, start_moto
from tests.support.lambda_runtime import lambda_environment, xray_daemon
from tests.support.postgres import start_test_database
from tests.support.stack import function_env, running_supabase

OURS_CODE = REPO_ROOT / "functions" / "profile_api"
NAIVE_CODE = REPO_ROOT / "benchmarks" / "naive_app"

SAMPLE = """
import json, sys, time
started = time.perf_counter()
sys.path[:0] = {paths!r}
import app
imported = time.perf_counter()

class Context:
    function_name = "ProfileApiFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:ProfileApiFunction"
    aws_request_id = "11111111-2222-3333-4444-555555555555"
    log_group_name = "/aws/lambda/ProfileApiFunction"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return max(0, int((started + 10 - time.perf_counter()) * 1000))

answer = app.lambda_handler(json.loads({event!r}), Context())
done = time.perf_counter()
assert answer["statusCode"] == 200, answer
print(json.dumps({{"import_ms": (imported - started) * 1000, "first_request_ms": (done - started) * 1000}}))
"""


def sample(
    code: Path, layer: Path, runtime: Path, env: dict[str, str], event: dict[str, Any]
) -> dict[str, float]:
    script = SAMPLE.format(paths=[str(code), str(layer), str(runtime)], event=json.dumps(event))
    done = subprocess.run(
        [python313(), "-I", "-c", script], env=env, capture_output=True, text=True, cwd="/", check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"a cold-start sample failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(layer: Path, naive_layer: Path, runtime: Path, pairs: int) -> dict[str, Any]:
    database = start_test_database()
    moto, sqs_endpoint = start_moto(0)
    try:
        # moto keeps queues per process: a name of its own, so a later stage never reads these.
        queues = create_queues(sqs_endpoint, visibility_timeout=30, prefix=f"cold{uuid.uuid4().hex[:8]}")
        with running_supabase(database) as supabase, xray_daemon() as (xray, segments):
            ours_env = {
                k: v
                for k, v in function_env("ProfileApiFunction", supabase, queues).items()
                if k != "POWERTOOLS_TRACE_DISABLED"  # tracing on, as deployed
            }
            naive_env = {
                "SUPABASE_URL": supabase.url,
                "SUPABASE_ANON_KEY": supabase.anon_key,
                "SCRAPE_QUEUE_URL": queues.queue_url,
                "AWS_ENDPOINT_URL_SQS": sqs_endpoint,
            }
            sides = {
                "ours": (OURS_CODE, layer, lambda_environment(xray, OURS_CODE) | ours_env),
                "naive": (NAIVE_CODE, naive_layer, lambda_environment(xray, NAIVE_CODE) | naive_env),
            }
            results: dict[str, Any] = {}
            for request in ("GET /profile", "PATCH /profile (handle change)"):
                samples: dict[str, list[dict[str, float]]] = {"ours": [], "naive": []}
                for pair in range(pairs):
                    order = ["ours", "naive"] if pair % 2 == 0 else ["naive", "ours"]
                    for side in order:
                        user = str(uuid.uuid4())
                        create_user(database.url, user)
                        headers = {"authorization": f"Bearer {supabase.keys.user_token(user)}"}
                        if request.startswith("GET"):
                            event = http_event("GET", "/profile", headers=headers)
                        else:
                            headers["content-type"] = "application/json"
                            body = json.dumps({"tiktok_handle": f"cold.{pair}.{side}"})
                            event = http_event("PATCH", "/profile", headers=headers, body=body)
                        code, side_layer, env = sides[side]
                        samples[side].append(sample(code, side_layer, runtime, env, event))
                results[request] = summarize(samples)
            results["xray_segments_received"] = len(segments)
            return results
    finally:
        moto.stop()
        database.stop()


def summarize(samples: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    ours, naive = samples["ours"], samples["naive"]
    return {
        "pairs": len(ours),
        "ours_first_request_ms": round(statistics.median(s["first_request_ms"] for s in ours), 1),
        "naive_first_request_ms": round(statistics.median(s["first_request_ms"] for s in naive), 1),
        "ratio_first_request": round(
            statistics.median(
                o["first_request_ms"] / n["first_request_ms"] for o, n in zip(ours, naive, strict=True)
            ),
            3,
        ),
        "ours_import_ms": round(statistics.median(s["import_ms"] for s in ours), 1),
        "naive_import_ms": round(statistics.median(s["import_ms"] for s in naive), 1),
        "ratio_import": round(
            statistics.median(o["import_ms"] / n["import_ms"] for o, n in zip(ours, naive, strict=True)), 3
        ),
        "ours_samples_ms": [round(s["first_request_ms"], 1) for s in ours],
        "naive_samples_ms": [round(s["first_request_ms"], 1) for s in naive],
    }


def main() -> None:
    from benchmarks.layers import WORK, build_layer, build_naive, build_runtime

    pairs = int(os.environ.get("BENCH_PAIRS", "9"))
    layer = build_layer(WORK / "layer")
    naive = build_naive(WORK / "naive")
    runtime = build_runtime(WORK / "runtime")
    print(json.dumps(measure(layer, naive, runtime, pairs), indent=2))


if __name__ == "__main__":
    main()
