"""Database errors map by class to the API's answers (DESIGN §3): an outage, an overload or a
database that gave up is 503 with Retry-After; the database's own rules keep their meaning."""

from __future__ import annotations

import pytest
from creator_sync.errors import ErrorCode
from creator_sync.stores.rpc import PostgrestError, _domain_error


def error(code: str, message: str = "m", details: str | None = None) -> PostgrestError:
    return PostgrestError(code=code, message=message, details=details)


@pytest.mark.parametrize(
    "code",
    [
        "08000", "08003", "08006", "57P01", "57P02", "57P03", "53300", "53400",
        "40001", "40P01", "57014", "55P03", "PGRST000", "PGRST001", "PGRST003", "503",
    ],
)  # fmt: skip
def test_an_unavailable_database_is_503_with_retry_after(code: str) -> None:
    mapped = _domain_error("get_profile", error(code))
    assert (mapped.status, mapped.code) == (503, ErrorCode.UNAVAILABLE)
    assert int(mapped.headers["Retry-After"]) >= 1


def test_a_rate_limit_carries_the_databases_retry_after() -> None:
    mapped = _domain_error("update_profile", error("PT429", "at most 5", "retry_after=1234"))
    assert (mapped.status, mapped.headers["Retry-After"], mapped.message) == (429, "1234", "at most 5")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("PT403", 403),
        ("PT409", 409),
        ("22023", 422),
        ("23514", 422),
        ("22P05", 422),
        ("42501", 401),
        ("XX000", 500),
    ],
)
def test_rules_keep_their_meaning(code: str, status: int) -> None:
    assert _domain_error("update_profile", error(code)).status == status
