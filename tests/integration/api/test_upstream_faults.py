"""The API when its upstreams fail (DESIGN §3): a real PostgreSQL of this module's own is stopped,
restarted, has its connections killed and is made to hang; SQS is black-holed. Every answer is 503
`unavailable` with Retry-After (or 200 where the change was saved), inside the time budget, and a
request answered 503 never commits later."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest

from devstack.database import Database
from devstack.lambda_context import LocalLambdaContext, load_handler
from devstack.sqs import LocalQueues
from devstack.template import function_spec
from tests.support.api import ApiClient, ApiReply, new_container
from tests.support.logs import captured_logs
from tests.support.postgres import admin_rows, new_user, start_test_database
from tests.support.stack import (
    SupabaseStandIn,
    function_env,
    patched_environ,
    queue_messages,
    running_supabase,
)


@pytest.fixture(scope="module")
def own_database() -> Iterator[Database]:
    db = start_test_database()
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="module")
def own_supabase(own_database: Database) -> Iterator[SupabaseStandIn]:
    with running_supabase(own_database) as standin:
        yield standin


@pytest.fixture
def faulty_api(own_supabase: SupabaseStandIn, queues: LocalQueues) -> Iterator[Callable[..., ApiClient]]:
    with ExitStack() as stack:

        def make(**overrides: str) -> ApiClient:
            stack.enter_context(
                patched_environ(function_env("ProfileApiFunction", own_supabase, queues, **overrides))
            )
            new_container()
            return ApiClient(load_handler(function_spec("ProfileApiFunction")))

        yield make
        new_container()


@pytest.fixture
def account(own_database: Database, own_supabase: SupabaseStandIn) -> tuple[str, str]:
    user = new_user(own_database.url)
    return user, own_supabase.keys.user_token(user)


def assert_unavailable(reply: ApiReply) -> None:
    assert (reply.status, reply.body["error"]["code"]) == (503, "unavailable"), reply.text
    assert int(reply.header("retry-after") or 0) >= 1
    assert reply.body["request_id"] == reply.request_id


def test_killed_connections_are_retried_or_503_and_the_next_request_works(
    own_database: Database, faulty_api: Callable[..., ApiClient], account: tuple[str, str]
) -> None:
    api = faulty_api()
    _, token = account
    assert api.request("GET", "/profile", token=token).status == 200
    # When every connection PostgREST holds is killed (57P01, admin shutdown)
    with psycopg.connect(own_database.url, autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where usename = 'authenticator'"
        )
    # Then the next request is answered (retried on a fresh connection) or a clean 503
    first = api.request("GET", "/profile", token=token)
    if first.status != 200:
        assert_unavailable(first)
    # and the API has recovered by the request after
    assert api.request("GET", "/profile", token=token).status == 200


def test_a_stopped_database_is_503_and_a_restarted_one_is_used_again(
    own_database: Database, faulty_api: Callable[..., ApiClient], account: tuple[str, str]
) -> None:
    api = faulty_api()
    _, token = account
    assert api.request("GET", "/profile", token=token).status == 200
    own_database.server.stop()
    try:
        started = time.monotonic()
        assert_unavailable(api.request("GET", "/profile", token=token))
        assert_unavailable(api.request("PATCH", "/profile", token=token, json_body={"niche": "down"}))
        assert time.monotonic() - started < 16  # each inside the 8 s budget
    finally:
        own_database.server.start()
    # the stale pooled connections of the stand-in and of the API recover on the next request
    reply = api.request("GET", "/profile", token=token)
    if reply.status != 200:
        assert_unavailable(reply)
        reply = api.request("GET", "/profile", token=token)
    assert reply.status == 200
    assert reply.body["niche"] is None  # the PATCH answered 503 was not written


def test_postgrests_own_503_is_503(
    own_supabase: SupabaseStandIn, faulty_api: Callable[..., ApiClient], account: tuple[str, str]
) -> None:
    api = faulty_api()
    _, token = account
    own_supabase.postgrest.database_down = True
    try:
        assert_unavailable(api.request("GET", "/profile", token=token))
    finally:
        own_supabase.postgrest.database_down = False


def test_a_hung_database_answers_503_in_time_and_the_write_never_lands(
    own_database: Database, faulty_api: Callable[..., ApiClient], account: tuple[str, str]
) -> None:
    api = faulty_api()
    user, token = account
    assert (
        api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "first.name"}).status == 200
    )
    # Given the user's row is locked by something that holds it past the API's client timeout
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(own_database.url) as conn:
            conn.execute("select 1 from public.creator_profiles where user_id = %s for update", (user,))
            locked.set()
            release.wait(15)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(5)
    try:
        # When the user changes the handle
        started = time.monotonic()
        reply = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "late.write"})
        elapsed = time.monotonic() - started
    finally:
        time.sleep(1.5)  # the lock outlives the API's 5 s client timeout by the time it is released
        release.set()
        holder.join()
    # Then the API answered 503 inside its budget
    assert_unavailable(reply)
    assert elapsed < 8
    # and the database gave up first: nothing lands once the lock is gone
    time.sleep(1)
    rows = admin_rows(
        own_database.url, "select tiktok_handle from public.creator_profiles where user_id = %s", (user,)
    )
    assert rows == [{"tiktok_handle": "first.name"}]


def test_the_database_refuses_to_commit_after_the_callers_deadline(own_database: Database) -> None:
    user = new_user(own_database.url)
    with psycopg.connect(own_database.authenticator_url) as conn:
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true)",
            (
                f'{{"sub": "{user}", "role": "authenticated"}}',
                f'{{"x-creator-sync-deadline": "{time.time() - 1:.3f}"}}',
            ),
        )
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("select public.update_profile('{\"niche\": \"late\"}', true, 'late.write')")
    assert (
        admin_rows(own_database.url, "select * from public.user_settings where user_id = %s", (user,)) == []
    )


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP endpoint that accepts connections and never answers (SQS black-holed)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def test_a_black_holed_sqs_still_answers_200_within_the_budget(
    faulty_api: Callable[..., ApiClient], account: tuple[str, str], black_hole: str, own_database: Database
) -> None:
    api = faulty_api(AWS_ENDPOINT_URL_SQS=black_hole)
    _, token = account
    with captured_logs() as logs:
        started = time.monotonic()
        reply = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
        elapsed = time.monotonic() - started
    # Then the change is saved and answered in time (the SQS send had 3 s in all), the warning logged
    assert reply.status == 200
    assert reply.body["creator"]["scrape"]["status"] == "queued"
    assert elapsed < 4.5
    assert any("saved but not sent" in r["message"] for r in logs.records)
    admin_rows(own_database.url, "select 1")  # the database is still fine


def test_the_handler_stops_calling_out_when_little_time_is_left(
    faulty_api: Callable[..., ApiClient], account: tuple[str, str], queues: LocalQueues
) -> None:
    api = faulty_api()
    _, token = account
    # Given an invocation with 4.5 s left (the budget keeps 2 s back: 2.5 s remain, under SQS's 3 s)
    event: dict[str, Any] = {}
    from devstack.api_gateway import http_event

    event = http_event(
        "PATCH",
        "/profile",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        body='{"tiktok_handle": "short.time"}',
    )
    context = LocalLambdaContext(function_name="ProfileApiFunction", timeout_seconds=4.5)
    with captured_logs() as logs:
        result = api.handler(event, context)
    # Then the change is saved, no send was attempted, and the reconciler is left to deliver it
    assert result["statusCode"] == 200
    assert queue_messages(queues) == []
    assert any("too little time left" in r["message"] for r in logs.records)


def test_a_get_publishes_no_empty_metrics_and_warns_nothing(
    faulty_api: Callable[..., ApiClient], account: tuple[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    api = faulty_api()
    _, token = account
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert api.request("GET", "/profile", token=token).status == 200
    assert not [w for w in caught if "No application metrics" in str(w.message)]
    assert '"_aws"' not in capfd.readouterr().out
