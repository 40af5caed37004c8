"""claim_reconcile at scale (DESIGN §7, §12): lost scrapes before deferred ones before scheduled
refreshes, whatever the backlog, each range read through its index in claim order (no sequential
scan of creator_profiles, no sort)."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest

from devstack.database import Database
from tests.integration.db.conftest import UserClient
from tests.support.postgres import RoleClient, admin_execute, admin_rows, new_user

BACKLOG = 20_000


def load_backlog(db: Database, rows: int, *, queued_share: float = 0.05) -> None:
    """`rows` linked creators: most succeeded and many due for a refresh, a share of them queued
    three days ago (lost), the rest failed."""
    admin_execute(
        db.url,
        """
        with u as (
          insert into auth.users (id, email)
          select gen_random_uuid(), 'bulk' || i || '@example.test' from generate_series(1, %(n)s) as i
          returning id
        )
        insert into public.creator_profiles
          (user_id, tiktok_handle, scrape_status, scrape_generation, scrape_requested_at, scraped_at,
           next_refresh_at, followers)
        select id, 'bulk.' || row_number() over (),
               case when random() < 0.9 then 'succeeded' when random() < %(queued)s * 10 then 'queued'
                    else 'failed' end,
               1, now() - interval '3 days', now() - interval '2 days' * random(),
               now() - interval '1 day' * random(), 100
        from u
        """,
        {"n": rows, "queued": queued_share},
    )
    admin_execute(db.url, "analyze public.creator_profiles")


def test_a_lost_change_is_claimed_before_the_whole_refresh_backlog(
    db: Database, as_user: UserClient, service: RoleClient
) -> None:
    # Given a refresh backlog far larger than one run's limit
    load_backlog(db, 2_000, queued_share=0)
    # and one handle change whose SQS send was lost 20 minutes ago, and one deferred scrape now due
    lost, deferred = new_user(db.url), new_user(db.url)
    for user, handle in ((lost, "lost.change"), (deferred, "deferred.one")):
        with as_user(user) as client:
            client.rpc("update_profile", p_settings={}, p_set_handle=True, p_handle=handle)
    admin_execute(
        db.url,
        "update public.creator_profiles set scrape_requested_at = now() - interval '20 minutes'"
        " where user_id = %s",
        (lost,),
    )
    admin_execute(
        db.url,
        "update public.creator_profiles set retry_at = now() - interval '1 second' where user_id = %s",
        (deferred,),
    )
    # When the reconciler claims 10 rows
    claims = service.rpc(
        "claim_reconcile", p_lost_after_seconds=600, p_refresh_after_seconds=86_400, p_limit=10
    )
    # Then the lost change comes first, the deferred one second, then the most overdue refreshes
    assert [c["user_id"] for c in claims[:2]] == [lost, deferred]
    assert [c["reason"] for c in claims] == ["reconcile", "reconcile"] + ["scheduled"] * 8
    overdue = admin_rows(
        db.url,
        "select count(*) as n from public.creator_profiles"
        " where scrape_status = 'succeeded' and next_refresh_at <= now()",
    )[0]["n"]
    assert overdue > 8  # the backlog is still there; the lost change did not wait behind it


def claim_statements(db: Database) -> list[str]:
    """The three claim statements as claim_reconcile runs them (read from the function itself, so
    the test follows the migration), with its variables as literals."""
    source = admin_rows(
        db.url,
        "select prosrc from pg_proc"
        " where proname = 'claim_reconcile' and pronamespace = 'public'::regnamespace",
    )[0]["prosrc"]
    statements = re.findall(
        r"(with picked as \(.*?\)\s+select .*?)\s+into v_part from claimed;", source, re.S
    )
    assert len(statements) == 3
    return [
        s.replace("v_limit", "500").replace("v_lost_before", "(now() - interval '1 hour')") + " from claimed"
        for s in statements
    ]


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(plan_nodes(child))
    return nodes


@pytest.mark.parametrize("which", [0, 1, 2], ids=["lost", "deferred", "scheduled"])
def test_each_claim_reads_its_index_in_order_without_a_scan_or_sort(db: Database, which: int) -> None:
    # Given a table large enough for the planner to choose as it would in production
    load_backlog(db, BACKLOG)
    statement = claim_statements(db)[which]
    # When the claim's statement is planned
    with psycopg.connect(db.url) as conn:
        conn.execute("set role service_role")
        plan = conn.execute("explain (format json) " + statement).fetchone()[0][0]["Plan"]  # type: ignore[index]
        conn.rollback()
    nodes = plan_nodes(plan)
    on_table = [n for n in nodes if n.get("Relation Name") == "creator_profiles"]
    # Then creator_profiles is only ever reached through an index, and nothing is sorted
    assert on_table, json.dumps(plan)
    assert all(
        n["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan", "ModifyTable"}
        for n in on_table
    ), json.dumps(plan)
    assert not [n for n in nodes if n["Node Type"] in {"Sort", "Incremental Sort", "Seq Scan"}], json.dumps(
        plan
    )
    index = {
        "0": "creator_profiles_lost_idx",
        "1": "creator_profiles_deferred_idx",
        "2": "creator_profiles_refresh_due_idx",
    }
    assert index[str(which)] in json.dumps(plan)


def test_the_old_reconcile_index_is_gone(db: Database) -> None:
    indexes = {
        r["indexname"]
        for r in admin_rows(db.url, "select indexname from pg_indexes where tablename = 'creator_profiles'")
    }
    assert "creator_profiles_reconcile_idx" not in indexes
    assert {
        "creator_profiles_lost_idx",
        "creator_profiles_deferred_idx",
        "creator_profiles_refresh_due_idx",
    } <= indexes
