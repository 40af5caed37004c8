"""Moving over from the app creator-sync replaces (DESIGN §4): its `creator_profiles` (with
`tiktok_followers`) and `user_settings` are moved aside by the one-off script, the migrations bring
every row across with linked handles queued, and readers of `tiktok_followers` keep working."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devstack.database import REPO_ROOT, Database, apply_schema, as_role
from tests.support.postgres import admin_rows, scratch_database

ADOPT = REPO_ROOT / "supabase" / "adopt" / "before_first_push.sql"

OLD_APP_SCHEMA = """
create table public.user_settings (
  user_id uuid primary key references auth.users (id) on delete cascade,
  niche text, timezone text, email_notifications boolean default true, posting_goal_per_week int
);
create table public.creator_profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  tiktok_handle text, display_name text, tiktok_followers bigint, avatar_url text, bio text
);
alter table public.creator_profiles enable row level security;
create view public.prediction_input as select user_id, tiktok_followers from public.creator_profiles;
"""


@pytest.fixture
def old_app(database: Database) -> Iterator[str]:
    with scratch_database(database, "adopt") as url:
        apply_schema(url, until="0")  # Supabase's roles and auth schema, none of our migrations
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_APP_SCHEMA)
        yield url


def run_script(url: str, path: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(path.read_text())


def test_the_old_apps_rows_come_across_and_tiktok_followers_keeps_working(old_app: str) -> None:
    # Given the old app's users: a linked creator (URL form), one with an unusable handle, one
    # with settings only
    users = [str(uuid.uuid4()) for _ in range(3)]
    linked, broken, settings_only = users
    with psycopg.connect(old_app, autocommit=True) as conn:
        for user in users:
            conn.execute("insert into auth.users (id) values (%s)", (user,))
        conn.execute(
            "insert into public.creator_profiles values"
            " (%s, 'https://www.tiktok.com/@Jane.Doe', 'Jane\u0007', 15300, 'http://old.test/a.jpg', 'bio'),"
            " (%s, 'not a handle!', 'Bob', 7, 'https://cdn.test/b.jpg', null)",
            (linked, broken),
        )
        conn.execute(
            "insert into public.user_settings values (%s, 'food', 'Europe/Paris', false, 3),"
            " (%s, 'travel', 'Mars/Olympus', true, 99)",
            (linked, settings_only),
        )
    # When the one-off script runs, then every migration (twice: the script is idempotent)
    run_script(old_app, ADOPT)
    run_script(old_app, ADOPT)
    apply_schema(old_app)
    # Then every row is here, the handles normalised and queued, the old data visible
    rows = {
        str(r["user_id"]): r
        for r in admin_rows(old_app, "select * from public.creator_profiles order by user_id")
    }
    assert set(rows) == {linked, broken}
    jane = rows[linked]
    assert (jane["tiktok_handle"], jane["scrape_status"], jane["scrape_generation"]) == (
        "jane.doe",
        "queued",
        1,
    )
    assert (jane["display_name"], jane["followers"], jane["avatar_url"]) == ("Jane", 15300, None)
    bob = rows[broken]
    assert (bob["tiktok_handle"], bob["scrape_status"], bob["followers"]) == (None, "idle", 7)
    settings = {
        str(r["user_id"]): (r["niche"], r["timezone"], r["email_notifications"], r["posting_goal_per_week"])
        for r in admin_rows(old_app, "select * from public.user_settings")
    }
    assert settings == {
        linked: ("food", "Europe/Paris", False, 3),
        settings_only: ("travel", None, True, None),
    }
    # and nothing was dropped: the old tables are kept aside
    assert len(admin_rows(old_app, "select * from public.legacy_creator_profiles")) == 2
    # and readers of tiktok_followers keep working
    assert admin_rows(
        old_app, "select tiktok_followers from public.creator_profiles where user_id = %s", (linked,)
    ) == [{"tiktok_followers": 15300}]
    # When the reconciler runs, the adopted handle is sent for a scrape; its result updates the column too
    with (
        psycopg.connect(old_app, autocommit=True) as conn,
        as_role(conn, "service_role", {"role": "service_role"}),
    ):
        claims = conn.execute("select public.claim_reconcile(3600, 86400, 100)").fetchone()
        assert claims is not None
        assert [(c["tiktok_handle"], c["reason"]) for c in claims[0]] == [("jane.doe", "reconcile")]
        result = {
            "user_id": linked,
            "generation": 1,
            "status": "succeeded",
            "profile": {"tiktok_user_id": "68", "followers": 16000},
        }
        conn.execute("select public.record_scrape_results(%s::json)", (json.dumps([result]),))
    assert admin_rows(
        old_app, "select tiktok_followers from public.creator_profiles where user_id = %s", (linked,)
    ) == [{"tiktok_followers": 16000}]


def test_on_a_fresh_install_the_script_and_migration_change_nothing_else(db: Database) -> None:
    run_script(db.url, ADOPT)
    assert admin_rows(db.url, "select to_regclass('public.legacy_creator_profiles') as t") == [{"t": None}]
    columns = {
        r["column_name"]
        for r in admin_rows(
            db.url,
            "select column_name from information_schema.columns where table_name = 'creator_profiles'",
        )
    }
    assert "tiktok_followers" in columns
