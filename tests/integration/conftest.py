"""Session-wide local parts for the integration tier: the Supabase stand-in and moto's SQS server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devstack.database import Database
from devstack.sqs import LocalQueues, create_queues, start_moto
from tests.support.stack import SupabaseStandIn, running_supabase


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
