"""SQS's JSON protocol over the container's shared httpx client, signed with SigV4.

Why not boto3: the profile API sends one message on a handle change, and building a boto3 client
(botocore's endpoint and service models, its session, its own connection pool) costs more than the
rest of that cold request together (benchmarks/README.md, "Cold start"). `SendMessage` and
`SendMessageBatch` are small JSON calls (`X-Amz-Target: AmazonSQS.<Action>`); SigV4 is a few HMACs.
Credentials come from the environment, as Lambda provides them to every function; where they do not
(a developer's `AWS_PROFILE`), botocore resolves them once. A test checks the signature against
botocore's own signer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx

JSON_1_0 = "application/x-amz-json-1.0"


class SqsError(Exception):
    """The call did not succeed (unreachable, timed out, refused or answered an error)."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


@cache
def environment_credentials() -> Credentials:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    import botocore.session  # a profile, SSO, a container role: botocore knows them all

    frozen = botocore.session.get_session().get_credentials()
    if frozen is None:
        raise SqsError("no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE")
    resolved = frozen.get_frozen_credentials()
    return Credentials(str(resolved.access_key), str(resolved.secret_key), resolved.token)


def region_for(queue_url: str) -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    host = urlsplit(queue_url).hostname or ""
    parts = host.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "sqs" else "us-east-1"


def endpoint_for(region: str) -> str:
    configured = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL")
    return (configured or f"https://sqs.{region}.amazonaws.com").rstrip("/")


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    now: datetime,
    service: str = "sqs",
) -> dict[str, str]:
    """`headers` plus `Host`, `X-Amz-Date`, the session token and `Authorization` (SigV4)."""
    parts = urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = dict(headers) | {"host": parts.netloc, "x-amz-date": amz_date}
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    canonical_headers = {k.lower(): " ".join(str(v).split()) for k, v in signed.items()}
    names = ";".join(sorted(canonical_headers))
    canonical_request = "\n".join(
        [
            method,
            parts.path or "/",
            parts.query,
            "".join(f"{k}:{canonical_headers[k]}\n" for k in sorted(canonical_headers)),
            names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return signed | {
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, SignedHeaders={names}, "
            f"Signature={signature}"
        )
    }


def call(http: httpx.Client, queue_url: str, action: str, payload: dict[str, Any], timeout: float) -> Any:
    """One SQS JSON-protocol call; its parsed answer, or SqsError."""
    region = region_for(queue_url)
    url = endpoint_for(region) + "/"
    body = json.dumps(payload).encode()
    headers = sign(
        "POST",
        url,
        {"content-type": JSON_1_0, "x-amz-target": f"AmazonSQS.{action}"},
        body,
        credentials=environment_credentials(),
        region=region,
        now=datetime.now(UTC),
    )
    try:
        reply = http.post(
            url, content=body, headers=headers, timeout=httpx.Timeout(timeout, connect=min(1.0, timeout))
        )
    except httpx.HTTPError as exc:
        raise SqsError(f"SQS unreachable: {type(exc).__name__}") from None
    if reply.status_code >= 400:
        try:
            kind = str(reply.json().get("__type", "")).rsplit("#", 1)[-1]
        except ValueError:
            kind = ""
        raise SqsError(f"SQS answered {reply.status_code} {kind}".strip())
    try:
        return reply.json()
    except ValueError:
        raise SqsError("SQS answered something that is not JSON") from None
