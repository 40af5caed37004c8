"""Verification of Supabase user access tokens (DESIGN §3).

Algorithms come from configuration, never from the token. Asymmetric keys (ES256/RS256) are read from
the project's JWKS through a PyJWKClient cached for the life of the container; HS256 uses the
legacy project secret. Every failure is Unauthorized with a reason safe to show the client, except an
unreachable key server, which is Unavailable (the client may retry).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

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


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str,
        algorithms: list[str],
        hs256_secret: str | None = None,
        leeway_seconds: int = 30,
    ) -> None:
        self._issuer = issuer
        self._algorithms = frozenset(algorithms)
        self._hs256_secret = hs256_secret
        self._leeway = leeway_seconds
        self._jwks = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_TIMEOUT_SECONDS
        )

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
            return self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise Unavailable("the token signing keys could not be fetched", retry_after=5) from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise Unauthorized("the access token was not signed by a known key") from None
