"""TokenVerifier against a JWKS it fetches over loopback (RS256) and with a configured HS256 secret."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
from creator_sync.api.auth import TokenVerifier
from creator_sync.errors import Unauthorized
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devstack.http_server import JsonHandler, LoopbackServer

ISSUER = "https://project.supabase.test/auth/v1"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_KID = "rsa-1"
HS_SECRET = "super-secret-jwt-token-with-at-least-32-characters"


def user_claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": "authenticated",
        "sub": str(uuid.uuid4()),
        "role": "authenticated",
        "iat": now,
        "exp": now + 300,
    }
    return base | changes


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True) | {
        "kid": RSA_KID,
        "alg": "RS256",
        "use": "sig",
    }

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            self.send_json(200, {"keys": [jwk]})

    server = LoopbackServer(0, Handler, "test JWKS").start()
    yield f"{server.url}/auth/v1/.well-known/jwks.json"
    server.stop()


def test_an_rs256_token_from_the_jwks_is_accepted(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer=ISSUER, jwks_url=jwks_url, algorithms=["RS256"])
    claims = user_claims()
    token = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": RSA_KID})
    assert str(verifier.verify(token).user_id) == claims["sub"]


def test_rs256_is_refused_when_only_es256_is_configured(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer=ISSUER, jwks_url=jwks_url, algorithms=["ES256"])
    token = jwt.encode(user_claims(), RSA_KEY, algorithm="RS256", headers={"kid": RSA_KID})
    with pytest.raises(Unauthorized, match="algorithm"):
        verifier.verify(token)


def test_an_hs256_token_with_the_project_secret_is_accepted(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer=ISSUER, jwks_url=jwks_url, algorithms=["HS256"], hs256_secret=HS_SECRET)
    claims = user_claims()
    assert str(verifier.verify(jwt.encode(claims, HS_SECRET, algorithm="HS256")).user_id) == claims["sub"]


def test_an_hs256_token_with_another_secret_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer=ISSUER, jwks_url=jwks_url, algorithms=["HS256"], hs256_secret=HS_SECRET)
    token = jwt.encode(user_claims(), "another-secret-of-at-least-32-characters!!", algorithm="HS256")
    with pytest.raises(Unauthorized, match="invalid"):
        verifier.verify(token)


def test_hs256_is_refused_when_only_asymmetric_algorithms_are_configured(jwks_url: str) -> None:
    verifier = TokenVerifier(
        issuer=ISSUER, jwks_url=jwks_url, algorithms=["ES256", "RS256"], hs256_secret=HS_SECRET
    )
    with pytest.raises(Unauthorized, match="algorithm"):
        verifier.verify(jwt.encode(user_claims(), HS_SECRET, algorithm="HS256"))


def test_an_rs256_header_on_an_hs256_configuration_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer=ISSUER, jwks_url=jwks_url, algorithms=["HS256"], hs256_secret=HS_SECRET)
    token = jwt.encode(user_claims(), RSA_KEY, algorithm="RS256", headers={"kid": RSA_KID})
    with pytest.raises(Unauthorized, match="algorithm"):
        verifier.verify(token)
