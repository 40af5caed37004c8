"""Round trips, counted at the stand-ins (DESIGN §3, §6): database calls at the PostgREST stand-in,
SQS sends at the boto3 client, actor runs at the Apify stand-in. Runs the real handlers in process."""

from __future__ import annotations

import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from devstack.apify import ApifyStandIn, apify_server
from devstack.database import create_user, start_database
from devstack.event_source import SqsEventSource
from devstack.lambda_context import load_handler, new_context
from devstack.sqs import create_queues, start_moto
from devstack.template import function_spec
from tests.support.api import ApiClient, new_container
from tests.support.stack import function_env, patched_environ, running_supabase


def measure() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    database = start_database(Path(tempfile.mkdtemp(prefix="bench-pg-")) / "pgdata", delete_on_stop=True)
    moto, endpoint = start_moto(0)
    apify = ApifyStandIn(token="apify-test-token", run_seconds=0.05)
    apify_http = apify_server(0, apify).start()
    apify.url = apify_http.url
    try:
        with running_supabase(database) as supabase, ExitStack() as stack:
            # moto keeps queues per process: a name of its own (make bench runs other stages first).
            queues = create_queues(endpoint, visibility_timeout=30, prefix=f"trips{uuid.uuid4().hex[:8]}")
            stack.enter_context(patched_environ(function_env("ProfileApiFunction", supabase, queues)))
            new_container()
            api = ApiClient(load_handler(function_spec("ProfileApiFunction")))
            sqs = queues.client()

            def queued() -> int:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=queues.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                return int(attributes["ApproximateNumberOfMessages"])

            user = str(uuid.uuid4())
            create_user(database.url, user)
            token = supabase.keys.user_token(user)

            def count(
                label: str, method: str, path: str, body: Any, expected_db: int, expected_sqs: int
            ) -> None:
                db_before, sqs_before = sum(supabase.postgrest.calls.values()), queued()
                status = api.request(method, path, token=token, json_body=body).status
                rows.append(
                    {
                        "case": label,
                        "status": status,
                        "db_calls": sum(supabase.postgrest.calls.values()) - db_before,
                        "sqs_sends": queued() - sqs_before,
                        "expected": f"{expected_db} db + {expected_sqs} sqs",
                    }
                )

            count("GET /profile", "GET", "/profile", None, 1, 0)
            count("PATCH settings", "PATCH", "/profile", {"niche": "food"}, 1, 0)
            count("PATCH new handle", "PATCH", "/profile", {"tiktok_handle": "jane.doe"}, 1, 1)
            count("PATCH same handle", "PATCH", "/profile", {"tiktok_handle": "@Jane.Doe"}, 1, 0)
            # the worker: one batch of the queued message
            stack.enter_context(
                patched_environ(function_env("ScrapeWorkerFunction", supabase, queues, apify.url))
            )
            new_container()
            spec = function_spec("ScrapeWorkerFunction")
            handler = load_handler(spec)
            source = SqsEventSource(
                queues.client(), queues.queue_url, lambda e: handler(e, new_context(spec))
            )
            db_before, runs_before = sum(supabase.postgrest.calls.values()), len(apify.runs)
            source.poll_once(wait_seconds=1)
            rows.append(
                {
                    "case": "worker batch",
                    "status": "ok",
                    "db_calls": sum(supabase.postgrest.calls.values()) - db_before,
                    "sqs_sends": 0,
                    "actor_runs": len(apify.runs) - runs_before,
                    "expected": "2 db + 1 actor run",
                }
            )
            new_container()
    finally:
        apify_http.stop()
        moto.stop()
        database.stop()
    return rows
