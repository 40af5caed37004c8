"""The PostgREST stand-in: JWT handling, SQLSTATE to HTTP as PostgREST maps it, PGRST-style errors,
and a clear answer for everything it does not serve."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from devstack.database import Database
from devstack.postgrest import status_for_sqlstate
from tests.support.postgres import new_user
from tests.support.stack import SupabaseStandIn


def rpc(
    supabase: SupabaseStandIn,
    function: str,
    args: dict[str, object],
    *,
    token: str | None,
    apikey: str | None = None,
) -> httpx.Response:
    headers = {
        "apikey": apikey if apikey is not None else supabase.anon_key,
        "Content-Type": "application/json",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{supabase.url}/rest/v1/rpc/{function}", json=args, headers=headers, timeout=5)


def test_a_user_token_calls_an_rpc_as_that_user(supabase: SupabaseStandIn, db: Database) -> None:
    user = new_user(db.url)
    reply = rpc(supabase, "get_profile", {}, token=supabase.keys.user_token(user))
    assert reply.status_code == 200
    assert reply.json()["user_id"] == user


def test_an_unknown_api_key_is_401(supabase: SupabaseStandIn, db: Database) -> None:
    reply = rpc(supabase, "get_profile", {}, token=supabase.keys.user_token(new_user(db.url)), apikey="nope")
    assert reply.status_code == 401
    assert reply.json()["message"] == "Invalid API key"


def test_an_expired_token_is_401_pgrst303(supabase: SupabaseStandIn, db: Database) -> None:
    token = supabase.keys.user_token(new_user(db.url), expires_in=-120)
    reply = rpc(supabase, "get_profile", {}, token=token)
    assert reply.status_code == 401
    assert reply.json()["code"] == "PGRST303"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_signed_with_another_key_is_401_pgrst301(supabase: SupabaseStandIn, db: Database) -> None:
    token = jwt.encode(
        {"sub": new_user(db.url), "role": "authenticated", "exp": int(time.time()) + 60},
        "x" * 32,
        algorithm="HS256",
    )
    reply = rpc(supabase, "get_profile", {}, token=token)
    assert (reply.status_code, reply.json()["code"]) == (401, "PGRST301")


def test_insufficient_privilege_is_401_for_anon_and_403_for_a_user(
    supabase: SupabaseStandIn, db: Database
) -> None:
    anon = rpc(supabase, "scrape_targets", {"p_items": []}, token=None)
    user = rpc(supabase, "scrape_targets", {"p_items": []}, token=supabase.keys.user_token(new_user(db.url)))
    assert (anon.status_code, anon.json()["code"]) == (401, "42501")
    assert (user.status_code, user.json()["code"]) == (403, "42501")


def test_the_service_role_key_may_call_service_functions(supabase: SupabaseStandIn) -> None:
    reply = rpc(
        supabase,
        "scrape_targets",
        {"p_items": []},
        token=supabase.service_role_key,
        apikey=supabase.service_role_key,
    )
    assert (reply.status_code, reply.json()) == (200, {"targets": [], "reused": [], "spent_today_usd": 0})


def test_a_database_rule_is_400_with_its_sqlstate(supabase: SupabaseStandIn, db: Database) -> None:
    reply = rpc(
        supabase,
        "update_profile",
        {"p_settings": {"user_id": "x"}, "p_set_handle": False, "p_handle": None},
        token=supabase.keys.user_token(new_user(db.url)),
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == "22023"
    assert "unknown settings key" in reply.json()["message"]


def test_an_unknown_function_or_argument_set_is_404_pgrst202(supabase: SupabaseStandIn, db: Database) -> None:
    token = supabase.keys.user_token(new_user(db.url))
    assert rpc(supabase, "drop_everything", {}, token=token).json()["code"] == "PGRST202"
    reply = rpc(supabase, "get_profile", {"p_extra": 1}, token=token)
    assert (reply.status_code, reply.json()["code"]) == (404, "PGRST202")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/rest/v1/user_settings"),
        ("PATCH", "/rest/v1/user_settings"),
        ("GET", "/auth/v1/user"),
        ("GET", "/storage/v1/bucket"),
    ],
)
def test_what_it_does_not_serve_is_answered_clearly(
    supabase: SupabaseStandIn, method: str, path: str
) -> None:
    reply = httpx.request(method, f"{supabase.url}{path}", headers={"apikey": supabase.anon_key}, timeout=5)
    assert reply.status_code == 404
    assert "not covered by the local PostgREST stand-in" in reply.json()["message"]


def test_get_on_an_rpc_is_refused_clearly(supabase: SupabaseStandIn) -> None:
    reply = httpx.get(
        f"{supabase.url}/rest/v1/rpc/get_profile", headers={"apikey": supabase.anon_key}, timeout=5
    )
    assert reply.status_code == 405


def test_another_schema_is_406(supabase: SupabaseStandIn, db: Database) -> None:
    reply = httpx.post(
        f"{supabase.url}/rest/v1/rpc/get_profile",
        json={},
        timeout=5,
        headers={
            "apikey": supabase.anon_key,
            "Content-Profile": "auth",
            "Authorization": f"Bearer {supabase.keys.user_token(new_user(db.url))}",
        },
    )
    assert (reply.status_code, reply.json()["code"]) == (406, "PGRST106")


def test_the_jwks_publishes_the_signing_key(supabase: SupabaseStandIn) -> None:
    keys = httpx.get(f"{supabase.url}/auth/v1/.well-known/jwks.json", timeout=5).json()["keys"]
    assert [(k["kty"], k["crv"], k["alg"], k["kid"]) for k in keys] == [
        ("EC", "P-256", "ES256", supabase.keys.kid)
    ]
    assert "d" not in keys[0]


@pytest.mark.parametrize(
    ("sqlstate", "anonymous", "status"),
    [
        ("23505", False, 409),
        ("23503", False, 409),
        ("42883", False, 404),
        ("08006", False, 503),
        ("53300", False, 503),
        ("P0001", False, 400),
        ("22023", False, 400),
        ("42501", True, 401),
        ("42501", False, 403),
        ("40001", False, 500),
        ("XX000", False, 500),
    ],
)
def test_sqlstates_map_to_postgrests_statuses(sqlstate: str, anonymous: bool, status: int) -> None:
    assert status_for_sqlstate(sqlstate, anonymous=anonymous) == status
