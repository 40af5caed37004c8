"""Per-user limits and settings rules live in the database, so the API, a direct PostgREST call and
SQL as the user all obey them (DESIGN §3, §4): handle changes per hour, the server's refresh
cooldown, anonymous users, time zones and control characters."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from devstack.database import Database, as_role
from tests.integration.db.conftest import UserClient
from tests.support.postgres import admin_execute, admin_rows, role_client, user_claims


def change_handle(as_user: UserClient, user_id: str, handle: str | None) -> dict[str, Any]:
    with as_user(user_id) as client:
        out: dict[str, Any] = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=handle)
    return out


def creator(db: Database, user_id: str) -> dict[str, Any]:
    rows = admin_rows(db.url, "select * from public.creator_profiles where user_id = %s", (user_id,))
    assert len(rows) == 1
    return rows[0]


def retry_after(exc: psycopg.Error) -> int:
    detail = exc.diag.message_detail or ""
    assert detail.startswith("retry_after=")
    return int(detail.removeprefix("retry_after="))


def test_the_sixth_handle_change_in_an_hour_is_refused_with_retry_after(
    db: Database, as_user: UserClient, alice: str
) -> None:
    # Given five scrape-starting handle changes
    for i in range(5):
        assert change_handle(as_user, alice, f"name.{i}")["scrape"] is not None
    # When a sixth comes within the hour
    with pytest.raises(psycopg.Error) as refused:
        change_handle(as_user, alice, "name.5")
    # Then it is refused as PT429 (HTTP 429) with the wait until the oldest change ages out
    assert refused.value.sqlstate == "PT429"
    assert 3590 <= retry_after(refused.value) <= 3600
    row = creator(db, alice)
    assert (row["tiktok_handle"], row["scrape_generation"]) == ("name.4", 5)


def test_the_limit_slides_with_the_hour(db: Database, as_user: UserClient, alice: str) -> None:
    for i in range(5):
        change_handle(as_user, alice, f"name.{i}")
    # the two oldest changes are now more than an hour old
    admin_execute(
        db.url,
        "update public.creator_profiles set handle_changed_at ="
        " array[now() - interval '61 minutes', now() - interval '70 minutes'] || handle_changed_at[3:5]"
        " where user_id = %s",
        (alice,),
    )
    change_handle(as_user, alice, "name.5")
    change_handle(as_user, alice, "name.6")
    with pytest.raises(psycopg.Error) as refused:
        change_handle(as_user, alice, "name.7")
    assert refused.value.sqlstate == "PT429"


def test_unlinking_and_settings_are_never_limited(db: Database, as_user: UserClient, alice: str) -> None:
    for i in range(5):
        change_handle(as_user, alice, f"name.{i}")
    # unlinking starts no scrape, so it is allowed and not counted
    assert change_handle(as_user, alice, None)["scrape"] is None
    with as_user(alice) as client:
        for goal in range(20):
            client.rpc(
                "update_profile",
                p_settings={"posting_goal_per_week": goal},
                p_set_handle=False,
                p_handle=None,
            )
        assert client.rpc("get_profile")["posting_goal_per_week"] == 19


def test_a_direct_table_write_is_limited_like_the_rpc(db: Database, as_user: UserClient, alice: str) -> None:
    # Given a user who uses PostgREST's table endpoint instead of the RPC
    change_handle(as_user, alice, "first.name")
    with as_user(alice) as client:
        for i in range(4):
            client.query(
                "update public.creator_profiles set tiktok_handle = %s returning user_id", (f"direct.{i}",)
            )
        with pytest.raises(psycopg.Error) as refused:
            client.query("update public.creator_profiles set tiktok_handle = 'one.more'")
    assert refused.value.sqlstate == "PT429"
    # and each accepted change was a real handle change: a new generation, queued, data cleared
    row = creator(db, alice)
    assert (row["tiktok_handle"], row["scrape_generation"], row["scrape_status"]) == ("direct.3", 5, "queued")


def test_concurrent_handle_changes_cannot_race_past_the_limit(db: Database, alice: str) -> None:
    # Given twelve connections of one user changing the handle at the same moment
    barrier = threading.Barrier(12)
    outcomes: list[str] = []
    lock = threading.Lock()

    def change(i: int) -> None:
        with psycopg.connect(db.authenticator_url, autocommit=True, row_factory=dict_row) as conn:
            barrier.wait()
            try:
                with as_role(conn, "authenticated", user_claims(alice)):
                    conn.execute(
                        "select public.update_profile('{}'::jsonb, true, %s)", (f"racer.{i}",)
                    ).fetchone()
                outcome = "ok"
            except psycopg.Error as exc:
                outcome = exc.sqlstate or "?"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=change, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly five got through and the rest were refused by the limit
    assert sorted(outcomes) == ["PT429"] * 7 + ["ok"] * 5
    assert creator(db, alice)["scrape_generation"] == 5


def test_the_refresh_cooldown_is_the_servers(db: Database, as_user: UserClient, alice: str) -> None:
    change_handle(as_user, alice, "jane.doe")
    # the old signature that took the cooldown from the caller is gone
    with as_user(alice) as client, pytest.raises(psycopg.errors.UndefinedFunction):
        client.query("select public.request_refresh(0)")
    with as_user(alice) as client:
        assert 895 <= client.rpc("request_refresh")["retry_after"] <= 900
        # and the table route meets the same cooldown
        with pytest.raises(psycopg.Error) as refused:
            client.query("update public.creator_profiles set refresh_requested_at = now()")
    assert refused.value.sqlstate == "PT429"
    assert creator(db, alice)["scrape_generation"] == 1


def test_the_operator_sets_the_cooldown_in_the_database(
    db: Database, as_user: UserClient, alice: str
) -> None:
    change_handle(as_user, alice, "jane.doe")
    admin_execute(db.url, "update creator_sync_private.service_config set refresh_cooldown_seconds = 0")
    with as_user(alice) as client:
        out = client.rpc("request_refresh")
    assert out["scrape"]["generation"] == 2


def test_a_user_cannot_change_the_limits(as_user: UserClient, alice: str) -> None:
    with as_user(alice) as client, pytest.raises(psycopg.errors.InsufficientPrivilege):
        client.query("update creator_sync_private.service_config set handle_changes_per_hour = 1000")


def anonymous(db: Database, user_id: str) -> Any:
    claims = user_claims(user_id) | {"is_anonymous": True}
    return role_client(db.authenticator_url, "authenticated", claims)


def test_anonymous_users_keep_settings_but_cannot_start_scrapes(db: Database, alice: str) -> None:
    with anonymous(db, alice) as client:
        out = client.rpc("update_profile", p_settings={"niche": "food"}, p_set_handle=False, p_handle=None)
        assert out["profile"]["niche"] == "food"
        with pytest.raises(psycopg.Error) as link:
            client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
        with pytest.raises(psycopg.Error) as direct:
            client.query(
                "insert into public.creator_profiles (user_id, tiktok_handle) values (%s, 'x.y')", (alice,)
            )
    assert link.value.sqlstate == direct.value.sqlstate == "PT403"
    assert admin_rows(db.url, "select * from public.creator_profiles") == []


def test_anonymous_users_cannot_refresh(db: Database, as_user: UserClient, alice: str) -> None:
    change_handle(as_user, alice, "jane.doe")
    admin_execute(db.url, "update creator_sync_private.service_config set refresh_cooldown_seconds = 0")
    with anonymous(db, alice) as client, pytest.raises(psycopg.Error) as refused:
        client.rpc("request_refresh")
    assert refused.value.sqlstate == "PT403"


def test_the_operator_may_allow_anonymous_scrapes(db: Database, alice: str) -> None:
    admin_execute(db.url, "update creator_sync_private.service_config set allow_anonymous_scrapes = true")
    with anonymous(db, alice) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
    assert out["scrape"]["generation"] == 1


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        ('select public.update_profile(\'{"timezone": "Mars/Olympus"}\'::jsonb, false, null)', "22023"),
        ('select public.update_profile(\'{"niche": "a\\u0007b"}\'::jsonb, false, null)', "22023"),
        ('select public.update_profile(\'{"niche": "a\\u0000b"}\'::jsonb, false, null)', "22P05"),
        ("insert into public.user_settings (user_id, timezone) values (%(uid)s, 'Mars/Olympus')", "22023"),
        ("insert into public.user_settings (user_id, niche) values (%(uid)s, E'tab\\there')", "23514"),
        ("insert into public.user_settings (user_id, niche) values (%(uid)s, '')", "23514"),
        ("insert into public.user_settings (user_id, posting_goal_per_week) values (%(uid)s, 51)", "23514"),
        ("insert into public.user_settings (user_id, niche) values (%(uid)s, repeat('n', 65))", "23514"),
    ],
)
def test_every_settings_rule_holds_for_direct_calls(
    db: Database, as_user: UserClient, alice: str, sql: str, sqlstate: str
) -> None:
    with as_user(alice) as client, pytest.raises(psycopg.Error) as refused:
        client.query(sql, {"uid": alice})
    assert refused.value.sqlstate == sqlstate
    assert admin_rows(db.url, "select * from public.user_settings") == []


def test_a_valid_zone_is_stored_and_server_columns_stay_the_servers(
    db: Database, as_user: UserClient, alice: str
) -> None:
    with as_user(alice) as client:
        client.query(
            "insert into public.user_settings (user_id, timezone)"
            " values (%s, 'Asia/Tokyo') returning user_id",
            (alice,),
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            client.query("update public.user_settings set updated_at = '2000-01-01'")
    row = admin_rows(db.url, "select timezone, updated_at from public.user_settings")[0]
    assert row["timezone"] == "Asia/Tokyo"
    assert row["updated_at"].year > 2000
