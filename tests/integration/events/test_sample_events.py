"""Every sample in events/ runs through its real handler, in the manifest's order, and gives the
outcome the manifest documents (the same files `python -m devstack invoke` and `sam local invoke`
take)."""

from __future__ import annotations

import json
from typing import Any

from devstack.database import Database, create_user
from devstack.events import EVENTS_DIR, load_event, manifest, placeholder_users
from tests.integration.conftest import MakeFunction
from tests.support.scrape import creator
from tests.support.stack import SupabaseStandIn

USER = "5d0c4a4e-6a3b-4c1e-9d61-0b7d3c2f9a10"


def test_the_manifest_covers_every_event_file() -> None:
    assert {e["file"] for e in manifest()} == {p.name for p in EVENTS_DIR.glob("*.json")} - {"manifest.json"}


def test_every_event_gives_its_documented_outcome(
    make_function: MakeFunction, db: Database, supabase: SupabaseStandIn
) -> None:
    handlers: dict[str, Any] = {}
    for entry in manifest():
        path = EVENTS_DIR / entry["file"]
        for user in placeholder_users(path):
            create_user(db.url, user)
        event = load_event(path, supabase.keys.user_token)
        function = entry["function"]
        if function not in handlers:
            handlers = {function: make_function(function)}  # one function's environment at a time
        result = handlers[function](event)
        if "status" in entry:
            assert result["statusCode"] == entry["status"], (entry["file"], result["body"])
            if result["statusCode"] >= 400:
                assert json.loads(result["body"])["request_id"] == event["requestContext"]["requestId"]
        if "failures" in entry:
            assert len(result["batchItemFailures"]) == entry["failures"], entry["file"]
        if "claimed" in entry:
            assert result["claimed"] == entry["claimed"]
    row = creator(db, USER)
    assert (row["tiktok_handle"], row["scrape_status"], row["display_name"]) == (
        "jane.doe",
        "succeeded",
        "Jane Doe",
    )
