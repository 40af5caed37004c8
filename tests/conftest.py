"""Fixtures shared by every tier: one embedded PostgreSQL per test session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.database import Database
from tests.support.postgres import reset, start_test_database


@pytest.fixture(scope="session")
def database() -> Iterator[Database]:
    db = start_test_database()
    try:
        yield db
    finally:
        db.stop()


@pytest.fixture
def db(database: Database) -> Database:
    """The session database with every row of the previous test removed."""
    reset(database.url)
    return database
