"""Bad input gets a clear error and loses nothing; upstream outages are 503 or, for the queue after a
commit, a saved change [R2, R8]. Each case asserts the status, the error code and what was stored."""

from __future__ import annotations

import json
from collections.abc import Callable

import jwt
import pytest

from devstack.database import Database
from devstack.sqs import LocalQueues
from tests.support.api import ApiClient
from tests.support.logs import captured_logs
from tests.support.postgres import admin_rows
from tests.support.stack import SupabaseStandIn, queue_messages


def assert_error(reply: object, status: int, code: str) -> dict[str, object]:
    assert reply.status == status, reply.text  # type: ignore[attr-defined]
    body = reply.body  # type: ignore[attr-defined]
    assert body["error"]["code"] == code
    assert body["request_id"] == reply.request_id  # type: ignore[attr-defined]
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body  # type: ignore[no-any-return]


def nothing_stored(db: Database) -> bool:
    return (
        admin_rows(
            db.url, "select 1 from public.user_settings union all select 1 from public.creator_profiles"
        )
        == []
    )


@pytest.mark.parametrize("body", ['{"niche": ', "{'niche': 'x'}", "niche=x", '{"niche": NaN}', "\x00"])
def test_malformed_json_is_400(api: ApiClient, token: str, db: Database, body: str) -> None:
    reply = api.request(
        "PATCH", "/profile", token=token, body=body, headers={"content-type": "application/json"}
    )
    assert_error(reply, 400, "bad_request")
    assert nothing_stored(db)


@pytest.mark.parametrize("body", ["[]", '"niche"', "5", "null", "true", '[{"niche": "x"}]'])
def test_a_body_that_is_not_an_object_is_400(api: ApiClient, token: str, db: Database, body: str) -> None:
    reply = api.request(
        "PATCH", "/profile", token=token, body=body, headers={"content-type": "application/json"}
    )
    assert_error(reply, 400, "bad_request")
    assert nothing_stored(db)


def test_an_empty_patch_body_is_400(api: ApiClient, token: str) -> None:
    assert_error(api.request("PATCH", "/profile", token=token), 400, "bad_request")


def test_a_body_over_16_kib_is_413(api: ApiClient, token: str, db: Database) -> None:
    body = json.dumps({"niche": "x" * (16 * 1024)})
    reply = api.request(
        "PATCH", "/profile", token=token, body=body, headers={"content-type": "application/json"}
    )
    assert_error(reply, 413, "payload_too_large")
    assert nothing_stored(db)


def test_a_body_of_exactly_16_kib_is_judged_on_its_content(api: ApiClient, token: str) -> None:
    padding = 16 * 1024 - len(json.dumps({"niche": ""}))
    body = json.dumps({"niche": "x" * padding})
    assert len(body.encode()) == 16 * 1024
    reply = api.request(
        "PATCH", "/profile", token=token, body=body, headers={"content-type": "application/json"}
    )
    assert_error(reply, 422, "validation_error")  # too long a niche, but not too large a body


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_a_body_that_is_not_json_is_415(api: ApiClient, token: str, db: Database, content_type: str) -> None:
    reply = api.request(
        "PATCH", "/profile", token=token, body='{"niche": "x"}', headers={"content-type": content_type}
    )
    assert_error(reply, 415, "unsupported_media_type")
    assert nothing_stored(db)


def test_json_with_a_charset_is_accepted(api: ApiClient, token: str) -> None:
    reply = api.request(
        "PATCH",
        "/profile",
        token=token,
        body='{"niche": "x"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert reply.status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "00000000-0000-0000-0000-000000000000"}, "user_id"),
        ({"niche": "x", "scrape_status": "succeeded"}, "scrape_status"),
        ({"email_notifications": "true"}, "email_notifications"),
        ({"email_notifications": 1}, "email_notifications"),
        ({"email_notifications": None}, "email_notifications"),
        ({"posting_goal_per_week": "5"}, "posting_goal_per_week"),
        ({"posting_goal_per_week": 5.0}, "posting_goal_per_week"),
        ({"posting_goal_per_week": 5.5}, "posting_goal_per_week"),
        ({"posting_goal_per_week": True}, "posting_goal_per_week"),
        ({"posting_goal_per_week": 51}, "posting_goal_per_week"),
        ({"posting_goal_per_week": -1}, "posting_goal_per_week"),
        ({"niche": ""}, "niche"),
        ({"niche": "x" * 65}, "niche"),
        ({"niche": 7}, "niche"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": 1}, "timezone"),
        ({"tiktok_handle": 5}, "tiktok_handle"),
        ({"tiktok_handle": ["jane"]}, "tiktok_handle"),
    ],
)
def test_unknown_fields_wrong_types_and_bad_values_are_422(
    api: ApiClient, token: str, db: Database, body: dict[str, object], field: str
) -> None:
    reply = api.request("PATCH", "/profile", token=token, json_body=body)
    error = assert_error(reply, 422, "validation_error")
    assert any(field in detail["loc"] for detail in error["error"]["details"])  # type: ignore[index]
    assert nothing_stored(db)


@pytest.mark.parametrize("handle", ["", "a", "jane doe", "jane.", "https://www.instagram.com/@jane", "jаne"])
def test_a_bad_handle_is_422_and_says_what_a_handle_may_be(
    api: ApiClient, token: str, db: Database, queues: LocalQueues, handle: str
) -> None:
    reply = api.request(
        "PATCH", "/profile", token=token, json_body={"niche": "food", "tiktok_handle": handle}
    )
    error = assert_error(reply, 422, "validation_error")
    assert "2 to 24 characters" in error["error"]["message"]  # type: ignore[index]
    assert nothing_stored(db)
    assert queue_messages(queues) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nope", 404, "not_found"),
        ("GET", "/", 404, "not_found"),
        ("DELETE", "/profile", 405, "method_not_allowed"),
        ("PUT", "/profile", 405, "method_not_allowed"),
        ("GET", "/profile/refresh", 405, "method_not_allowed"),
        ("POST", "/openapi.json", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_and_methods_get_the_error_body(
    api: ApiClient, token: str, method: str, path: str, status: int, code: str
) -> None:
    reply = api.request(method, path, token=token)
    assert_error(reply, status, code)
    if status == 405:
        assert reply.header("allow")


def test_a_database_outage_behind_postgrest_is_503(
    api: ApiClient, token: str, supabase: SupabaseStandIn
) -> None:
    supabase.postgrest.database_down = True
    try:
        reply = api.request("GET", "/profile", token=token)
    finally:
        supabase.postgrest.database_down = False
    assert_error(reply, 503, "unavailable")
    assert reply.header("retry-after") == "5"


def test_an_unreachable_postgrest_is_503(
    make_api: Callable[..., ApiClient], supabase: SupabaseStandIn, user: str
) -> None:
    # HS256 configuration, so the closed Supabase URL is needed for the database call alone
    dead = "http://127.0.0.1:9"
    api = make_api(SUPABASE_URL=dead, JWT_ALGORITHMS="HS256", SUPABASE_JWT_SECRET=supabase.keys.hs256_secret)
    token = jwt.encode(
        {
            "iss": f"{dead}/auth/v1",
            "aud": "authenticated",
            "sub": user,
            "role": "authenticated",
            "iat": 1_800_000_000 - 10**8,
            "exp": 4_000_000_000,
        },
        supabase.keys.hs256_secret,
        algorithm="HS256",
    )
    for method, path, body in [
        ("GET", "/profile", None),
        ("PATCH", "/profile", {"niche": "x"}),
        ("POST", "/profile/refresh", None),
    ]:
        reply = api.request(method, path, token=token, json_body=body)
        assert_error(reply, 503, "unavailable")
        assert reply.header("retry-after") is not None


def test_an_unreachable_queue_after_the_commit_still_answers_200_and_keeps_the_change(
    make_api: Callable[..., ApiClient], token: str, user: str, db: Database, queues: LocalQueues
) -> None:
    # Given an API whose SQS endpoint is down
    api = make_api(AWS_ENDPOINT_URL_SQS="http://127.0.0.1:9")
    # When the user links a handle
    with captured_logs() as logs:
        reply = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    # Then the answer is 200 with the saved change, the row is queued for the reconciler,
    assert reply.status == 200
    assert reply.body["tiktok_handle"] == "jane.doe"
    assert reply.body["creator"]["scrape"]["status"] == "queued"
    rows = admin_rows(
        db.url, "select tiktok_handle, scrape_status from public.creator_profiles where user_id = %s", (user,)
    )
    assert rows == [{"tiktok_handle": "jane.doe", "scrape_status": "queued"}]
    # and a warning with the request's correlation id says the reconciler will deliver it
    warnings = [r for r in logs.records if r["level"] == "WARNING"]
    assert len(warnings) == 1
    assert "reconciler" in warnings[0]["message"]
    assert warnings[0]["correlation_id"] == reply.request_id
    assert queue_messages(queues) == []


def test_a_base64_encoded_json_body_is_accepted(api: ApiClient, token: str) -> None:
    import base64

    from devstack.api_gateway import http_event
    from devstack.lambda_context import new_context
    from devstack.template import function_spec

    event = http_event(
        "PATCH",
        "/profile",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        body='{"niche": "b64"}',
    )
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    result = api.handler(event, new_context(function_spec("ProfileApiFunction")))
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["niche"] == "b64"
