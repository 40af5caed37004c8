"""update_profile, get_profile and request_refresh: the user-facing RPC functions."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from devstack.database import Database
from tests.integration.db.conftest import UserClient
from tests.support.postgres import RoleClient, admin_execute, admin_rows

SCRAPED = {
    "tiktok_user_id": "6812",
    "display_name": "Jane",
    "avatar_url": "https://example.test/a.jpg",
    "bio": "hi",
    "followers": 10,
    "following": 2,
    "hearts": 300,
    "videos": 4,
    "verified": False,
    "private_account": False,
}


def creator_row(db: Database, user_id: str) -> dict[str, Any]:
    rows = admin_rows(db.url, "select * from public.creator_profiles where user_id = %s", (user_id,))
    assert len(rows) == 1
    return rows[0]


def settle(service: RoleClient, user_id: str, generation: int) -> None:
    result = service.rpc(
        "record_scrape_results",
        p_results=[{"user_id": user_id, "generation": generation, "status": "succeeded", "profile": SCRAPED}],
    )
    assert result == [{"user_id": user_id, "generation": generation, "applied": True}]


def test_settings_are_written_and_returned(as_user: UserClient, alice: str) -> None:
    with as_user(alice) as client:
        out = client.rpc(
            "update_profile",
            p_settings={"niche": "food", "timezone": "Europe/Paris", "posting_goal_per_week": 3},
            p_set_handle=False,
            p_handle=None,
        )
        again = client.rpc("get_profile")
    assert out["scrape"] is None
    assert out["profile"] == again
    assert again["niche"] == "food"
    assert again["timezone"] == "Europe/Paris"
    assert again["posting_goal_per_week"] == 3
    assert again["email_notifications"] is True


def test_partial_settings_leave_other_settings_alone(as_user: UserClient, alice: str) -> None:
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={"niche": "food"}, p_set_handle=False, p_handle=None)
        out = client.rpc(
            "update_profile", p_settings={"email_notifications": False}, p_set_handle=False, p_handle=None
        )
    assert out["profile"]["niche"] == "food"
    assert out["profile"]["email_notifications"] is False


@pytest.mark.parametrize(
    "settings",
    [
        {"user_id": "00000000-0000-0000-0000-000000000000"},
        {"niche": "ok", "created_at": "2020-01-01"},
        {"scrape_status": "succeeded"},
        {"email_notifications": "true"},
        {"posting_goal_per_week": 51},
        {"posting_goal_per_week": 2.5},
        {"niche": ""},
    ],
)
def test_update_profile_rejects_keys_and_values_outside_the_whitelist(
    db: Database, as_user: UserClient, alice: str, settings: dict[str, Any]
) -> None:
    with as_user(alice) as client, pytest.raises(psycopg.errors.InvalidParameterValue):
        client.rpc("update_profile", p_settings=settings, p_set_handle=False, p_handle=None)
    assert admin_rows(db.url, "select * from public.user_settings") == []


def test_a_new_handle_bumps_the_generation_and_queues_a_scrape(
    db: Database, as_user: UserClient, alice: str
) -> None:
    with as_user(alice) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
    row = creator_row(db, alice)
    assert out["scrape"] == {"user_id": alice, "tiktok_handle": "jane.doe", "generation": 1}
    assert row["scrape_status"] == "queued"
    assert row["scrape_generation"] == 1
    assert row["scrape_requested_at"] is not None
    assert out["profile"]["creator"]["scrape"]["status"] == "queued"


def test_changing_the_handle_clears_the_old_creator_data(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    # Given a linked handle whose scrape succeeded
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
    settle(service, alice, 1)
    # When the handle changes
    with as_user(alice) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="john.doe")
    # Then the old creator data is gone and a new generation is queued
    row = creator_row(db, alice)
    assert out["scrape"] == {"user_id": alice, "tiktok_handle": "john.doe", "generation": 2}
    assert row["followers"] is None
    assert row["display_name"] is None
    assert row["tiktok_user_id"] is None
    assert row["scraped_at"] is None
    assert row["scrape_status"] == "queued"


def test_the_same_handle_leaves_the_scrape_state_alone(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
    settle(service, alice, 1)
    before = creator_row(db, alice)
    with as_user(alice) as client:
        out = client.rpc("update_profile", p_settings={"niche": "x"}, p_set_handle=True, p_handle="jane.doe")
    after = creator_row(db, alice)
    assert out["scrape"] is None
    assert after == before


def test_a_null_handle_unlinks(db: Database, as_user: UserClient, service: RoleClient, alice: str) -> None:
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
    settle(service, alice, 1)
    with as_user(alice) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=None)
    row = creator_row(db, alice)
    assert out["scrape"] is None
    assert out["profile"]["tiktok_handle"] is None
    assert out["profile"]["creator"] is None
    assert row["scrape_status"] == "idle"
    assert row["followers"] is None
    assert row["scrape_generation"] == 2


def test_an_invalid_handle_writes_neither_settings_nor_handle(
    db: Database, as_user: UserClient, alice: str
) -> None:
    with as_user(alice) as client, pytest.raises(psycopg.errors.InvalidParameterValue):
        client.rpc("update_profile", p_settings={"niche": "food"}, p_set_handle=True, p_handle="Bad Handle")
    assert admin_rows(db.url, "select * from public.user_settings") == []
    assert admin_rows(db.url, "select * from public.creator_profiles") == []


def test_settings_roll_back_when_the_creator_write_fails(
    db: Database, as_user: UserClient, alice: str
) -> None:
    # Given a creator row that the database will refuse to update (a check that only the
    # creator write can trip, installed for this test alone)
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={"niche": "before"}, p_set_handle=True, p_handle="jane.doe")
    admin_execute(
        db.url,
        "alter table public.creator_profiles add constraint test_no_john check (tiktok_handle <> 'john.doe')",
    )
    try:
        # When one call changes settings and sets the refused handle
        with as_user(alice) as client, pytest.raises(psycopg.errors.CheckViolation):
            client.rpc(
                "update_profile", p_settings={"niche": "after"}, p_set_handle=True, p_handle="john.doe"
            )
    finally:
        admin_execute(db.url, "alter table public.creator_profiles drop constraint test_no_john")
    # Then the settings write rolled back with it
    rows = admin_rows(db.url, "select niche from public.user_settings")
    assert rows == [{"niche": "before"}]
    assert creator_row(db, alice)["tiktok_handle"] == "jane.doe"


def test_refresh_without_a_handle_says_so(as_user: UserClient, alice: str) -> None:
    with as_user(alice) as client:
        assert client.rpc("request_refresh") == {"no_handle": True}


def test_refresh_inside_the_cooldown_returns_retry_after(
    db: Database, as_user: UserClient, alice: str
) -> None:
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
        out = client.rpc("request_refresh")
    assert set(out) == {"retry_after"}
    assert 895 <= out["retry_after"] <= 900
    assert creator_row(db, alice)["scrape_generation"] == 1


def test_refresh_after_the_cooldown_queues_a_new_generation(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    with as_user(alice) as client:
        client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle="jane.doe")
    settle(service, alice, 1)
    admin_execute(
        db.url,
        "update public.creator_profiles set scrape_requested_at = now() - interval '901 seconds'"
        " where user_id = %s",
        (alice,),
    )
    with as_user(alice) as client:
        out = client.rpc("request_refresh")
    row = creator_row(db, alice)
    assert out["scrape"] == {"user_id": alice, "tiktok_handle": "jane.doe", "generation": 2}
    assert out["profile"]["creator"]["scrape"]["status"] == "queued"
    # the previous data stays visible while the refresh runs
    assert row["followers"] == SCRAPED["followers"]
    assert row["scrape_status"] == "queued"
