"""Migrations are history: a database that ran the first release's migrations, with data in it,
is brought forward by the new ones with every row kept (DESIGN §4; the fresh install is what every
other test runs on)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from devstack.database import Database, apply_schema, as_role, migration_files
from tests.support.postgres import admin_rows, scratch_database

FIRST_RELEASE = "20261124000200_rpc.sql"


@pytest.fixture
def old_database(database: Database) -> Iterator[str]:
    """A new database in the session's server, migrated only as far as the first release."""
    with scratch_database(database, "upgrade") as url:
        applied = apply_schema(url, until=FIRST_RELEASE)
        assert applied[-1] == FIRST_RELEASE
        yield url


def as_user(conn: psycopg.Connection[tuple[object, ...]], user_id: str, sql: str, *args: object) -> object:
    with as_role(conn, "authenticated", {"sub": user_id, "role": "authenticated"}):
        row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


def test_the_first_release_database_upgrades_with_its_rows(old_database: str) -> None:
    # Given users of the first release: one scraped, one queued, one with settings only
    scraped, queued, settings_only = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(old_database, autocommit=True) as conn:
        for user in (scraped, queued, settings_only):
            conn.execute("insert into auth.users (id) values (%s)", (user,))
        as_user(conn, scraped, "select public.update_profile('{\"niche\": \"food\"}', true, 'jane.doe')")
        as_user(conn, queued, "select public.update_profile('{}', true, 'bob.bakes')")
        as_user(
            conn, settings_only, 'select public.update_profile(\'{"timezone": "Europe/Paris"}\', false, null)'
        )
        with as_role(conn, "service_role", {"role": "service_role"}):
            conn.execute(
                "select public.record_scrape_results(%s::jsonb)",
                (
                    json.dumps(
                        [
                            {
                                "user_id": scraped,
                                "generation": 1,
                                "status": "succeeded",
                                "profile": {
                                    "tiktok_user_id": "68",
                                    "followers": 15300,
                                    "display_name": "Jane",
                                },
                            }
                        ]
                    ),
                ),
            )
    before = admin_rows(old_database, "select * from public.creator_profiles order by user_id")
    # When the new migrations run
    applied = apply_schema(old_database)
    assert applied == [p.name for p in migration_files() if p.name > FIRST_RELEASE]
    # Then every row and linked handle is kept
    after = admin_rows(old_database, "select * from public.creator_profiles order by user_id")
    assert [(r["user_id"], r["tiktok_handle"], r["scrape_status"], r["followers"]) for r in after] == [
        (r["user_id"], r["tiktok_handle"], r["scrape_status"], r["followers"]) for r in before
    ]
    settings = admin_rows(
        old_database, "select user_id::text, niche, timezone from public.user_settings order by 1"
    )
    assert {(s["user_id"], s["niche"], s["timezone"]) for s in settings} == {
        (scraped, "food", None),
        (settings_only, None, "Europe/Paris"),
    }
    # and the succeeded row is due a day after its scrape; the queued one is claimable as before
    due = admin_rows(
        old_database,
        "select extract(epoch from next_refresh_at - scraped_at)::int as d from public.creator_profiles"
        " where user_id = %s",
        (scraped,),
    )
    assert due == [{"d": 86_400}]
    with psycopg.connect(old_database, autocommit=True) as conn:
        conn.execute(
            "update public.creator_profiles set scrape_requested_at = now() - interval '2 hours'"
            " where user_id = %s",
            (queued,),
        )
        with as_role(conn, "service_role", {"role": "service_role"}):
            claims = conn.execute("select public.claim_reconcile(3600, 86400, 10)").fetchone()
        assert claims is not None
        assert [(c["user_id"], c["reason"]) for c in claims[0]] == [(queued, "reconcile")]
        # and the users go on with the new rules
        profile = as_user(conn, scraped, "select public.get_profile()")
        assert isinstance(profile, dict)
        assert profile["creator"]["followers"] == 15300
