"""The local stack's key material, kept under .devstack/ and created on first use.

- `jwt-es256.pem`: the ES256 signing key (PKCS#8 PEM) for user access tokens, published as a JWKS
  whose `kid` is the key's RFC 7638 thumbprint (as Supabase's signing keys are).
- `jwt-secret.txt`: the legacy HS256 secret that signs the anon and service-role API keys, as on a
  Supabase project created before signing keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNING_KEY_FILE = "jwt-es256.pem"
SECRET_FILE = "jwt-secret.txt"  # noqa: S105 - a file name, not a secret
API_KEY_ISSUED_AT = 1_767_225_600  # 2026-01-01


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class StackKeys:
    private_key: ec.EllipticCurvePrivateKey
    kid: str
    hs256_secret: str
    issuer: str

    @classmethod
    def load_or_create(cls, state_dir: Path, issuer: str) -> StackKeys:
        state_dir.mkdir(parents=True, exist_ok=True)
        pem_path, secret_path = state_dir / SIGNING_KEY_FILE, state_dir / SECRET_FILE
        if not pem_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            pem_path.write_bytes(pem)
            pem_path.chmod(0o600)
        if not secret_path.exists():
            secret_path.write_text(secrets.token_urlsafe(48))
            secret_path.chmod(0o600)
        private_key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise TypeError(f"{pem_path} is not an EC private key")
        return cls(private_key, _thumbprint(private_key), secret_path.read_text().strip(), issuer)

    def public_jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
            "key_ops": ["verify"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def user_token(self, user_id: str, *, expires_in: int = 3600, **extra: Any) -> str:
        """An access token shaped like Supabase Auth's for a signed-in user."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "authenticated",
            "sub": user_id,
            "role": "authenticated",
            "iat": now,
            "exp": now + expires_in,
            "aal": "aal1",
            "session_id": secrets.token_hex(8),
            "is_anonymous": False,
        } | extra
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid})

    def api_key(self, role: str) -> str:
        """The legacy anon or service-role key: HS256, iss "supabase", long-lived and deterministic
        (the same secret always gives the same key, so a restarted stack keeps its keys)."""
        claims = {
            "iss": "supabase",
            "role": role,
            "iat": API_KEY_ISSUED_AT,
            "exp": API_KEY_ISSUED_AT + 20 * 365 * 86400,
        }
        return jwt.encode(claims, self.hs256_secret, algorithm="HS256")


def _thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    numbers = key.public_key().public_numbers()
    canonical = json.dumps(
        {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())
