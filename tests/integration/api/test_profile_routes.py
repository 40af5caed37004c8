"""The profile routes end to end through the real handler, the PostgREST stand-in, a real
PostgreSQL and moto's SQS server."""

from __future__ import annotations

import uuid

from devstack.database import Database
from devstack.sqs import LocalQueues
from tests.support.api import ApiClient
from tests.support.postgres import admin_execute, new_user
from tests.support.stack import SupabaseStandIn, drain, message_bodies, queue_messages


def test_a_new_user_gets_default_settings_and_no_creator(api: ApiClient, token: str, user: str) -> None:
    reply = api.request("GET", "/profile", token=token)
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.body == {
        "user_id": user,
        "niche": None,
        "timezone": None,
        "email_notifications": True,
        "posting_goal_per_week": None,
        "tiktok_handle": None,
        "creator": None,
    }


def test_patch_settings_returns_the_state_after_the_write(
    api: ApiClient, token: str, queues: LocalQueues
) -> None:
    reply = api.request(
        "PATCH",
        "/profile",
        token=token,
        json_body={
            "niche": "cooking",
            "timezone": "Europe/Paris",
            "email_notifications": False,
            "posting_goal_per_week": 4,
        },
    )
    assert reply.status == 200
    assert reply.body["niche"] == "cooking"
    assert reply.body["timezone"] == "Europe/Paris"
    assert reply.body["email_notifications"] is False
    assert reply.body["posting_goal_per_week"] == 4
    assert api.request("GET", "/profile", token=token).body == reply.body
    assert queue_messages(queues) == []


def test_an_empty_patch_changes_nothing(api: ApiClient, token: str) -> None:
    before = api.request("PATCH", "/profile", token=token, json_body={"niche": "food"}).body
    reply = api.request("PATCH", "/profile", token=token, json_body={})
    assert reply.status == 200
    assert reply.body == before


def test_linking_a_handle_queues_one_scrape_message(
    api: ApiClient, token: str, user: str, queues: LocalQueues
) -> None:
    # When the user links a handle given as a profile URL
    reply = api.request(
        "PATCH",
        "/profile",
        token=token,
        json_body={"tiktok_handle": "https://www.tiktok.com/@Jane.Doe?lang=en"},
    )
    # Then the bare handle is stored, the scrape is queued, and exactly one message describes it
    assert reply.status == 200
    assert reply.body["tiktok_handle"] == "jane.doe"
    assert reply.body["creator"]["scrape"]["status"] == "queued"
    messages = queue_messages(queues)
    assert len(messages) == 1
    body = message_bodies(queues)[0]
    assert body == {
        "type": "scrape_requested",
        "version": 1,
        "user_id": user,
        "tiktok_handle": "jane.doe",
        "generation": 1,
        "reason": "handle_linked",
        "requested_at": body["requested_at"],
        "correlation_id": reply.request_id,
    }
    assert messages[0]["MessageAttributes"]["correlation_id"]["StringValue"] == reply.request_id


def test_the_same_handle_again_queues_nothing(api: ApiClient, token: str, queues: LocalQueues) -> None:
    api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    assert drain(queues) == 1
    reply = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "@Jane.Doe"})
    assert reply.status == 200
    assert queue_messages(queues) == []


def test_a_null_handle_unlinks(api: ApiClient, token: str, queues: LocalQueues) -> None:
    api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    assert drain(queues) == 1
    reply = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": None})
    assert reply.status == 200
    assert reply.body["tiktok_handle"] is None
    assert reply.body["creator"] is None
    assert queue_messages(queues) == []


def test_refresh_without_a_handle_is_a_conflict(api: ApiClient, token: str) -> None:
    reply = api.request("POST", "/profile/refresh", token=token)
    assert reply.status == 409
    assert reply.body["error"]["code"] == "conflict"


def test_refresh_inside_the_cooldown_is_rate_limited(api: ApiClient, token: str, queues: LocalQueues) -> None:
    api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    reply = api.request("POST", "/profile/refresh", token=token)
    assert reply.status == 429
    assert reply.body["error"]["code"] == "rate_limited"
    assert 1 <= int(reply.header("retry-after") or 0) <= 900
    assert len(queue_messages(queues)) == 1  # only the PATCH's message


def test_refresh_after_the_cooldown_queues_a_scrape(
    make_api: object, db: Database, supabase: SupabaseStandIn, queues: LocalQueues
) -> None:
    api = make_api()  # type: ignore[operator]
    admin_execute(db.url, "update creator_sync_private.service_config set refresh_cooldown_seconds = 0")
    user = new_user(db.url)
    token = supabase.keys.user_token(user)
    api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    reply = api.request("POST", "/profile/refresh", token=token)
    assert reply.status == 202
    assert reply.body["creator"]["scrape"]["status"] == "queued"
    bodies = sorted(message_bodies(queues), key=lambda b: b["generation"])
    assert [(b["reason"], b["generation"]) for b in bodies] == [("handle_linked", 1), ("refresh", 2)]


def test_two_users_never_see_each_others_data(
    api: ApiClient, db: Database, supabase: SupabaseStandIn
) -> None:
    alice, bob = new_user(db.url), new_user(db.url)
    alice_token, bob_token = supabase.keys.user_token(alice), supabase.keys.user_token(bob)
    api.request(
        "PATCH", "/profile", token=alice_token, json_body={"niche": "alice", "tiktok_handle": "alice.a"}
    )
    api.request("PATCH", "/profile", token=bob_token, json_body={"niche": "bob"})
    alice_view = api.request("GET", "/profile", token=alice_token).body
    bob_view = api.request("GET", "/profile", token=bob_token).body
    assert (alice_view["user_id"], alice_view["niche"], alice_view["tiktok_handle"]) == (
        alice,
        "alice",
        "alice.a",
    )
    assert (bob_view["user_id"], bob_view["niche"], bob_view["tiktok_handle"]) == (bob, "bob", None)


def test_each_route_makes_exactly_one_database_call(
    api: ApiClient, token: str, supabase: SupabaseStandIn
) -> None:
    calls = supabase.postgrest.calls
    before = sum(calls.values())
    api.request("GET", "/profile", token=token)
    api.request("PATCH", "/profile", token=token, json_body={"niche": "x", "tiktok_handle": "jane.doe"})
    api.request("POST", "/profile/refresh", token=token)
    assert sum(calls.values()) - before == 3


def test_a_token_for_a_deleted_user_is_unauthorized(api: ApiClient, supabase: SupabaseStandIn) -> None:
    token = supabase.keys.user_token(str(uuid.uuid4()))  # never created in auth.users
    reply = api.request("PATCH", "/profile", token=token, json_body={"niche": "x"})
    assert reply.status == 401
    assert reply.body["error"]["code"] == "unauthorized"
