"""Session-wide local parts for the integration tier: the Supabase stand-in and moto's SQS server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from devstack.apify import ApifyStandIn, apify_server
from devstack.database import Database
from devstack.event_source import SqsEventSource
from devstack.lambda_context import load_handler, new_context
from devstack.sqs import LocalQueues, create_queues, start_moto
from devstack.template import function_spec
from tests.support.api import ApiClient, new_container
from tests.support.postgres import new_user
from tests.support.stack import SupabaseStandIn, function_env, patched_environ, running_supabase


@pytest.fixture(scope="session")
def supabase(database: Database) -> Iterator[SupabaseStandIn]:
    with running_supabase(database) as standin:
        yield standin


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    server, endpoint = start_moto(0)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def queues(sqs_endpoint: str) -> LocalQueues:
    """A queue and DLQ of this test's own (moto, like SQS, allows one purge a minute)."""
    return create_queues(sqs_endpoint, visibility_timeout=2, prefix=f"t{uuid.uuid4().hex[:12]}")


APIFY_TEST_TOKEN = "apify-test-token"
MakeApi = Callable[..., ApiClient]


@pytest.fixture
def make_api(db: Database, supabase: SupabaseStandIn, queues: LocalQueues) -> Iterator[MakeApi]:
    """Builds an ApiClient over the real handler with the local environment plus overrides."""
    with ExitStack() as stack:

        def make(**overrides: str) -> ApiClient:
            stack.enter_context(
                patched_environ(function_env("ProfileApiFunction", supabase, queues, **overrides))
            )
            new_container()
            return ApiClient(load_handler(function_spec("ProfileApiFunction")))

        yield make
        new_container()


@pytest.fixture
def api(make_api: MakeApi) -> ApiClient:
    return make_api()


@pytest.fixture
def user(db: Database) -> str:
    return new_user(db.url)


@pytest.fixture
def token(supabase: SupabaseStandIn, user: str) -> str:
    return supabase.keys.user_token(user)


@pytest.fixture(scope="session")
def apify_session() -> Iterator[ApifyStandIn]:
    standin = ApifyStandIn(token=APIFY_TEST_TOKEN, run_seconds=0.05)
    server = apify_server(0, standin).start()
    standin.url = server.url
    try:
        yield standin
    finally:
        server.stop()


@pytest.fixture
def apify(apify_session: ApifyStandIn) -> ApifyStandIn:
    """The Apify stand-in with no queued faults and its run log emptied for this test."""
    apify_session.clear_faults()
    apify_session.runs.clear()
    apify_session.requests.clear()
    return apify_session


Invoker = Callable[[dict[str, Any]], Any]
MakeFunction = Callable[..., Invoker]


@pytest.fixture
def make_function(
    db: Database, supabase: SupabaseStandIn, queues: LocalQueues, apify: ApifyStandIn
) -> Iterator[Callable[..., Invoker]]:
    """make_function(LogicalId, **env overrides): the real handler, loaded as `devstack invoke`
    loads it, with the local environment; each call gets a fresh Lambda context."""
    with ExitStack() as stack:

        def make(logical_id: str, **overrides: str) -> Invoker:
            local = {"WAIT_MARGIN_SECONDS": "1"}
            env = local | function_env(logical_id, supabase, queues, apify.url, **overrides)
            stack.enter_context(patched_environ(env | overrides))
            new_container()
            spec = function_spec(logical_id)
            handler = load_handler(spec)
            return lambda event: handler(event, new_context(spec))

        yield make
        new_container()


@pytest.fixture
def make_worker(make_function: Callable[..., Invoker]) -> MakeFunction:
    return lambda **overrides: make_function("ScrapeWorkerFunction", **overrides)


@pytest.fixture
def make_reconciler(make_function: Callable[..., Invoker]) -> MakeFunction:
    return lambda **overrides: make_function("ReconcilerFunction", **overrides)


@pytest.fixture
def worker_source(make_worker: MakeFunction, queues: LocalQueues) -> SqsEventSource:
    """The event source mapping stand-in feeding the worker from this test's queue."""
    return SqsEventSource(
        queues.client(), queues.queue_url, make_worker(), batch_size=10, batching_window_seconds=0.5
    )
