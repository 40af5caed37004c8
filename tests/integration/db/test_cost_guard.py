"""The database side of the cost guard [R9] [R10]: each scrape result applied on its own behind the
table's constraints, deferral with back-off, reuse of a fresh scrape across users, the run ledger
and the day's spend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.database import Database
from tests.integration.db.conftest import UserClient
from tests.integration.db.test_profile_functions import SCRAPED, creator_row
from tests.support.postgres import RoleClient, admin_execute, admin_rows, new_user


def link(as_user: UserClient, user_id: str, handle: str) -> int:
    with as_user(user_id) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=handle)
    return int(out["scrape"]["generation"])


def succeeded(user_id: str, generation: int, **profile: Any) -> dict[str, Any]:
    return {"user_id": user_id, "generation": generation, "status": "succeeded", "profile": SCRAPED | profile}


@pytest.mark.parametrize(
    ("poison", "reason"),
    [
        ({"followers": 10**20}, "out of range for type bigint"),
        ({"followers": 10**16}, "creator_profiles_counts_bounded"),
        ({"hearts": -1}, "creator_profiles_counts_bounded"),
        ({"bio": "a\u0000b"}, "a text value holds a NUL character"),
        ({"display_name": "x" * 257}, "creator_profiles_texts_bounded"),
        ({"display_name": "bell\u0007"}, "creator_profiles_texts_bounded"),
        ({"avatar_url": "http://insecure.test/a.jpg"}, "creator_profiles_avatar_https"),
        ({"avatar_url": "javascript:alert(1)"}, "creator_profiles_avatar_https"),
        ({"followers": "12K"}, "invalid input syntax for type bigint"),
        ({"verified": "maybe"}, "invalid input syntax for type boolean"),
    ],
)
def test_a_poisoned_result_fails_its_handle_and_never_its_batch_mates(
    db: Database,
    as_user: UserClient,
    service: RoleClient,
    alice: str,
    bob: str,
    poison: dict[str, Any],
    reason: str,
) -> None:
    # Given two queued handles and a batch whose first result the table refuses
    alice_generation = link(as_user, alice, "alice.cooks")
    bob_generation = link(as_user, bob, "bob.bakes")
    out = service.rpc(
        "record_scrape_results",
        p_results=[succeeded(alice, alice_generation, **poison), succeeded(bob, bob_generation)],
    )
    # Then alice is failed for this generation with a readable reason (no retry, no new run)
    assert out[0]["applied"] is True
    assert reason in out[0]["rejected"]
    alice_row = creator_row(db, alice)
    assert alice_row["scrape_status"] == "failed"
    assert alice_row["scrape_error"].startswith("the scraped profile was unusable: ")
    assert alice_row["followers"] is None
    # and bob's result was applied in full
    assert out[1] == {"user_id": bob, "generation": bob_generation, "applied": True}
    assert creator_row(db, bob)["followers"] == SCRAPED["followers"]


def test_a_result_that_is_not_even_an_object_is_rejected_alone(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "alice.cooks")
    out = service.rpc(
        "record_scrape_results", p_results=["junk", {"user_id": "nope"}, succeeded(alice, generation)]
    )
    assert [o["applied"] for o in out] == [False, False, True]
    assert creator_row(db, alice)["scrape_status"] == "succeeded"


def test_deferral_keeps_the_row_queued_and_doubles_the_wait(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "alice.cooks")
    deferred = {
        "user_id": alice,
        "generation": generation,
        "status": "deferred",
        "error": "deferred: Apify API error: 503",
        "retry_after_seconds": 60,
        "retry_max_seconds": 900,
    }
    waits = []
    for _ in range(6):
        assert service.rpc("record_scrape_results", p_results=[deferred])[0]["applied"] is True
        row = admin_rows(
            db.url,
            "select extract(epoch from retry_at - updated_at)::int as wait, scrape_status, scrape_error,"
            " scrape_attempts from public.creator_profiles where user_id = %s",
            (alice,),
        )[0]
        waits.append(row["wait"])
    assert waits == [60, 120, 240, 480, 900, 900]
    # deferral is not an attempt: it burns nothing toward `failed`
    assert (row["scrape_status"], row["scrape_error"], row["scrape_attempts"]) == (
        "queued",
        "deferred: Apify API error: 503",
        0,
    )


def test_a_fresh_scrape_is_reused_for_another_user_without_a_run(
    db: Database, as_user: UserClient, service: RoleClient, alice: str, bob: str
) -> None:
    # Given alice's handle was scraped successfully a moment ago
    alice_generation = link(as_user, alice, "popular.one")
    service.rpc("record_scrape_results", p_results=[succeeded(alice, alice_generation)])
    # When bob links the same handle and the worker asks what to scrape
    bob_generation = link(as_user, bob, "popular.one")
    out = service.rpc("scrape_targets", p_items=[{"user_id": bob, "generation": bob_generation}])
    # Then nothing needs a run: bob is served from alice's result
    assert out["targets"] == []
    assert out["reused"] == [{"user_id": bob, "generation": bob_generation, "tiktok_handle": "popular.one"}]
    bob_row, alice_row = creator_row(db, bob), creator_row(db, alice)
    assert bob_row["scrape_status"] == "succeeded"
    assert {k: bob_row[k] for k in SCRAPED} == SCRAPED
    assert bob_row["scraped_at"] == alice_row["scraped_at"]  # the data's true age


def test_an_old_scrape_is_not_reused(
    db: Database, as_user: UserClient, service: RoleClient, alice: str, bob: str
) -> None:
    alice_generation = link(as_user, alice, "popular.one")
    service.rpc("record_scrape_results", p_results=[succeeded(alice, alice_generation)])
    admin_execute(db.url, "update public.creator_profiles set scraped_at = now() - interval '601 seconds'")
    bob_generation = link(as_user, bob, "popular.one")
    out = service.rpc(
        "scrape_targets", p_items=[{"user_id": bob, "generation": bob_generation}], p_reuse_seconds=600
    )
    assert [t["user_id"] for t in out["targets"]] == [bob]
    assert out["reused"] == []


def test_the_ledger_records_each_run_and_sums_the_utc_day(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "alice.cooks")
    run = {
        "run_id": "RUN1",
        "actor_id": "clockworks/tiktok-profile-scraper",
        "handles": ["alice.cooks"],
        "reason": "requested",
        "started_at": datetime.now(UTC).isoformat(),
        "finished_at": None,
        "status": "RUNNING",
        "usage_usd": 0.01,
    }
    service.rpc("record_scrape_results", p_results=[], p_run=run)
    # a second report of the same run updates it
    service.rpc(
        "record_scrape_results",
        p_results=[succeeded(alice, generation)],
        p_run=run | {"status": "SUCCEEDED", "finished_at": datetime.now(UTC).isoformat(), "usage_usd": 0.25},
    )
    rows = admin_rows(db.url, "select run_id, handles, status, usage_usd from public.apify_runs")
    assert [(r["run_id"], r["handles"], r["status"], float(r["usage_usd"])) for r in rows] == [
        ("RUN1", ["alice.cooks"], "SUCCEEDED", 0.25)
    ]
    # today's spend counts runs started since midnight UTC only
    admin_execute(
        db.url,
        "insert into public.apify_runs"
        " (run_id, actor_id, handles, reason, started_at, status, usage_usd) values"
        " ('TODAY', 'a', '{}', 'requested', now(), 'SUCCEEDED', 1.5),"
        " ('YESTERDAY', 'a', '{}', 'requested', date_trunc('day', now() at time zone 'UTC')"
        "   at time zone 'UTC' - interval '1 second', 'SUCCEEDED', 7)",
    )
    spent = service.rpc("scrape_targets", p_items=[])["spent_today_usd"]
    assert float(spent) == pytest.approx(0.25 + 1.5)


def test_users_cannot_read_or_write_the_ledger(as_user: UserClient, alice: str) -> None:
    import psycopg

    with as_user(alice) as client, pytest.raises(psycopg.errors.InsufficientPrivilege):
        client.query("select * from public.apify_runs")


def test_next_refresh_follows_the_users_activity(
    db: Database, as_user: UserClient, service: RoleClient, alice: str, bob: str
) -> None:
    # Given alice looked recently and bob has not been seen for 20 days
    alice_generation = link(as_user, alice, "alice.cooks")
    bob_generation = link(as_user, bob, "bob.bakes")
    admin_execute(
        db.url,
        "update public.creator_profiles set last_seen_at = now() - interval '20 days' where user_id = %s",
        (bob,),
    )
    # When both are scraped
    service.rpc(
        "record_scrape_results",
        p_results=[succeeded(alice, alice_generation), succeeded(bob, bob_generation)],
    )
    rows = {
        str(r["user_id"]): r["due"]
        for r in admin_rows(
            db.url,
            "select user_id, extract(epoch from next_refresh_at - scraped_at)::int as due"
            " from public.creator_profiles",
        )
    }
    # Then alice is due again in a day and bob in a week
    assert rows == {alice: 86_400, bob: 604_800}


def test_get_profile_records_the_visit_at_most_once_a_day(
    db: Database, as_user: UserClient, alice: str
) -> None:
    link(as_user, alice, "alice.cooks")
    admin_execute(db.url, "update public.creator_profiles set last_seen_at = now() - interval '2 days'")
    with as_user(alice) as client:
        client.rpc("get_profile")
    first = creator_row(db, alice)["last_seen_at"]
    with as_user(alice) as client:
        client.rpc("get_profile")
    assert creator_row(db, alice)["last_seen_at"] == first
    assert first > creator_row(db, alice)["created_at"]


def test_a_returning_user_with_old_data_gets_a_refresh_on_their_next_get(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    # Given alice was away for 30 days and her data is 3 days old (due weekly while inactive)
    generation = link(as_user, alice, "alice.cooks")
    service.rpc("record_scrape_results", p_results=[succeeded(alice, generation)])
    admin_execute(
        db.url,
        "update public.creator_profiles set last_seen_at = now() - interval '30 days',"
        " scraped_at = now() - interval '3 days', next_refresh_at = now() + interval '4 days'",
    )
    # When she opens her profile
    with as_user(alice) as client:
        profile = client.rpc("get_profile")
    # Then a refresh is queued at a new generation (her old data stays visible meanwhile)
    assert profile["creator"]["scrape"]["status"] == "queued"
    assert profile["creator"]["followers"] == SCRAPED["followers"]
    # and the reconciler's next run sends it
    claims = service.rpc(
        "claim_reconcile", p_lost_after_seconds=3600, p_refresh_after_seconds=86400, p_limit=10
    )
    assert claims == [
        {
            "user_id": alice,
            "tiktok_handle": "alice.cooks",
            "generation": generation + 1,
            "reason": "reconcile",
        }
    ]


def test_a_returning_user_with_fresh_data_is_just_moved_to_the_daily_interval(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "alice.cooks")
    service.rpc("record_scrape_results", p_results=[succeeded(alice, generation)])
    admin_execute(
        db.url,
        "update public.creator_profiles set last_seen_at = now() - interval '30 days',"
        " scraped_at = now() - interval '2 hours', next_refresh_at = now() + interval '6 days'",
    )
    with as_user(alice) as client:
        assert client.rpc("get_profile")["creator"]["scrape"]["status"] == "succeeded"
    due = admin_rows(
        db.url,
        "select extract(epoch from next_refresh_at - scraped_at)::int as d from public.creator_profiles",
    )
    assert due == [{"d": 86_400}]


def test_a_batch_of_many_users_is_applied_one_by_one(
    db: Database, as_user: UserClient, service: RoleClient
) -> None:
    users = [new_user(db.url) for _ in range(6)]
    generations = [link(as_user, u, f"user.{i}") for i, u in enumerate(users)]
    results = [
        succeeded(u, g, followers=i if i % 2 else -i - 1)
        for i, (u, g) in enumerate(zip(users, generations, strict=True))
    ]
    service.rpc("record_scrape_results", p_results=results)
    statuses = [creator_row(db, u)["scrape_status"] for u in users]
    assert statuses == ["failed", "succeeded", "failed", "succeeded", "failed", "succeeded"]
