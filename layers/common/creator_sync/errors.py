"""The API's error codes and the exceptions that carry them: the one place a failure gets its status.

Domain code raises these; the HTTP layer turns any of them into the documented error body.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    UNAVAILABLE = "unavailable"


STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.UNAVAILABLE: 503,
}


class ApiError(Exception):
    """A failure with a client-facing code, message, optional details and extra response headers."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]


class BadRequest(ApiError):
    code = ErrorCode.BAD_REQUEST


class Unauthorized(ApiError):
    code = ErrorCode.UNAUTHORIZED

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND


class MethodNotAllowed(ApiError):
    code = ErrorCode.METHOD_NOT_ALLOWED

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message, headers={"Allow": ", ".join(sorted(allowed))})


class Conflict(ApiError):
    code = ErrorCode.CONFLICT


class PayloadTooLarge(ApiError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ApiError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class ValidationFailed(ApiError):
    code = ErrorCode.VALIDATION_ERROR


class RateLimited(ApiError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Unavailable(ApiError):
    """An upstream (database, queue, key server) could not be reached: the client may retry."""

    code = ErrorCode.UNAVAILABLE

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class InternalError(ApiError):
    code = ErrorCode.INTERNAL_ERROR
