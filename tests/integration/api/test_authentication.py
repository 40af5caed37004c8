"""[R1] Token verification through the real handler: every bad token is 401 with the error body,
and none of them reaches the database."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.api import ApiClient
from tests.support.stack import SupabaseStandIn

TokenFactory = Callable[[SupabaseStandIn, str], str]


def claims(supabase: SupabaseStandIn, user: str, **changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": f"{supabase.url}/auth/v1",
        "aud": "authenticated",
        "sub": user,
        "role": "authenticated",
        "iat": now,
        "exp": now + 600,
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def signed(supabase: SupabaseStandIn, payload: dict[str, object]) -> str:
    return jwt.encode(
        payload, supabase.keys.private_key, algorithm="ES256", headers={"kid": supabase.keys.kid}
    )


def tampered(supabase: SupabaseStandIn, user: str) -> str:
    header, _, signature = signed(supabase, claims(supabase, user)).split(".")
    other = (
        base64.urlsafe_b64encode(json.dumps(claims(supabase, str(uuid.uuid4()))).encode())
        .rstrip(b"=")
        .decode()
    )
    return f"{header}.{other}.{signature}"


def hs256_with_public_key(supabase: SupabaseStandIn, user: str) -> str:
    public_pem = supabase.keys.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(claims(supabase, user)).encode()).rstrip(b"=").decode()
    import hashlib
    import hmac

    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def foreign_key(supabase: SupabaseStandIn, user: str) -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims(supabase, user), other, algorithm="ES256", headers={"kid": supabase.keys.kid})


BAD_TOKENS: dict[str, TokenFactory] = {
    "expired": lambda s, u: signed(s, claims(s, u, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "not yet valid": lambda s, u: signed(s, claims(s, u, nbf=int(time.time()) + 3600)),
    "wrong aud": lambda s, u: signed(s, claims(s, u, aud="service")),
    "wrong iss": lambda s, u: signed(s, claims(s, u, iss="https://other.supabase.co/auth/v1")),
    "alg none": lambda s, u: jwt.encode(claims(s, u), None, algorithm="none"),  # type: ignore[arg-type]
    "hs256 signed with the public key": hs256_with_public_key,
    "unknown kid": lambda s, u: jwt.encode(
        claims(s, u), s.keys.private_key, algorithm="ES256", headers={"kid": "nope"}
    ),
    "signed by another key": foreign_key,
    "tampered payload": tampered,
    "missing sub": lambda s, u: signed(s, claims(s, u, sub=None)),
    "missing exp": lambda s, u: signed(s, claims(s, u, exp=None)),
    "non-uuid sub": lambda s, u: signed(s, claims(s, u, sub="not-a-uuid")),
    "service role claim": lambda s, u: signed(s, claims(s, u, role="service_role")),
    "anon key": lambda s, u: s.anon_key,
    "service-role key": lambda s, u: s.service_role_key,
    "garbage": lambda s, u: "garbage",
    "three dots of garbage": lambda s, u: "a.b.c",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_a_bad_token_is_401_and_never_reaches_the_database(
    api: ApiClient, supabase: SupabaseStandIn, user: str, kind: str
) -> None:
    token = BAD_TOKENS[kind](supabase, user)
    before = sum(supabase.postgrest.calls.values())
    for method, path, body in [
        ("GET", "/profile", None),
        ("PATCH", "/profile", {"niche": "x"}),
        ("POST", "/profile/refresh", None),
    ]:
        reply = api.request(method, path, token=token, json_body=body)
        assert reply.status == 401, (kind, method, reply.text)
        assert reply.body["error"]["code"] == "unauthorized"
        assert reply.body["request_id"] == reply.request_id
        assert reply.header(
            "www-authenticate",
        ).startswith("Bearer")  # type: ignore[union-attr]
    assert sum(supabase.postgrest.calls.values()) == before


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer"]
)
def test_a_missing_or_malformed_header_is_401(
    api: ApiClient, supabase: SupabaseStandIn, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    before = sum(supabase.postgrest.calls.values())
    reply = api.request("GET", "/profile", headers=headers)
    assert reply.status == 401
    assert reply.body["error"]["code"] == "unauthorized"
    assert sum(supabase.postgrest.calls.values()) == before


def test_a_valid_token_passes(api: ApiClient, supabase: SupabaseStandIn, user: str) -> None:
    reply = api.request("GET", "/profile", token=signed(supabase, claims(supabase, user)))
    assert reply.status == 200
    assert reply.body["user_id"] == user


def test_a_token_expired_within_the_leeway_passes(
    api: ApiClient, supabase: SupabaseStandIn, user: str
) -> None:
    now = int(time.time())
    reply = api.request(
        "GET", "/profile", token=signed(supabase, claims(supabase, user, iat=now - 600, exp=now - 10))
    )
    assert reply.status == 200


def test_the_bearer_scheme_is_case_insensitive(api: ApiClient, supabase: SupabaseStandIn, user: str) -> None:
    reply = api.request(
        "GET", "/profile", headers={"authorization": f"bearer {supabase.keys.user_token(user)}"}
    )
    assert reply.status == 200


def test_an_unreachable_key_server_is_503(
    make_api: Callable[..., ApiClient], supabase: SupabaseStandIn, user: str
) -> None:
    # Given an API whose Supabase URL (and so JWKS) points at a closed port
    api = make_api(SUPABASE_URL="http://127.0.0.1:9")
    token = jwt.encode(
        claims(supabase, user, iss="http://127.0.0.1:9/auth/v1"),
        supabase.keys.private_key,
        algorithm="ES256",
        headers={"kid": supabase.keys.kid},
    )
    reply = api.request("GET", "/profile", token=token)
    assert reply.status == 503
    assert reply.body["error"]["code"] == "unavailable"
    assert reply.header("retry-after") is not None
