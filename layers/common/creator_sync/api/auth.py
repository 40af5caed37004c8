"""Verification of Supabase user access tokens (DESIGN §3).

Algorithms come from configuration, never from the token. Asymmetric keys (ES256/RS256) are read from
the project's JWKS, fetched through the container's shared httpx client (the same pool, and in
Supabase the same host and connection, as the PostgREST calls) and cached for 10 minutes; only keys
of the configured types are loaded. HS256 uses the legacy project secret. Every failure is
Unauthorized with a reason safe to show the client, except an unreachable key server, which is
Unavailable (the client may retry).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from uuid import UUID

import httpx
import jwt

from creator_sync.errors import Unauthorized, Unavailable

REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
AUDIENCE = "authenticated"
JWKS_CACHE_SECONDS = 600
JWKS_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class AuthenticatedUser:
    user_id: UUID
    token: str


KEY_TYPES = {"ES256": "EC", "RS256": "RSA"}


@dataclass
class JwksCache:
    """The project's signing keys by `kid`, refetched when older than the lifespan or when a token
    names a key not seen yet (a rotation), at most once a minute for unknown keys."""

    url: str
    algorithms: frozenset[str]
    http: httpx.Client
    lifespan: float = JWKS_CACHE_SECONDS
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _fetched_at: float = float("-inf")

    def key(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        if now - self._fetched_at > self.lifespan or (kid not in self._keys and now - self._fetched_at > 60):
            self._keys = self._fetch()
            self._fetched_at = now
        return self._keys.get(kid)

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            reply = self.http.get(self.url, timeout=JWKS_TIMEOUT_SECONDS)
            reply.raise_for_status()
            document = reply.json()
        except (httpx.HTTPError, ValueError):
            raise Unavailable("the token signing keys could not be fetched", retry_after=5) from None
        wanted = {KEY_TYPES[a] for a in self.algorithms if a in KEY_TYPES}
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("kty") not in wanted or not entry.get("kid"):
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key this API cannot use
        return keys


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str,
        algorithms: list[str],
        hs256_secret: str | None = None,
        leeway_seconds: int = 30,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._issuer = issuer
        self._algorithms = frozenset(algorithms)
        self._hs256_secret = hs256_secret
        self._leeway = leeway_seconds
        self._jwks = JwksCache(jwks_url, self._algorithms, http_client or httpx.Client())

    def verify_header(self, authorization: str | None) -> AuthenticatedUser:
        """The user behind an `Authorization: Bearer <token>` header value."""
        if not authorization:
            raise Unauthorized("missing Authorization header: send 'Authorization: Bearer <access token>'")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("the Authorization header must be 'Bearer <access token>'")
        return self.verify(token)

    def verify(self, token: str) -> AuthenticatedUser:
        claims = self._decode(token)
        if claims.get("role") != "authenticated":
            raise Unauthorized("the token is not a signed-in user's access token")
        try:
            user_id = UUID(str(claims["sub"]))
        except ValueError:
            raise Unauthorized("the token's subject is not a user id") from None
        return AuthenticatedUser(user_id=user_id, token=token)

    def _decode(self, token: str) -> dict[str, object]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise Unauthorized("the access token is malformed") from None
        if algorithm not in self._algorithms:
            raise Unauthorized("the access token is signed with an algorithm this API does not accept")
        key = self._key_for(token, str(algorithm))
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                audience=AUDIENCE,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the access token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the access token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("the access token is not meant for this API") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("the access token was issued by another project") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"the access token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError:
            raise Unauthorized("the access token is invalid") from None
        return claims

    def _key_for(self, token: str, algorithm: str) -> str | jwt.PyJWK:
        if algorithm == "HS256":
            if not self._hs256_secret:
                raise Unauthorized("the access token is signed with an algorithm this API does not accept")
            return self._hs256_secret
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            raise Unauthorized("the access token is malformed") from None
        key = self._jwks.key(str(kid)) if kid else None
        if key is None:
            raise Unauthorized("the access token was not signed by a known key")
        return key
