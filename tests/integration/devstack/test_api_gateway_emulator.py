"""The local API builds v2.0 events as API Gateway HTTP APIs do (DESIGN §10), point by point."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.api_gateway import MAX_PAYLOAD_BYTES, api_server
from devstack.http_server import LoopbackServer


@pytest.fixture
def emulator() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    events: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}

    server: LoopbackServer = api_server(0, invoke, ["http://localhost:5173"]).start()
    try:
        yield server.url, events
    finally:
        server.stop()


def test_raw_path_arrives_percent_decoded(emulator: tuple[str, list[dict[str, Any]]]) -> None:
    url, events = emulator
    httpx.get(f"{url}/profile%0A")
    httpx.get(f"{url}/caf%C3%A9/x%20y")
    assert [e["rawPath"] for e in events] == ["/profile\n", "/café/x y"]
    assert events[1]["requestContext"]["http"]["path"] == "/café/x y"


def test_repeated_headers_are_joined_with_commas(emulator: tuple[str, list[dict[str, Any]]]) -> None:
    url, events = emulator
    httpx.get(
        f"{url}/profile",
        headers=[("Authorization", "Bearer A"), ("Authorization", "Bearer B"), ("X-Dup", "1")],
    )
    assert events[0]["headers"]["authorization"] == "Bearer A,Bearer B"
    assert events[0]["headers"]["x-dup"] == "1"


def test_cookies_arrive_as_a_list_not_a_header(emulator: tuple[str, list[dict[str, Any]]]) -> None:
    url, events = emulator
    httpx.get(f"{url}/profile", headers=[("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
    assert events[0]["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in events[0]["headers"]


@pytest.mark.parametrize(
    ("content_type", "body", "base64_encoded"),
    [
        ("application/json", '{"niche": "café"}'.encode(), False),
        ("application/json", b'{"niche": "caf\xe9"}', True),  # Latin-1: not UTF-8 text
        ("application/json", '{"n": 1}'.encode("utf-16"), True),
        ("Application/JSON; charset=utf-8", b'{"n": 1}', False),
        ("image/png", b"\x89PNG\r\n", True),
        ("text/plain", b"hello", False),
    ],
)
def test_bodies_that_are_not_utf8_text_arrive_base64_encoded(
    emulator: tuple[str, list[dict[str, Any]]], content_type: str, body: bytes, base64_encoded: bool
) -> None:
    url, events = emulator
    httpx.patch(f"{url}/profile", content=body, headers={"content-type": content_type})
    event = events[0]
    assert event["isBase64Encoded"] is base64_encoded
    received = base64.b64decode(event["body"]) if base64_encoded else event["body"].encode()
    assert received == body


def test_a_body_over_the_payload_quota_is_413_without_invoking(
    emulator: tuple[str, list[dict[str, Any]]],
) -> None:
    url, events = emulator
    reply = httpx.post(f"{url}/profile/refresh", content=b"x" * (MAX_PAYLOAD_BYTES + 1))
    assert reply.status_code == 413
    assert reply.json() == {"message": "Request Entity Too Large"}
    assert events == []


def test_two_authorization_headers_authenticate_as_nobody(make_api: Any, token: str, user: str) -> None:
    from devstack.api_gateway import http_event
    from devstack.lambda_context import new_context
    from devstack.template import function_spec

    api = make_api()
    event = http_event(
        "GET", "/profile", headers=[("authorization", f"Bearer {token}"), ("authorization", "Bearer x")]
    )
    result = api.handler(event, new_context(function_spec("ProfileApiFunction")))
    assert result["statusCode"] == 401
