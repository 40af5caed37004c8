"""The HTTP edge of the profile API, built on Powertools' APIGatewayHttpResolver.

`ProfileApiResolver` checks what must hold before any route runs, in the order a client should
hear about it: the bearer token (401), then the body's size (413), media type (415) and JSON shape
(400). Powertools' own validation (422) only ever sees a verified user and a JSON object. Every
failure, here or in a route, leaves as the one error body of DESIGN §3.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from creator_sync.auth import AuthenticatedUser
from creator_sync.errors import (
    ApiError,
    BadRequest,
    ErrorCode,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from creator_sync.observability import logger

JSON = "application/json"
BODY_REQUIRED_METHODS = frozenset({"PATCH", "PUT"})
MAX_NESTING = 32


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    details: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail
    request_id: str


def documented_responses(
    success: tuple[int, type[BaseModel] | dict[str, Any], str], *error_statuses: int
) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` for a route: its success body and the error body for each error status."""
    status, body, description = success
    content: Any = {"model": body} if isinstance(body, type) else {"schema": body}
    responses: dict[int, OpenAPIResponse] = {status: {"description": description, "content": {JSON: content}}}
    for code in error_statuses:
        responses[code] = {"description": _STATUS_TEXT[code], "content": {JSON: {"model": ErrorResponse}}}
    return responses


def without_unused_validation_schema(document: dict[str, Any]) -> dict[str, Any]:
    """Drop Powertools' default 422 (HTTPValidationError, a shape this API never answers) from
    every operation, and its component schemas; the routes document their own 422 where it occurs."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in json.dumps(answer):
                del operation["responses"]["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    return document


_STATUS_TEXT = {
    400: "Malformed JSON, or a body that is not a JSON object",
    401: "Missing, malformed, expired or foreign access token",
    403: "Anonymous (guest) accounts may not link a TikTok handle or start a scrape",
    404: "No such route",
    405: "Route exists, method does not",
    409: "No TikTok handle is linked",
    413: "Body larger than 16 KiB",
    415: "Body is not application/json",
    422: "Unknown field, wrong type or invalid value",
    429: "A per-user limit: refresh cooldown or handle changes per hour (see Retry-After)",
    500: "Unexpected failure (no internals are disclosed)",
    503: "Database, queue or key server unreachable (see Retry-After)",
}


class ProfileApiResolver(APIGatewayHttpResolver):
    def __init__(
        self,
        *,
        authenticate: Callable[[str | None], AuthenticatedUser],
        public_routes: set[tuple[str, str]],
        max_body_bytes: int,
    ) -> None:
        super().__init__(enable_validation=True)
        self._authenticate = authenticate
        self._public_routes = public_routes
        self._max_body_bytes = max_body_bytes
        self.known_routes: dict[str, set[str]] = {}
        self.exception_handler(Exception)(self._answer_error)
        self.not_found()(self._answer_not_found)

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        methods = [method] if isinstance(method, str) else list(method)
        self.known_routes.setdefault(rule, set()).update(m.upper() for m in methods)
        return super().route(rule, method, *args, **kwargs)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """One exact path match (the whole string: no trailing newline, no case folding) decides
        routing and the auth gate alike; only known (method, path) pairs reach Powertools."""
        http = event.get("requestContext", {}).get("http", {})
        method, path = str(http.get("method", "")).upper(), str(event.get("rawPath", ""))
        methods = self.known_routes.get(path)
        if methods is None:
            return _event_error(NotFound(f"no route {_printable(path)}"), event)
        if method not in methods:
            return _event_error(
                MethodNotAllowed(f"{_printable(method)} is not allowed here", sorted(methods)), event
            )
        headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        if (method, path) not in self._public_routes:
            try:
                user = self._authenticate(headers.get("authorization"))
                body = self._check_body(method, headers, event)
            except ApiError as exc:
                return _event_error(exc, event)
            self.append_context(user=user)  # type: ignore[no-untyped-call]
            if body is not None:
                # Powertools reads the checked body: plain UTF-8 text, its media type as it matches.
                event = {
                    **event,
                    "body": body,
                    "isBase64Encoded": False,
                    "headers": {**(event.get("headers") or {}), "content-type": JSON},
                }
        return super().resolve(event, context)

    def _check_body(self, method: str, headers: Mapping[str, str], event: Mapping[str, Any]) -> str | None:
        """The body as UTF-8 JSON text of one object (None when there is none), or the error a
        client must hear first: 413, 415, then 400 (RFC 8259 §8.1: UTF-8 only, no byte order mark;
        nesting at most 32 deep; no NaN or Infinity)."""
        raw = _raw_body(event)
        if len(raw) > self._max_body_bytes:
            raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {self._max_body_bytes}")
        if not raw.strip():
            if method in BODY_REQUIRED_METHODS:
                raise BadRequest("a JSON object body is required")
            return None
        media_type, parameters = _media_type(headers.get("content-type", JSON))
        if media_type != JSON:
            raise UnsupportedMediaType(
                f"send the body as {JSON}, not {_printable(media_type) or 'an unnamed type'}"
            )
        if parameters.get("charset", "utf-8") not in {"utf-8", "utf8"}:
            raise BadRequest("only UTF-8 JSON is accepted (charset=utf-8)")
        if raw.startswith(b"\xef\xbb\xbf"):
            raise BadRequest("the body starts with a byte order mark; send UTF-8 JSON without one")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the body is not UTF-8; only UTF-8 JSON is accepted") from None
        if _nesting_depth(text) > MAX_NESTING:
            raise BadRequest(f"the body nests deeper than {MAX_NESTING} levels")
        try:
            body = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(f"the body is not valid JSON: {_printable(str(exc))}") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return text

    def current_user(self) -> AuthenticatedUser:
        user = self.context.get("user")
        if not isinstance(user, AuthenticatedUser):
            raise InternalError("route reached without an authenticated user")
        return user

    def request_id(self) -> str:
        return str(self.current_event.request_context.request_id)

    def _answer_error(self, exc: Exception) -> Response[str]:
        return _error_response(_as_api_error(exc), self.request_id())

    def _answer_not_found(self, _: NotFoundError) -> Response[str]:
        methods = self.known_routes.get(self.current_event.raw_path)
        if methods:
            method = self.current_event.request_context.http.method
            error: ApiError = MethodNotAllowed(f"{method} is not allowed here", sorted(methods))
        else:
            error = NotFound(f"no route {self.current_event.raw_path}")
        return _error_response(error, self.request_id())


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        if exc.status >= 500:
            logger.warning("request failed upstream", extra={"error_code": exc.code.value})
        return exc
    if isinstance(exc, RequestValidationError):
        return ValidationFailed(_validation_message(exc), details=_validation_details(exc))
    if isinstance(exc, RequestUnsupportedContentType):
        return UnsupportedMediaType(f"send the body as {JSON}")
    logger.exception("unhandled error")
    return InternalError("internal error")


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "the request is invalid"
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{field}: {message}{more}"


def _error_body(error: ApiError, request_id: str) -> str:
    return ErrorResponse(
        error=ErrorDetail(code=error.code, message=error.message, details=error.details),
        request_id=request_id,
    ).model_dump_json()


def _error_response(error: ApiError, request_id: str) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=JSON,
        body=_error_body(error, request_id),
        headers=error.headers,
    )


def _event_error(error: ApiError, event: Mapping[str, Any]) -> dict[str, Any]:
    """An error answered before Powertools sees the event, in the API Gateway v2 response format."""
    request_id = str(event.get("requestContext", {}).get("requestId", ""))
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": JSON, **error.headers},
        "body": _error_body(error, request_id),
        "isBase64Encoded": False,
    }


def last_resort_answer(event: Mapping[str, Any]) -> dict[str, Any]:
    """500 in the error shape with the request id, for a failure outside every route."""
    return _event_error(InternalError("internal error"), event)


def _raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64") from None
    return body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else bytes(body)


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    """`type/subtype` and its parameters, lower-cased: media types match case-insensitively."""
    kind, *params = str(header).split(";")
    parameters = {}
    for param in params:
        name, _, value = param.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), parameters


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest, counted outside strings, without parsing (so a body of
    10,000 `[` costs a scan, not a RecursionError)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def _printable(text: str, limit: int = 120) -> str:
    """Client-supplied text fit to echo in an error message."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text[:limit])


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
