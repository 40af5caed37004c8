"""[R2] at the edge: no input makes the API answer 5xx. Strings, encodings, nesting and paths a
hostile client sends each get the exact documented answer (DESIGN §3)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from devstack.api_gateway import http_event
from tests.support.api import ApiClient, ApiReply


def send_event(api: ApiClient, event: dict[str, Any]) -> ApiReply:
    return api.send(event)


def raw_request(
    api: ApiClient,
    method: str,
    path: str,
    token: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    base64_encoded: bool = True,
) -> ApiReply:
    """A request whose body reaches the function exactly as given (API Gateway base64-encodes
    bodies it cannot pass as text)."""
    event = http_event(
        method, path, headers={"authorization": f"Bearer {token}", "content-type": content_type}
    )
    if base64_encoded:
        event |= {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    else:
        event |= {"body": body.decode("utf-8", errors="surrogatepass"), "isBase64Encoded": False}
    return send_event(api, event)


def error(reply: ApiReply) -> tuple[int, str]:
    return reply.status, reply.body["error"]["code"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("niche", "a\u0000b"),
        ("niche", "bell\u0007"),
        ("niche", "c1\u0085"),
        ("niche", "line\u2028sep"),
        ("niche", "para\u2029sep"),
        ("niche", "\ufeffbom"),
        ("timezone", "Europe/Paris\u0000"),
        ("tiktok_handle", "jane\u0000doe"),
    ],
)
def test_nul_and_control_characters_are_422_naming_the_field(
    api: ApiClient, token: str, field: str, value: str
) -> None:
    reply = api.request("PATCH", "/profile", token=token, json_body={field: value})
    assert error(reply) == (422, "validation_error")
    assert reply.body["error"]["message"].startswith(f"{field}: ")


def test_a_lone_surrogate_is_422(api: ApiClient, token: str) -> None:
    reply = api.request(
        "PATCH",
        "/profile",
        token=token,
        body='{"niche": "a\\ud800b"}',
        headers={"content-type": "application/json"},
    )
    assert error(reply) == (422, "validation_error")
    assert reply.body["error"]["message"].startswith("niche: ")


def test_nul_in_an_unknown_key_is_422(api: ApiClient, token: str) -> None:
    reply = api.request("PATCH", "/profile", token=token, json_body={"ni\u0000che": "x"})
    assert error(reply) == (422, "validation_error")


def test_printable_unicode_is_kept(api: ApiClient, token: str) -> None:
    reply = api.request("PATCH", "/profile", token=token, json_body={"niche": "café 🍰 日本"})
    assert (reply.status, reply.body["niche"]) == (200, "café 🍰 日本")


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-16 with BOM", '{"niche": "x"}'.encode("utf-16")),
        ("utf-16-le", '{"niche": "x"}'.encode("utf-16-le")),
        ("utf-32 with BOM", '{"niche": "x"}'.encode("utf-32")),
        ("latin-1", '{"niche": "café"}'.encode("latin-1")),
        ("utf-8 with BOM", b"\xef\xbb\xbf" + b'{"niche": "x"}'),
    ],
)
@pytest.mark.parametrize("base64_encoded", [True, False], ids=["base64", "text"])
def test_only_utf8_json_without_a_bom_is_accepted(
    api: ApiClient, token: str, encoding: str, data: bytes, base64_encoded: bool
) -> None:
    if not base64_encoded:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pytest.skip("API Gateway base64-encodes a body that is not UTF-8 text")
    reply = raw_request(api, "PATCH", "/profile", token, data, base64_encoded=base64_encoded)
    assert error(reply) == (400, "bad_request")


def test_a_charset_other_than_utf8_is_400(api: ApiClient, token: str) -> None:
    reply = raw_request(
        api, "PATCH", "/profile", token, b'{"niche": "x"}', content_type="application/json; charset=utf-16"
    )
    assert error(reply) == (400, "bad_request")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON; Charset=UTF-8",
        "APPLICATION/JSON;charset=utf-8",
        "application/json ;",
    ],
)
def test_media_types_match_case_insensitively_with_parameters(
    api: ApiClient, token: str, content_type: str
) -> None:
    reply = raw_request(api, "PATCH", "/profile", token, b'{"niche": "food"}', content_type=content_type)
    assert (reply.status, reply.body["niche"]) == (200, "food")


def nested(depth: int) -> str:
    return '{"niche": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


def test_nesting_deeper_than_32_is_400(api: ApiClient, token: str) -> None:
    assert error(raw_request(api, "PATCH", "/profile", token, nested(33).encode())) == (400, "bad_request")
    # 32 levels parse, and the value is then simply of the wrong type
    assert error(raw_request(api, "PATCH", "/profile", token, nested(32).encode())) == (
        422,
        "validation_error",
    )


@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/profile"), ("GET", "/profile"), ("POST", "/profile/refresh")]
)
def test_ten_thousand_open_brackets_are_400_not_a_crash(
    api: ApiClient, token: str, method: str, path: str
) -> None:
    reply = raw_request(api, method, path, token, b"[" * 10_000)
    assert error(reply) == (400, "bad_request")
    assert reply.body["request_id"] == reply.request_id


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(api: ApiClient, token: str, constant: str) -> None:
    body = f'{{"posting_goal_per_week": {constant}}}'.encode()
    assert error(raw_request(api, "PATCH", "/profile", token, body)) == (400, "bad_request")


@pytest.mark.parametrize(
    "path",
    [
        "/profile\n",
        "/profile%0A",
        "/Profile",
        "/profile/",
        "/PROFILE/REFRESH",
        "/profile/refresh\n",
        "",
        "/",
        "//profile",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "POST"])
def test_every_other_path_is_a_404_in_the_standard_shape(
    api: ApiClient, token: str, path: str, method: str
) -> None:
    event = http_event(method, path, headers={"authorization": f"Bearer {token}"})
    reply = send_event(api, event)
    assert error(reply) == (404, "not_found")
    assert reply.body["request_id"] == reply.request_id


def test_a_known_path_with_another_method_is_405_with_allow(api: ApiClient, token: str) -> None:
    reply = send_event(api, http_event("DELETE", "/profile", headers={"authorization": f"Bearer {token}"}))
    assert error(reply) == (405, "method_not_allowed")
    assert reply.header("allow") == "GET, PATCH"


def test_an_unknown_path_does_not_need_a_token(api: ApiClient) -> None:
    assert error(send_event(api, http_event("GET", "/admin"))) == (404, "not_found")


def test_the_openapi_document_path_is_exact_too(api: ApiClient) -> None:
    assert api.request("GET", "/openapi.json").status == 200
    assert error(send_event(api, http_event("GET", "/openapi.json\n"))) == (404, "not_found")
    body = json.loads(api.request("GET", "/openapi.json").text)
    assert set(body["paths"]) == {"/profile", "/profile/refresh", "/openapi.json"}


# API Gateway always sends its v2 shape; a direct invoke (or a misconfigured integration) can send
# anything. The answer is still one of ours, never an exception or a body built from a number.
@pytest.mark.parametrize(
    ("event", "status"),
    [
        ({}, 404),
        ([], 404),
        ("GET /profile", 404),
        ({"requestContext": "x", "rawPath": "/profile"}, 405),
        ({"requestContext": {"http": "GET"}, "rawPath": "/profile"}, 405),
        ({"requestContext": {"http": {"method": "GET"}}, "rawPath": "/profile", "headers": ["a"]}, 401),
        (
            {
                "requestContext": {"http": {"method": "GET"}},
                "rawPath": "/profile",
                "headers": {"authorization": 7},
            },
            401,
        ),
    ],
)
def test_an_event_api_gateway_never_sends_is_answered_in_shape(
    api: ApiClient, event: Any, status: int
) -> None:
    reply = api.send(event)
    assert reply.status == status
    assert set(reply.body) == {"error", "request_id"}


def test_a_body_that_is_not_text_is_400_without_building_it(api: ApiClient, token: str) -> None:
    event = http_event("PATCH", "/profile", headers={"authorization": f"Bearer {token}"}, body="{}")
    reply = api.send(event | {"body": 10**12})  # bytes(10**12) would be a terabyte
    assert (reply.status, reply.body["error"]["code"]) == (400, "bad_request")
