"""Scale benchmarks (DESIGN §12), run by `make bench-scale` (not in CI):

1. The RPCs at 1,000,000 creators: a PostgreSQL loaded with realistic rows (90 % succeeded with
   scrapes spread over 48 h, 5 % queued, the rest failed / idle / not_found), each RPC timed as its
   caller runs it, and the claim's statements' plan shapes (EXPLAIN ANALYZE, BUFFERS).
2. A drain run on the local stack: 10,000 linked creators due for a refresh, the reconciler and the
   worker left to it; actor runs counted against ceil(10,000 / handles per run), sends against
   one per creator.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from devstack.database import Database
from tests.support.postgres import start_test_database

ROWS = 1_000_000
SAMPLES = 15
HANDLES_PER_RUN = 100  # the 1M recommendation (README "Capacity")


def load(db: Database, rows: int) -> float:
    """Realistic rows, loaded in one statement per table; returns the seconds it took."""
    started = time.monotonic()
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            "insert into auth.users (id, email)"
            " select gen_random_uuid(), 'u' || i || '@example.test' from generate_series(1, %s) as i",
            (rows,),
        )
        conn.execute(
            """
            insert into public.creator_profiles
              (user_id, tiktok_handle, tiktok_user_id, display_name, followers, following, hearts, videos,
               scrape_status, scrape_generation, scrape_requested_at, scraped_at, next_refresh_at,
               last_seen_at, scrape_error)
            select u.id, 'creator.' || n, (6e18 + n)::bigint::text, 'Creator ' || n, n % 100000, n % 500,
                   n * 7, n % 300,
                   s.status, 1 + n % 3,
                   now() - interval '48 hours' * r,
                   case when s.status in ('succeeded', 'not_found') then now() - interval '48 hours' * r end,
                   case when s.status = 'succeeded'
                        then now() - interval '48 hours' * r + interval '1 day' end,
                   now() - interval '20 days' * random(),
                   case when s.status = 'failed' then 'the actor run returned no item' end
            from (select id, row_number() over () as n, random() as r from auth.users) as u
            cross join lateral (select case
                when u.r < 0.90 then 'succeeded' when u.r < 0.95 then 'queued'
                when u.r < 0.97 then 'failed' when u.r < 0.99 then 'not_found' else 'idle' end as status) as s
            """
        )
        conn.execute("update public.creator_profiles set tiktok_handle = null where scrape_status = 'idle'")
        conn.execute(
            "insert into public.user_settings (user_id, niche, timezone)"
            " select user_id, 'food', 'Europe/Paris' from public.creator_profiles"
        )
        conn.execute("vacuum analyze")
    return time.monotonic() - started


def timed(conn: psycopg.Connection[Any], role: str, claims: dict[str, Any], sql: str, params: Any) -> float:
    """One call as PostgREST makes it (a transaction with role and claims), rolled back so every
    sample sees the same table; milliseconds."""
    conn.execute("begin")
    conn.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, json.dumps(claims)),
    )
    started = time.perf_counter()
    conn.execute(sql, params).fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    conn.execute("rollback")
    return elapsed


def rpc_timings(db: Database) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with psycopg.connect(db.url, row_factory=dict_row, autocommit=True) as admin:
        users = [
            r["user_id"]
            for r in admin.execute(
                "select user_id::text from public.creator_profiles tablesample system (1) limit 200"
            ).fetchall()
        ]
        queued = admin.execute(
            "select user_id::text, scrape_generation from public.creator_profiles"
            " where scrape_status = 'queued' limit 10"
        ).fetchall()
    with psycopg.connect(db.authenticator_url, row_factory=dict_row, autocommit=True) as conn:

        def user(i: int) -> dict[str, Any]:
            return {"sub": users[i], "role": "authenticated"}

        service = {"role": "service_role"}
        results = json.dumps(
            [
                {
                    "user_id": q["user_id"],
                    "generation": q["scrape_generation"],
                    "status": "succeeded",
                    "profile": {"tiktok_user_id": "68", "followers": 10, "display_name": "X"},
                }
                for q in queued
            ]
        )
        cases = {
            "get_profile": ("authenticated", "select public.get_profile()", None),
            "update_profile (settings)": (
                "authenticated",
                'select public.update_profile(\'{"niche": "travel"}\', false, null)',
                None,
            ),
            "record_scrape_results (10)": (
                "service_role",
                "select public.record_scrape_results(%s::json)",
                (results,),
            ),
            "claim_reconcile (500)": (
                "service_role",
                "select public.claim_reconcile(3600, 86400, 500)",
                None,
            ),
            "claim_reconcile (10,000)": (
                "service_role",
                "select public.claim_reconcile(3600, 86400, 10000)",
                None,
            ),
        }
        for name, (role, sql, params) in cases.items():
            samples = [
                timed(conn, role, user(i) if role == "authenticated" else service, sql, params)
                for i in range(SAMPLES)
            ]
            out[name] = {"median_ms": round(statistics.median(samples), 2), "max_ms": round(max(samples), 2)}
    return out


def claim_plans(db: Database) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the three claim statements for 10,000 rows, as claim_reconcile
    runs them (read from the function), rolled back."""
    import re

    with psycopg.connect(db.url, row_factory=dict_row) as conn:
        source = conn.execute(
            "select prosrc from pg_proc where proname = 'claim_reconcile'"
            " and pronamespace = 'public'::regnamespace"
        ).fetchone()
        assert source is not None
        statements = re.findall(
            r"(with picked as \(.*?\)\s+select .*?)\s+into v_part from claimed;", source["prosrc"], re.S
        )
        plans = []
        for lane, statement in zip(("lost", "deferred", "scheduled"), statements, strict=True):
            sql = (
                statement.replace("v_limit", "10000").replace("v_lost_before", "(now() - interval '1 hour')")
                + " from claimed"
            )
            row = conn.execute("explain (analyze, buffers, format json) " + sql).fetchone()
            conn.rollback()
            assert row is not None
            plan = row["QUERY PLAN"][0]
            nodes = _nodes(plan["Plan"])
            plans.append(
                {
                    "lane": lane,
                    "ms": round(plan["Execution Time"], 1),
                    "rows": plan["Plan"]["Plans"][0].get("Actual Rows"),
                    "scans": sorted(
                        {
                            f"{n['Node Type']} {n.get('Index Name', '')}".strip()
                            for n in nodes
                            if n.get("Relation Name") == "creator_profiles" or "Index Name" in n
                        }
                    ),
                    "sorts_or_seq_scans": [
                        n["Node Type"] for n in nodes if n["Node Type"] in {"Sort", "Seq Scan"}
                    ],
                }
            )
    return plans


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found.extend(_nodes(child))
    return found


def at_a_million() -> dict[str, Any]:
    db = start_test_database()
    try:
        seconds = load(db, ROWS)
        return {
            "rows": ROWS,
            "load_seconds": round(seconds),
            "rpc": rpc_timings(db),
            "claim_plans": claim_plans(db),
        }
    finally:
        db.stop()


def drain(creators: int = 10_000, concurrency: int = 2) -> dict[str, Any]:
    """`creators` succeeded profiles all due for a refresh on the local stack; the reconciler claims
    1,000 a run every 5 s, two pollers feed the worker. Runs and sends counted at the stand-ins."""
    from tests.support.local_stack import start_stack, wait_for

    stack = start_stack(
        extra_env={
            "DEVSTACK_SET_RECONCILE_LIMIT": "1000",
            "DEVSTACK_SET_LOST_AFTER_SECONDS": "1800",
            "DEVSTACK_SET_SCRAPE_BATCH_SIZE": str(HANDLES_PER_RUN),
            "DEVSTACK_SET_WORKER_TIMEOUT_SECONDS": "300",
            # as deployed: a visibility timeout far above one batch's time, the template's 20 s window
            "DEVSTACK_SET_SCRAPE_VISIBILITY_TIMEOUT_SECONDS": "300",
            "DEVSTACK_BATCH_WINDOW_SECONDS": "20",
            "DEVSTACK_SET_WORKER_MAX_CONCURRENCY": str(concurrency),
            "DEVSTACK_APIFY_RUN_SECONDS": "0.2",
        },
        timeout=120,
    )
    try:
        url = stack.stack_json()["database_url"]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "insert into auth.users (id) select gen_random_uuid() from generate_series(1, %s)",
                (creators,),
            )
            conn.execute(
                """
                insert into public.creator_profiles (user_id, tiktok_handle, scrape_status, scrape_generation,
                  scrape_requested_at, scraped_at, next_refresh_at, last_seen_at)
                select id, 'drain.' || row_number() over (), 'succeeded', 1, now() - interval '2 days',
                       now() - interval '2 days', now() - interval '1 day', now()
                from auth.users where id not in (select user_id from public.creator_profiles)
                """
            )
        handles_per_run = HANDLES_PER_RUN
        started = time.monotonic()

        def done() -> bool:
            with psycopg.connect(url) as conn:
                row = conn.execute(
                    "select count(*) from public.creator_profiles"
                    " where tiktok_handle like 'drain.%%' and scrape_status <> 'succeeded'"
                    "    or (tiktok_handle like 'drain.%%' and scrape_generation = 1)"
                ).fetchone()
            return row is not None and row[0] == 0

        wait_for(done, timeout=1800, every=5)
        seconds = time.monotonic() - started
        time.sleep(20)  # anything sent twice would show as a second run by now
        runs = httpx.get(f"http://127.0.0.1:{stack.ports['apify']}/_devstack/runs", timeout=30).json()["runs"]
        scraped: dict[str, int] = {}
        for run in runs:
            for handle in run["profiles"]:
                scraped[handle] = scraped.get(handle, 0) + 1
        return {
            "creators": creators,
            "worker_concurrency": concurrency,
            "handles_per_run": handles_per_run,
            "seconds": round(seconds),
            "actor_runs": len(runs),
            "expected_runs": math.ceil(creators / handles_per_run),
            "handles_scraped_twice": sum(1 for n in scraped.values() if n > 1),
            "handles_scraped": len(scraped),
        }
    finally:
        stack.stop()


def main() -> None:
    import sys

    parts = sys.argv[1:] or ["million", "drain"]
    if "million" in parts:
        print(json.dumps({"at_a_million": at_a_million()}, indent=2), flush=True)
    if "drain" in parts:
        concurrencies = [int(c) for c in os.environ.get("DRAIN_CONCURRENCY", "1,2").split(",")]
        for concurrency in concurrencies:
            print(json.dumps({"drain": drain(concurrency=concurrency)}, indent=2), flush=True)


if __name__ == "__main__":
    main()
