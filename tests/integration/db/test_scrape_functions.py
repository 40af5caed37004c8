"""scrape_targets, record_scrape_results and claim_reconcile: the service-role RPC functions."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from devstack.database import Database, as_role
from tests.integration.db.conftest import UserClient
from tests.integration.db.test_profile_functions import SCRAPED, creator_row
from tests.support.postgres import RoleClient, admin_execute, new_user


def link(as_user: UserClient, user_id: str, handle: str) -> int:
    with as_user(user_id) as client:
        out = client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=handle)
    return int(out["scrape"]["generation"])


def result(user_id: str, generation: int, status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    profile = SCRAPED if status == "succeeded" else None
    return {"user_id": user_id, "generation": generation, "status": status, "profile": profile} | extra


def test_scrape_targets_returns_only_current_generations(
    as_user: UserClient, service: RoleClient, alice: str, bob: str
) -> None:
    # Given alice changed her handle (generation 1 is stale) and bob unlinked his
    link(as_user, alice, "old.name")
    link(as_user, alice, "new.name")
    link(as_user, bob, "bob.bakes")
    with as_user(bob) as client:
        client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=None)
    # When the worker asks which requests are still current
    targets = service.rpc(
        "scrape_targets",
        p_items=[
            {"user_id": alice, "generation": 1},
            {"user_id": alice, "generation": 2},
            {"user_id": alice, "generation": 2},
            {"user_id": bob, "generation": 1},
        ],
    )["targets"]
    # Then only alice's newest generation is returned, once
    assert targets == [{"user_id": alice, "generation": 2, "tiktok_handle": "new.name"}]


def test_scrape_targets_skips_rows_already_scraped(
    as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "jane.doe")
    service.rpc("record_scrape_results", p_results=[result(alice, generation)])
    out = service.rpc("scrape_targets", p_items=[{"user_id": alice, "generation": generation}])
    assert out["targets"] == []
    assert out["reused"] == []


def test_record_scrape_results_writes_every_mapped_field(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "jane.doe")
    applied = service.rpc("record_scrape_results", p_results=[result(alice, generation)])
    row = creator_row(db, alice)
    assert applied == [{"user_id": alice, "generation": generation, "applied": True}]
    assert {k: row[k] for k in SCRAPED} == SCRAPED
    assert row["scrape_status"] == "succeeded"
    assert row["scraped_at"] is not None
    assert row["scrape_attempts"] == 1


def test_record_scrape_results_ignores_a_superseded_generation(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    # Given a scrape for the old handle that finishes after the handle changed
    old = link(as_user, alice, "old.name")
    new = link(as_user, alice, "new.name")
    # When both results arrive, the stale one last
    out = service.rpc("record_scrape_results", p_results=[result(alice, new, "not_found", error="gone")])
    stale = service.rpc("record_scrape_results", p_results=[result(alice, old)])
    # Then only the current generation was applied
    assert out == [{"user_id": alice, "generation": new, "applied": True}]
    assert stale == [{"user_id": alice, "generation": old, "applied": False}]
    row = creator_row(db, alice)
    assert row["scrape_status"] == "not_found"
    assert row["followers"] is None
    assert row["scrape_error"] == "gone"


def test_a_late_failure_never_overwrites_a_success_of_the_same_generation(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "jane.doe")
    service.rpc("record_scrape_results", p_results=[result(alice, generation)])
    out = service.rpc(
        "record_scrape_results", p_results=[result(alice, generation, "failed", error="timeout")]
    )
    assert out == [{"user_id": alice, "generation": generation, "applied": False}]
    assert creator_row(db, alice)["scrape_status"] == "succeeded"


def test_private_is_recorded_with_the_private_flag(
    db: Database, as_user: UserClient, service: RoleClient, alice: str
) -> None:
    generation = link(as_user, alice, "private.user")
    service.rpc("record_scrape_results", p_results=[result(alice, generation, "private", error="private")])
    row = creator_row(db, alice)
    assert row["scrape_status"] == "private"
    assert row["private_account"] is True


def test_an_unknown_status_is_rejected_alone(
    db: Database, as_user: UserClient, service: RoleClient, alice: str, bob: str
) -> None:
    # Given two queued handles
    alice_generation = link(as_user, alice, "alice.cooks")
    bob_generation = link(as_user, bob, "bob.bakes")
    # When one result carries a status the function does not know
    out = service.rpc(
        "record_scrape_results",
        p_results=[result(alice, alice_generation, "idle"), result(bob, bob_generation)],
    )
    # Then that one is rejected with the reason and the other is applied
    assert out[0]["applied"] is False
    assert "status must be one of" in out[0]["rejected"]
    assert out[1] == {"user_id": bob, "generation": bob_generation, "applied": True}
    assert creator_row(db, alice)["scrape_status"] == "queued"
    assert creator_row(db, bob)["scrape_status"] == "succeeded"


def age(db: Database, user_id: str, column: str, seconds: int) -> None:
    admin_execute(
        db.url,
        f"update public.creator_profiles set {column} = now() - make_interval(secs => %s) where user_id = %s",
        (seconds, user_id),
    )


def test_claim_reconcile_takes_lost_and_stale_rows(
    db: Database, as_user: UserClient, service: RoleClient, alice: str, bob: str
) -> None:
    # Given alice's scrape was accepted long ago and never delivered, and bob's profile is old
    link(as_user, alice, "alice.cooks")
    age(db, alice, "scrape_requested_at", 301)
    bob_generation = link(as_user, bob, "bob.bakes")
    service.rpc("record_scrape_results", p_results=[result(bob, bob_generation)])
    age(db, bob, "next_refresh_at", 1)
    # and carol's scrape is young
    carol = new_user(db.url)
    link(as_user, carol, "carol.cooks")
    # When the reconciler claims
    claimed = service.rpc(
        "claim_reconcile", p_lost_after_seconds=300, p_refresh_after_seconds=86_400, p_limit=10
    )
    # Then alice is re-sent at her generation, bob gets a new one, carol is left alone
    by_user = {c["user_id"]: c for c in claimed}
    assert set(by_user) == {alice, bob}
    assert by_user[alice] == {
        "user_id": alice,
        "tiktok_handle": "alice.cooks",
        "generation": 1,
        "reason": "reconcile",
    }
    assert by_user[bob] == {
        "user_id": bob,
        "tiktok_handle": "bob.bakes",
        "generation": 2,
        "reason": "scheduled",
    }
    assert creator_row(db, bob)["scrape_status"] == "queued"
    # and a second claim straight after finds nothing: the claim moved scrape_requested_at
    assert (
        service.rpc("claim_reconcile", p_lost_after_seconds=300, p_refresh_after_seconds=86_400, p_limit=10)
        == []
    )


def test_claim_reconcile_respects_the_limit(db: Database, as_user: UserClient, service: RoleClient) -> None:
    users = [new_user(db.url) for _ in range(5)]
    for i, user in enumerate(users):
        link(as_user, user, f"user.{i}")
        age(db, user, "scrape_requested_at", 1000)
    claimed = service.rpc(
        "claim_reconcile", p_lost_after_seconds=300, p_refresh_after_seconds=86_400, p_limit=3
    )
    assert len(claimed) == 3


def test_two_concurrent_reconcilers_claim_disjoint_rows(db: Database, as_user: UserClient) -> None:
    # Given six lost scrapes
    users = [new_user(db.url) for _ in range(6)]
    for i, user in enumerate(users):
        link(as_user, user, f"user.{i}")
        age(db, user, "scrape_requested_at", 1000)
    claims = {"role": "service_role"}
    args = {"lost": 300, "refresh": 86_400, "limit": 4}
    sql = "select public.claim_reconcile(%(lost)s, %(refresh)s, %(limit)s) as r"
    with (  # noqa: SIM117 - the second claim must run inside the first's open transaction
        psycopg.connect(db.authenticator_url, row_factory=dict_row) as first,
        psycopg.connect(db.authenticator_url, row_factory=dict_row) as second,
    ):
        # When the first claims and has not committed yet while the second claims
        with as_role(first, "service_role", claims):
            row_a = first.execute(sql, args).fetchone()
            with as_role(second, "service_role", claims):
                row_b = second.execute(sql, args).fetchone()
    assert row_a is not None
    assert row_b is not None
    taken_a = {c["user_id"] for c in row_a["r"]}
    taken_b = {c["user_id"] for c in row_b["r"]}
    # Then they took disjoint rows that together cover every lost scrape
    assert len(taken_a) == 4
    assert taken_a.isdisjoint(taken_b)
    assert taken_a | taken_b == set(users)
