"""The per-user limits as a client meets them (DESIGN §3): the database decides, the API answers
429 `rate_limited` with Retry-After or 403 `forbidden`, and a refused request queues nothing."""

from __future__ import annotations

from devstack.database import Database
from devstack.sqs import LocalQueues
from tests.support.api import ApiClient
from tests.support.postgres import admin_rows
from tests.support.stack import SupabaseStandIn, queue_messages


def test_the_sixth_handle_change_in_an_hour_is_429_with_retry_after(
    api: ApiClient, db: Database, queues: LocalQueues, token: str, user: str
) -> None:
    # Given five handle changes, each queued
    for i in range(5):
        assert (
            api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": f"name.{i}"}).status
            == 200
        )
    # When a sixth comes
    reply = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "name.5"})
    # Then it is refused with the wait, nothing is saved or sent
    assert reply.status == 429
    assert reply.body["error"]["code"] == "rate_limited"
    assert "at most 5 TikTok handle changes an hour" in reply.body["error"]["message"]
    assert 3590 <= int(reply.header("retry-after") or 0) <= 3600
    assert len(queue_messages(queues)) == 5
    assert admin_rows(db.url, "select tiktok_handle from public.creator_profiles") == [
        {"tiktok_handle": "name.4"}
    ]


def test_settings_only_patches_are_never_limited(api: ApiClient, token: str) -> None:
    for i in range(6):
        api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": f"name.{i}"})
    for goal in range(10):
        reply = api.request("PATCH", "/profile", token=token, json_body={"posting_goal_per_week": goal})
        assert reply.status == 200
    assert reply.body["posting_goal_per_week"] == 9


def test_an_anonymous_user_keeps_settings_but_may_not_link_or_refresh(
    api: ApiClient, supabase: SupabaseStandIn, queues: LocalQueues, user: str
) -> None:
    token = supabase.keys.user_token(user, is_anonymous=True)
    assert api.request("PATCH", "/profile", token=token, json_body={"niche": "food"}).status == 200
    link = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    refresh = api.request("POST", "/profile/refresh", token=token)
    assert (link.status, link.body["error"]["code"]) == (403, "forbidden")
    assert "anonymous" in link.body["error"]["message"]
    assert refresh.status == 409  # nothing linked: no scrape could start either way
    assert queue_messages(queues) == []
    assert api.request("GET", "/profile", token=token).body["niche"] == "food"


def test_an_anonymous_refresh_is_403(
    api: ApiClient, supabase: SupabaseStandIn, db: Database, queues: LocalQueues, user: str
) -> None:
    signed_up = supabase.keys.user_token(user)
    api.request("PATCH", "/profile", token=signed_up, json_body={"tiktok_handle": "jane.doe"})
    from tests.support.postgres import admin_execute

    admin_execute(db.url, "update creator_sync_private.service_config set refresh_cooldown_seconds = 0")
    reply = api.request("POST", "/profile/refresh", token=supabase.keys.user_token(user, is_anonymous=True))
    assert (reply.status, reply.body["error"]["code"]) == (403, "forbidden")
    assert len(queue_messages(queues)) == 1


def test_an_unknown_time_zone_is_a_422(api: ApiClient, token: str) -> None:
    reply = api.request("PATCH", "/profile", token=token, json_body={"timezone": "Mars/Olympus"})
    assert (reply.status, reply.body["error"]["code"]) == (422, "validation_error")
