"""PostgREST RPC calls through supabase's own `postgrest` client (not `supabase`, which imports
realtime, storage, functions and auth at cold start).

One httpx.Client per container is shared by every call; per-request PostgREST clients are cheap
wrappers around it and are never closed (closing one would close the shared pool). A call that
meets a stale pooled connection (the server closed it while the container was frozen) is retried
once. Failures become the domain's errors: unreachable → Unavailable (503), token refused →
Unauthorized, a rule the database enforces → ValidationFailed, anything else → InternalError.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import httpx
from postgrest import APIError, SyncPostgrestClient

from creator_sync.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InternalError,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from creator_sync.observability import logger

_AUTH_CODES = frozenset({"PGRST301", "PGRST302", "PGRST303", "42501", "401", "403"})
_RETRY_AFTER = re.compile(r"retry_after=(\d{1,7})")
_UNAVAILABLE_CODES = frozenset(
    {"PGRST000", "PGRST001", "PGRST002", "PGRST003", "500", "502", "503", "504", "520"}
)


@cache
def shared_http_client(timeout_seconds: float) -> httpx.Client:
    """The container's one connection pool (module scope, reused across invocations)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 2.0)),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30),
    )


class Rpc:
    """Calls `POST /rest/v1/rpc/<fn>` with one API key and one bearer token."""

    def __init__(self, rest_url: str, api_key: str, bearer: str, http_client: httpx.Client) -> None:
        self._client = SyncPostgrestClient(
            rest_url,
            headers={"apikey": api_key, "Authorization": f"Bearer {bearer}"},
            http_client=http_client,
        )

    def call(self, function: str, params: dict[str, Any]) -> Any:
        for attempt in (1, 2):
            try:
                return self._client.rpc(function, params).execute().data
            except (httpx.RemoteProtocolError, httpx.WriteError):  # the request never reached a live server
                if attempt == 2:
                    raise Unavailable("the database connection failed") from None
                logger.info("retrying RPC after a stale pooled connection", extra={"rpc": function})
            except (httpx.TimeoutException, httpx.TransportError):
                logger.warning("database unreachable", extra={"rpc": function})
                raise Unavailable("the database is unreachable, try again shortly") from None
            except APIError as exc:
                raise _domain_error(function, exc) from None
        raise AssertionError("unreachable")


def _domain_error(function: str, exc: APIError) -> ApiError:
    code = str(exc.code or "")
    if code in _AUTH_CODES:
        return Unauthorized("the database refused the access token")
    if code in _UNAVAILABLE_CODES:
        logger.warning("database unavailable", extra={"rpc": function, "code": code})
        return Unavailable("the database is unavailable, try again shortly")
    # Rules the database enforces for every caller, raised with PostgREST's PTxxx codes (HTTP xxx).
    if code == "PT429":
        match = _RETRY_AFTER.search(str(exc.details or ""))
        return RateLimited(exc.message or "too many requests", int(match.group(1)) if match else 60)
    if code == "PT403":
        return Forbidden(exc.message or "not allowed for this account")
    if code == "PT409":
        return Conflict(exc.message or "conflict")
    if code in {"22023", "23514", "22P05"}:  # invalid value, check violation, NUL in text
        return ValidationFailed(exc.message or "the database rejected the values", details=[])
    if code == "23503":
        return Unauthorized("the account behind this access token no longer exists")
    logger.error(
        "unexpected database error", extra={"rpc": function, "code": code, "db_message": exc.message}
    )
    return InternalError("internal error")
