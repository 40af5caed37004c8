"""PostgREST RPC calls: `POST {rest}/rpc/<function>` with a JSON object of arguments, on the
container's one httpx.Client.

An RPC call is one POST and PostgREST's error body is four fields, so this module speaks the
protocol itself rather than through `postgrest` (supabase-py's query builder): that package costs
~20 ms of every cold start (asyncio, yarl and its async builders) for what is one request here.

A call that meets a stale pooled connection (the server closed it while the container was frozen)
is retried once. Failures become the domain's errors: unreachable → Unavailable (503), token
refused → Unauthorized, a rule the database enforces → ValidationFailed, anything else →
InternalError.
"""

import re
import time
from functools import cache
from typing import Any, Self

import httpx
from pydantic import ValidationError

from creator_sync import time_budget
from creator_sync.boundary import BoundaryModel
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
    """Calls `POST /rest/v1/rpc/<fn>` with one API key and one bearer token.

    Each call takes at most what the request's time budget has left, and tells the database the
    moment it must not commit after (header `X-Creator-Sync-Deadline`, checked by the write RPCs):
    a call this client gave up on is rolled back, never landed late."""

    def __init__(self, rest_url: str, api_key: str, bearer: str, http_client: httpx.Client) -> None:
        self._http = http_client
        self._headers = {
            "apikey": api_key,
            "Authorization": f"Bearer {bearer}",
            "Accept": "application/json",
        }
        self._rest_url = rest_url

    def call(self, function: str, params: dict[str, Any]) -> Any:
        for attempt in (1, 2):
            timeout = time_budget.current().call_timeout(_configured_timeout(self._http))
            if timeout is None:
                raise Unavailable("the request ran out of time before the database answered")
            deadline = time.time() + timeout - DEADLINE_MARGIN_SECONDS
            try:
                response = self._http.post(
                    f"{self._rest_url}/rpc/{function}",
                    json=params,
                    headers=self._headers | {DEADLINE_HEADER: f"{deadline:.3f}"},
                    timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
                )
            except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ConnectError):
                # The request never reached a live server (a pooled connection the server closed,
                # or a server restarting): once more on a fresh connection.
                if attempt == 2:
                    logger.warning("database unreachable", extra={"rpc": function})
                    raise Unavailable("the database connection failed, try again shortly") from None
                logger.info("retrying RPC on a fresh connection", extra={"rpc": function})
                continue
            except (httpx.TimeoutException, httpx.TransportError):
                logger.warning("database unreachable", extra={"rpc": function})
                raise Unavailable("the database is unreachable, try again shortly") from None
            if response.is_success:
                return _json_result(function, response)
            raise _domain_error(function, PostgrestError.of(response))
        raise AssertionError("unreachable")


DEADLINE_HEADER = "X-Creator-Sync-Deadline"
DEADLINE_MARGIN_SECONDS = 0.3


def _configured_timeout(http: httpx.Client) -> float:
    return float(http.timeout.read or 5.0)


def _json_result(function: str, response: httpx.Response) -> Any:
    """The function's result (None for a `void` function's empty answer)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        logger.error("PostgREST answered success without JSON", extra={"rpc": function})
        raise InternalError("internal error") from None


class PostgrestError(BoundaryModel):
    """PostgREST's error body (or what stands for it when a proxy answered instead)."""

    code: str | None = None
    message: str | None = None
    details: Any = None
    hint: Any = None

    @classmethod
    def of(cls, response: httpx.Response) -> Self:
        try:
            error = cls.model_validate_json(response.content)
            # JSON without a code (a proxy's own JSON error): the HTTP status stands for it.
            return error if error.code else error.model_copy(update={"code": str(response.status_code)})
        except ValidationError:
            # Not PostgREST's JSON (a gateway's error page): PostgREST names the error in
            # Proxy-Status when it can; otherwise the HTTP status stands for the code.
            found = _PROXY_STATUS_ERROR.search(response.headers.get("proxy-status", ""))
            return cls(
                code=found.group(1) if found else str(response.status_code),
                message=response.reason_phrase or f"HTTP {response.status_code}",
                details=response.text[:500] or None,
            )


_PROXY_STATUS_ERROR = re.compile(r'(?i)\bpostgrest\b[^,]*;\s*error="?(\w+)')


# SQLSTATEs of a database that is down, restarting, overloaded or gave up: the client may retry.
_UNAVAILABLE_CLASSES = ("08", "57P", "53")
_UNAVAILABLE_SQLSTATES = frozenset({"40001", "40P01", "57014", "55P03"})


def _domain_error(function: str, exc: PostgrestError) -> ApiError:
    code = str(exc.code or "")
    if code in _AUTH_CODES:
        return Unauthorized("the database refused the access token")
    if code in _UNAVAILABLE_CODES or code in _UNAVAILABLE_SQLSTATES or code.startswith(_UNAVAILABLE_CLASSES):
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
    if code in {"22023", "23514", "22P05", "22021", "54000"}:  # invalid value, check, NUL, encoding
        return ValidationFailed(exc.message or "the database rejected the values", details=[])
    if code == "23503":
        return Unauthorized("the account behind this access token no longer exists")
    logger.error(
        "unexpected database error", extra={"rpc": function, "code": code, "db_message": exc.message}
    )
    return InternalError("internal error")
