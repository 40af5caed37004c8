"""The HTTP edge of the profile API: a route table matched exactly, and the checks that must hold
before any route runs, in the order a client should hear about them: the route (404, 405), the
bearer token (401), then the body's size (413), media type (415), JSON shape (400) and fields (422).
Every failure, here or in a route, leaves as the one error body of DESIGN §3.

Routing and validation are ours, not Powertools' event handler: importing that package loads every
resolver (AppSync's pulls in asyncio) and every event data class on each cold start, for four
routes. The same route table and handlers generate the OpenAPI document through Powertools
(`api/openapi.py`), so the document still describes exactly what is served.
"""

import base64
import binascii
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from creator_sync.api.auth import AuthenticatedUser
from creator_sync.boundary import BoundaryModel
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

OpenApiResponses = dict[int, dict[str, Any]]


class ErrorDetail(BoundaryModel):
    code: ErrorCode
    message: str
    details: list[dict[str, Any]]


class ErrorResponse(BoundaryModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail
    request_id: str


def documented_responses(
    success: tuple[int, type[BaseModel] | dict[str, Any], str], *error_statuses: int
) -> OpenApiResponses:
    """OpenAPI `responses` for a route (Powertools' format): its success body and the error body for
    each error status."""
    status, body, description = success
    content: Any = {"model": body} if isinstance(body, type) else {"schema": body}
    responses: OpenApiResponses = {status: {"description": description, "content": {JSON: content}}}
    for code in error_statuses:
        responses[code] = {"description": _STATUS_TEXT[code], "content": {JSON: {"model": ErrorResponse}}}
    return responses


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


@dataclass(frozen=True)
class Route:
    """One operation: a handler called with the validated body model (when its one parameter is a
    pydantic model) and returning a model, or a dict for a plain JSON document."""

    method: str
    path: str
    handler: Callable[..., BaseModel | dict[str, Any]]
    summary: str
    responses: OpenApiResponses
    status_code: int
    public: bool
    body_model: type[BaseModel] | None


@dataclass(frozen=True)
class _Request:
    user: AuthenticatedUser | None
    request_id: str


class ProfileApi:
    """Routes API Gateway v2 events to handlers and answers in the API Gateway v2 format.

    The request being answered (its user and id) is held on the instance while its handler runs:
    a Lambda container answers one request at a time, and handlers reach it through
    `current_user()` and `request_id()` instead of taking it as parameters, so their signatures stay
    what the OpenAPI document is generated from."""

    def __init__(
        self, *, authenticate: Callable[[str | None], AuthenticatedUser], max_body_bytes: int
    ) -> None:
        self._authenticate = authenticate
        self._max_body_bytes = max_body_bytes
        self._routes: dict[str, dict[str, Route]] = {}
        self._request: _Request | None = None

    def get(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route("POST", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route("PATCH", path, **options)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        responses: OpenApiResponses,
        status_code: int = 200,
        public: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            by_method = self._routes.setdefault(path, {})
            if method in by_method:
                raise ValueError(f"{method} {path} is registered twice")
            by_method[method] = Route(
                method, path, handler, summary, responses, status_code, public, _body_model(handler)
            )
            return handler

        return register

    @property
    def routes(self) -> list[Route]:
        """Every operation, in registration order (the OpenAPI document lists them so)."""
        return [route for by_method in self._routes.values() for route in by_method.values()]

    def resolve(self, event: object) -> dict[str, Any]:
        """One exact path match (the whole string: no trailing newline, no case folding) decides
        routing and the auth gate alike."""
        method = str(_lookup(event, "requestContext", "http", "method") or "").upper()
        path = str(_lookup(event, "rawPath") or "")
        request_id = _request_id(event)
        try:
            route = self._match(method, path)
            given = _lookup(event, "headers")
            headers = {str(k).lower(): v for k, v in given.items()} if isinstance(given, Mapping) else {}
            user = None
            arguments: tuple[BaseModel, ...] = ()
            if not route.public:
                authorization = headers.get("authorization")
                user = self._authenticate(None if authorization is None else str(authorization))
                body = self._check_body(method, headers, event)
                if route.body_model is not None:
                    arguments = (_validated(route.body_model, body),)
            self._request = _Request(user, request_id)
            return _answer(route.status_code, route.handler(*arguments))
        except Exception as exc:
            return _error_answer(_as_api_error(exc), request_id)
        finally:
            self._request = None

    def current_user(self) -> AuthenticatedUser:
        user = self._request.user if self._request else None
        if user is None:
            raise InternalError("route reached without an authenticated user")
        return user

    def request_id(self) -> str:
        if self._request is None:
            raise InternalError("no request is being answered")
        return self._request.request_id

    def _match(self, method: str, path: str) -> Route:
        by_method = self._routes.get(path)
        if by_method is None:
            raise NotFound(f"no route {_printable(path)}")
        route = by_method.get(method)
        if route is None:
            raise MethodNotAllowed(f"{_printable(method)} is not allowed here", sorted(by_method))
        return route

    def _check_body(self, method: str, headers: Mapping[str, Any], event: object) -> Any:
        """The body as parsed JSON (one object; None when there is none), or the error a client
        must hear first: 413, 415, then 400 (RFC 8259 §8.1: UTF-8 only, no byte order mark;
        nesting at most 32 deep; no NaN or Infinity)."""
        raw = _raw_body(event)
        if len(raw) > self._max_body_bytes:
            raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {self._max_body_bytes}")
        if not raw.strip():
            if method in BODY_REQUIRED_METHODS:
                raise BadRequest("a JSON object body is required")
            return None
        media_type, parameters = _media_type(str(headers.get("content-type", JSON)))
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
        return body


def _body_model(handler: Callable[..., Any]) -> type[BaseModel] | None:
    """The pydantic model a handler takes as its one parameter (the request body), if any."""
    parameters = list(inspect.signature(handler, eval_str=True).parameters.values())
    if not parameters:
        return None
    model = parameters[0].annotation
    if len(parameters) > 1 or not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{handler.__name__} must take no parameter or one pydantic model (the body)")
    return model


def _validated(model: type[BaseModel], body: Any) -> BaseModel:
    if body is None:
        raise BadRequest("a JSON object body is required")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        raise ValidationFailed(_validation_message(errors), details=_validation_details(errors)) from None


def _answer(status: int, result: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(result, BaseModel):
        body = result.model_dump_json()
    elif isinstance(result, dict):
        body = json.dumps(result)
    else:
        raise TypeError(f"a route returned {type(result).__name__}, not a model or a JSON object")
    return {"statusCode": status, "headers": {"Content-Type": JSON}, "body": body, "isBase64Encoded": False}


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        if exc.status >= 500:
            logger.warning("request failed upstream", extra={"error_code": exc.code.value})
        return exc
    logger.exception("unhandled error")
    return InternalError("internal error")


def _validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in errors
    ]


def _validation_message(errors: list[Any]) -> str:
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


def _error_answer(error: ApiError, request_id: str) -> dict[str, Any]:
    """An error in the API Gateway v2 response format."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": JSON, **error.headers},
        "body": _error_body(error, request_id),
        "isBase64Encoded": False,
    }


def last_resort_answer(event: object) -> dict[str, Any]:
    """500 in the error shape with the request id, for a failure outside every route."""
    return _error_answer(InternalError("internal error"), _request_id(event))


def _lookup(event: object, *keys: str) -> Any:
    """A value inside the event, or None where a level is missing or not an object: API Gateway
    always sends its v2 shape, but a direct invoke can send anything."""
    value = event
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _request_id(event: object) -> str:
    return str(_lookup(event, "requestContext", "requestId") or "")


def _raw_body(event: object) -> bytes:
    body = _lookup(event, "body") or ""
    if not isinstance(body, str):  # API Gateway sends text (base64 for binary); never build bytes(n)
        raise BadRequest("the body must be text")
    if _lookup(event, "isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64") from None
    return body.encode("utf-8", errors="surrogatepass")


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
