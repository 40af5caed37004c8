"""Row-level security and grants, exercised as the real Supabase roles."""

from __future__ import annotations

import psycopg
import pytest

from devstack.database import Database
from tests.integration.db.conftest import UserClient
from tests.support.postgres import RoleClient, role_client


def link(as_user: UserClient, user_id: str, handle: str) -> None:
    with as_user(user_id) as client:
        client.rpc("update_profile", p_settings={"niche": "cooking"}, p_set_handle=True, p_handle=handle)


def test_each_user_reads_only_their_own_rows(as_user: UserClient, alice: str, bob: str) -> None:
    # Given two users with settings and a handle each
    link(as_user, alice, "alice.cooks")
    link(as_user, bob, "bob.bakes")
    # When each reads both tables directly
    with as_user(alice) as client:
        settings = client.query("select user_id from public.user_settings")
        creators = client.query("select user_id, tiktok_handle from public.creator_profiles")
    # Then only their own rows come back
    assert [str(r["user_id"]) for r in settings] == [alice]
    assert [(str(r["user_id"]), r["tiktok_handle"]) for r in creators] == [(alice, "alice.cooks")]


def test_get_profile_returns_the_callers_profile(as_user: UserClient, alice: str, bob: str) -> None:
    link(as_user, bob, "bob.bakes")
    with as_user(alice) as client:
        profile = client.rpc("get_profile")
    assert profile["user_id"] == alice
    assert profile["tiktok_handle"] is None
    assert profile["creator"] is None
    assert profile["email_notifications"] is True


def test_a_user_cannot_update_another_users_settings(as_user: UserClient, alice: str, bob: str) -> None:
    link(as_user, bob, "bob.bakes")
    with as_user(alice) as client:
        updated = client.query(
            "update public.user_settings set niche = 'stolen' where user_id = %s returning user_id", (bob,)
        )
    assert updated == []
    with as_user(bob) as client:
        assert client.query("select niche from public.user_settings") == [{"niche": "cooking"}]


def test_a_user_cannot_insert_settings_for_another_user(as_user: UserClient, alice: str, bob: str) -> None:
    with as_user(alice) as client, pytest.raises(psycopg.errors.InsufficientPrivilege):
        client.query("insert into public.user_settings (user_id, niche) values (%s, 'x')", (bob,))


@pytest.mark.parametrize(
    "statement",
    [
        "insert into public.creator_profiles (user_id, tiktok_handle, followers) values (%(uid)s, 'x.y', 1)",
        "update public.creator_profiles set scrape_status = 'succeeded' where user_id = %(uid)s",
        "update public.creator_profiles set scrape_generation = 99 where user_id = %(uid)s",
        "update public.creator_profiles set followers = 1 where user_id = %(uid)s",
        "delete from public.creator_profiles where user_id = %(uid)s",
    ],
)
def test_authenticated_cannot_write_creator_profiles_directly(
    as_user: UserClient, alice: str, statement: str
) -> None:
    link(as_user, alice, "alice.cooks")
    with as_user(alice) as client, pytest.raises(psycopg.errors.InsufficientPrivilege):
        client.query(statement, {"uid": alice})


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("scrape_targets", {"p_items": []}),
        ("record_scrape_results", {"p_results": []}),
        ("claim_reconcile", {"p_lost_after_seconds": 0, "p_refresh_after_seconds": 0, "p_limit": 10}),
    ],
)
def test_authenticated_cannot_call_service_role_functions(
    as_user: UserClient, alice: str, function: str, args: dict[str, object]
) -> None:
    with as_user(alice) as client, pytest.raises(psycopg.errors.InsufficientPrivilege):
        client.rpc(function, **args)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from public.user_settings",
        "select * from public.creator_profiles",
        "select public.get_profile()",
        "select public.update_profile('{}'::jsonb, false, null)",
        "select public.request_refresh()",
        "select public.scrape_targets('[]'::jsonb)",
    ],
)
def test_anon_sees_and_calls_nothing(db: Database, as_user: UserClient, alice: str, sql: str) -> None:
    link(as_user, alice, "alice.cooks")
    with (
        role_client(db.authenticator_url, "anon", {"role": "anon"}) as anon,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        anon.query(sql)


def test_service_role_reads_every_row(service: RoleClient, as_user: UserClient, alice: str, bob: str) -> None:
    link(as_user, alice, "alice.cooks")
    link(as_user, bob, "bob.bakes")
    rows = service.query("select tiktok_handle from public.creator_profiles order by tiktok_handle")
    assert [r["tiktok_handle"] for r in rows] == ["alice.cooks", "bob.bakes"]
