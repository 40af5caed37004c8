"""Every API sample in events/ runs through the real handler and answers the status the manifest
documents (the same files `python -m devstack invoke` and `sam local invoke` take)."""

from __future__ import annotations

import json

from devstack.database import Database, create_user
from devstack.events import EVENTS_DIR, load_event, manifest, placeholder_users
from devstack.lambda_context import new_context
from devstack.template import function_spec
from tests.integration.conftest import MakeApi
from tests.support.stack import SupabaseStandIn


def test_every_api_event_answers_its_documented_status(
    make_api: MakeApi, db: Database, supabase: SupabaseStandIn
) -> None:
    api = make_api()
    entries = [e for e in manifest() if e["function"] == "ProfileApiFunction"]
    assert {e["file"] for e in entries} == {p.name for p in EVENTS_DIR.glob("api-*.json")}
    for entry in entries:
        path = EVENTS_DIR / entry["file"]
        for user in placeholder_users(path):
            create_user(db.url, user)
        event = load_event(path, supabase.keys.user_token)
        result = api.handler(event, new_context(function_spec("ProfileApiFunction")))
        assert result["statusCode"] == entry["status"], (entry["file"], result["body"])
        body = json.loads(result["body"])
        if result["statusCode"] >= 400:
            assert body["request_id"] == event["requestContext"]["requestId"]
