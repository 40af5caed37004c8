"""Session-wide local parts for the integration tier: the Supabase stand-in and moto's SQS server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from devstack.database import Database
from devstack.lambda_context import load_handler
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
    return create_queues(sqs_endpoint, visibility_timeout=30, prefix=f"t{uuid.uuid4().hex[:12]}")


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
