from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from devstack.database import Database
from tests.support.postgres import RoleClient, new_user, role_client, user_claims

UserClient = Callable[[str], AbstractContextManager[RoleClient]]


@pytest.fixture
def alice(db: Database) -> str:
    return new_user(db.url)


@pytest.fixture
def bob(db: Database) -> str:
    return new_user(db.url)


@pytest.fixture
def as_user(db: Database) -> UserClient:
    def open_client(user_id: str) -> AbstractContextManager[RoleClient]:
        return role_client(db.authenticator_url, "authenticated", user_claims(user_id))

    return open_client


@pytest.fixture
def service(db: Database) -> Iterator[RoleClient]:
    with role_client(db.authenticator_url, "service_role", {"role": "service_role"}) as client:
        yield client
