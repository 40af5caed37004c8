"""A session-wide embedded PostgreSQL for the tests, with helpers to act as Supabase's roles."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from devstack.database import Database, as_role, create_user, start_database


def start_test_database() -> Database:
    # mkdtemp, not pytest's tmp_path: as root the server runs as the `pgserver` user, which must be
    # able to reach its data directory (pytest's base temp dir is private to the current user).
    return start_database(Path(tempfile.mkdtemp(prefix="creator-sync-pg-")) / "pgdata", delete_on_stop=True)


@contextmanager
def scratch_database(database: Database, prefix: str) -> Iterator[str]:
    """A new, empty database in the session's server (for schemas in a past state); dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database.url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    try:
        yield database.url.replace("/postgres?", f"/{name}?", 1)
    finally:
        with psycopg.connect(database.url, autocommit=True) as conn:
            conn.execute(f"drop database {name} with (force)")


def reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("truncate auth.users cascade")
        conn.execute("truncate public.apify_runs")
        # the limits and refresh policy back to the migration's defaults
        conn.execute(
            "delete from creator_sync_private.service_config;"
            " insert into creator_sync_private.service_config default values"
        )


def new_user(url: str) -> str:
    user_id = str(uuid.uuid4())
    create_user(url, user_id, f"{user_id[:8]}@example.test")
    return user_id


def user_claims(user_id: str) -> dict[str, Any]:
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated"}


class RoleClient:
    """Calls SQL as one Supabase role, each call in its own PostgREST-like transaction."""

    def __init__(self, conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None) -> None:
        self.conn = conn
        self.role = role
        self.claims = claims

    def rpc(self, function: str, **args: Any) -> Any:
        names = ", ".join(f"{name} => %({name})s" for name in args)
        # JSON as an untyped literal, so PostgreSQL picks json or jsonb from the function's signature
        params = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in args.items()}
        with as_role(self.conn, self.role, self.claims):
            row = self.conn.execute(f"select public.{function}({names}) as result", params).fetchone()
        assert row is not None
        return row["result"]

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with as_role(self.conn, self.role, self.claims):
            return self.conn.execute(sql, params).fetchall()


@contextmanager
def role_client(url: str, role: str, claims: dict[str, Any] | None = None) -> Iterator[RoleClient]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        yield RoleClient(conn, role, claims)


def admin_rows(url: str, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def admin_execute(url: str, sql: str, params: Any = None) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, params)
