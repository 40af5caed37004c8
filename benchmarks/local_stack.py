"""Benchmarks against a running local stack (`python -m devstack up`), over real HTTP: Apify runs per
scrape request, latency and behaviour under load, and time from PATCH to `succeeded`."""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from devstack.apify import synthetic_items
from tests.support.local_stack import RunningStack, api_client, start_stack, wait_for


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def tokens(stack: RunningStack, count: int) -> list[str]:
    keys = stack.keys()
    users = [str(uuid.uuid4()) for _ in range(count)]
    # create the users through the CLI once (it attaches to the stack's database), then mint tokens here
    from devstack.database import create_user

    url = stack.stack_json()["database_url"]
    for user in users:
        create_user(url, user)
    return [keys.user_token(u, expires_in=3600) for u in users]


def apify_runs(stack: RunningStack) -> list[dict[str, Any]]:
    reply = httpx.get(f"http://127.0.0.1:{stack.ports['apify']}/_devstack/runs", timeout=10).json()
    return list(reply["runs"])


def all_settled(clients: list[httpx.Client], status: str = "succeeded") -> bool:
    return all(
        (c.get("/profile").json().get("creator") or {}).get("scrape", {}).get("status") == status
        for c in clients
    )


def apify_cost(batch_window: float = 20.0) -> dict[str, Any]:
    """100 scrape requests (distinct handles), then 100 requests for 10 handles, with the template's
    batching window (20 s): actor runs started, and how often each handle was scraped."""
    stack = start_stack(extra_env={"DEVSTACK_BATCH_WINDOW_SECONDS": str(batch_window)})
    try:
        results: dict[str, Any] = {}
        results["100 requests, 100 handles"] = burst(stack, lambda i: f"cost.a{i}")
        results["100 requests, 10 handles"] = burst(stack, lambda i: f"cost.b{i // 10}")
        return results
    finally:
        stack.stop()


def hostile_cost() -> dict[str, Any]:
    """Actor runs per 100 requests when the requester or the upstream is hostile (DESIGN §11):
    one scripted user sending 100 handle-changing PATCHes then 100 refreshes; and 100 honest users
    whose handles the upstream answers with poisoned profiles (every field malformed)."""
    stack = start_stack()
    try:
        results: dict[str, Any] = {}
        # One abusive user
        before = len(apify_runs(stack))
        (token,) = tokens(stack, 1)
        client = api_client(stack, token)
        statuses: dict[int, int] = {}
        for i in range(100):
            code = client.patch("/profile", json={"tiktok_handle": f"abuse.{i}"}).status_code
            statuses[code] = statuses.get(code, 0) + 1
        for _ in range(100):
            code = client.post("/profile/refresh").status_code
            statuses[code] = statuses.get(code, 0) + 1
        wait_for(lambda: all_settled([client]), timeout=120, every=1)
        time.sleep(3)
        client.close()
        results["one abusive user: 100 handle changes + 100 refreshes"] = {
            "answers": {str(k): v for k, v in sorted(statuses.items())},
            "actor_runs": len(apify_runs(stack)) - before,
        }
        # A poisoned upstream
        handles = [f"poison.p{i}" for i in range(100)]
        poison = {
            h: [
                {
                    "input": h,
                    "authorMeta": {
                        "id": "6812" if i % 2 else None,
                        "name": h,
                        "nickName": "\ud800\u0000" * 3,
                        "fans": 1e20,
                        "heart": "\u00b2",
                        "video": "12K",
                        "avatar": "http://insecure.test/a.jpg",
                        "signature": "x" * 100_000,
                    },
                }
            ]
            for i, h in enumerate(handles)
        }
        # ASCII-escaped JSON: the poison holds lone surrogates, which UTF-8 cannot carry raw
        httpx.post(
            f"{stack.control}/apify/items",
            content=json.dumps(poison).encode(),
            headers={"content-type": "application/json"},
            timeout=30,
        ).raise_for_status()
        before = len(apify_runs(stack))
        clients = [api_client(stack, t) for t in tokens(stack, 100)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(
                pool.map(
                    lambda i: clients[i].patch("/profile", json={"tiktok_handle": handles[i]}), range(100)
                )
            )
        wait_for(
            lambda: all(
                (c.get("/profile").json()["creator"]["scrape"]["status"] in {"succeeded", "failed"})
                for c in clients
            ),
            timeout=180,
            every=2,
        )
        time.sleep(5)  # anything retried would start another run by now
        final = [c.get("/profile").json()["creator"]["scrape"]["status"] for c in clients]
        for c in clients:
            c.close()
        results["poisoned upstream: 100 users, 100 handles"] = {
            "answers": {"200": 100},
            "actor_runs": len(apify_runs(stack)) - before,
            "succeeded_sanitised": final.count("succeeded"),
            "failed_unusable": final.count("failed"),
        }
        return results
    finally:
        stack.stop()


def burst(stack: RunningStack, handle_of: Callable[[int], str], count: int = 100) -> dict[str, Any]:
    """`count` users link a handle each, ten at a time; then every profile must settle."""
    before = len(apify_runs(stack))
    clients = [api_client(stack, t) for t in tokens(stack, count)]

    def link(index: int) -> int:
        return int(clients[index].patch("/profile", json={"tiktok_handle": handle_of(index)}).status_code)

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(link, range(count)))
    wait_for(lambda: all_settled(clients), timeout=180, every=2)
    runs = apify_runs(stack)[before:]
    scraped: dict[str, int] = {}
    for run in runs:
        for handle in run["profiles"]:
            scraped[handle] = scraped.get(handle, 0) + 1
    for client in clients:
        client.close()
    return {
        "patch_errors": sum(1 for s in statuses if s != 200),
        "actor_runs": len(runs),
        "profiles_per_run": [len(r["profiles"]) for r in runs],
        "distinct_handles": len({handle_of(i) for i in range(count)}),
        "max_scrapes_of_one_handle": max(scraped.values()),
        "cost_usd": round(sum(float(r.get("usageTotalUsd") or 0) for r in runs), 4),
    }


def load(users: int = 50, patches_each: int = 20, gets_each: int = 10) -> dict[str, Any]:
    """`users` users sending `patches_each` PATCHes concurrently, each changing the handle, then GETs;
    checks each final state and that each final handle was scraped at its final generation."""
    stack = start_stack()
    try:
        clients = [api_client(stack, t) for t in tokens(stack, users)]
        patch_ms: list[float] = []
        get_ms: list[float] = []
        errors: list[str] = []
        rate_limited: list[int] = []  # 429s: the database's handle-change limit (5 an hour a user)
        last_ack: dict[int, dict[str, Any]] = {}
        lock = threading.Lock()

        def user_session(index: int) -> None:
            client = clients[index]
            for j in range(patches_each):
                body = {
                    "tiktok_handle": f"load{index}.h{j}",
                    "niche": f"niche {j}",
                    "posting_goal_per_week": j % 51,
                }
                started = time.perf_counter()
                reply = client.patch("/profile", json=body)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    patch_ms.append(elapsed)
                    if reply.status_code == 200:
                        last_ack[index] = body
                    elif reply.status_code == 429:
                        rate_limited.append(index)
                    else:
                        errors.append(f"PATCH {reply.status_code}")
            for _ in range(gets_each):
                started = time.perf_counter()
                reply = client.get("/profile")
                with lock:
                    get_ms.append((time.perf_counter() - started) * 1000)
                    if reply.status_code != 200:
                        errors.append(f"GET {reply.status_code}")

        unloaded = unloaded_latency(clients[0])
        began = time.perf_counter()
        threads = [threading.Thread(target=user_session, args=(i,)) for i in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        wait_for(lambda: all_settled(clients), timeout=300, every=2)
        mismatches, stale = 0, 0
        for index, client in enumerate(clients):
            profile = client.get("/profile").json()
            ack = last_ack[index]
            if (profile["tiktok_handle"], profile["niche"], profile["posting_goal_per_week"]) != (
                ack["tiktok_handle"],
                ack["niche"],
                ack["posting_goal_per_week"],
            ):
                mismatches += 1
            expected_id = synthetic_items(ack["tiktok_handle"])[0]["authorMeta"]["id"]
            if profile["creator"]["tiktok_user_id"] != expected_id:
                stale += 1
        settle_ms = time_to_succeeded(stack, 20)
        status = httpx.get(f"{stack.control}/status", timeout=10).json()
        for c in clients:
            c.close()
        return {
            "users": users,
            "patches": len(patch_ms),
            "gets": len(get_ms),
            "errors": len(errors),
            "rate_limited": len(rate_limited),
            "wall_seconds": round(wall, 1),
            "throughput_rps": round((len(patch_ms) + len(get_ms)) / wall, 1),
            "final_state_mismatches": mismatches,
            "final_handle_not_scraped_at_final_generation": stale,
            "patch_p50_ms": round(percentile(patch_ms, 50), 1),
            "patch_p99_ms": round(percentile(patch_ms, 99), 1),
            "get_p50_ms": round(percentile(get_ms, 50), 1),
            "get_p99_ms": round(percentile(get_ms, 99), 1),
            "patch_to_succeeded_p50_ms": round(statistics.median(settle_ms), 0),
            "patch_to_succeeded_max_ms": round(max(settle_ms), 0),
            "actor_runs": status["apify_runs"],
        } | unloaded
    finally:
        stack.stop()


def unloaded_latency(client: httpx.Client, count: int = 30) -> dict[str, float]:
    """One user, one request at a time: the latency of the path itself, without queueing."""
    gets, patches = [], []
    for i in range(count):
        started = time.perf_counter()
        client.get("/profile")
        gets.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        client.patch("/profile", json={"niche": f"warm {i}"})
        patches.append((time.perf_counter() - started) * 1000)
    return {
        "unloaded_get_p50_ms": round(statistics.median(gets), 1),
        "unloaded_patch_p50_ms": round(statistics.median(patches), 1),
    }


def time_to_succeeded(stack: RunningStack, count: int) -> list[float]:
    """One user at a time: PATCH a new handle, poll GET every 50 ms until `succeeded`."""
    results = []
    for token in tokens(stack, count):
        with api_client(stack, token) as client:
            started = time.perf_counter()
            client.patch("/profile", json={"tiktok_handle": f"settle.{uuid.uuid4().hex[:8]}"})
            wait_for(
                lambda: all_settled([client]),
                timeout=60,
                every=0.05,
            )
            results.append((time.perf_counter() - started) * 1000)
    return results
