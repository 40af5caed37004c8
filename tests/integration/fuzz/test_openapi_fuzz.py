"""Schemathesis against the generated OpenAPI document, over real HTTP through the local API
server in front of the real handler: no 5xx, and every answer matches the documented schema.

`positive_data_acceptance` is excluded: the schema cannot say everything the API checks (handle
forms, IANA zone names), so some schema-valid bodies are rightly answered 422.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from devstack.api_gateway import api_server
from devstack.http_server import LoopbackServer
from devstack.lambda_context import load_module, new_context
from devstack.template import function_spec
from tests.integration.conftest import MakeApi
from tests.support.stack import SupabaseStandIn

REQUESTS_SENT: list[int] = []
MIN_REQUESTS = 2000


@pytest.fixture
def fuzz_target(make_api: MakeApi, supabase: SupabaseStandIn, user: str) -> Iterator[dict[str, Any]]:
    api = make_api()

    def invoke(event: dict[str, Any]) -> Any:
        return api.handler(event, new_context(function_spec("ProfileApiFunction")))

    server: LoopbackServer = api_server(0, invoke, ["http://localhost:5173"]).start()
    try:
        yield {"url": server.url, "token": supabase.keys.user_token(user, expires_in=3600)}
    finally:
        server.stop()


# The document as the function generates it (the same one GET /openapi.json serves; a test in
# test_openapi_document checks that route).
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(load_module(function_spec("ProfileApiFunction")).openapi_json()))
)


@schema.parametrize()
@settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_the_api_fail_or_break_its_schema(case: Any, fuzz_target: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {fuzz_target['token']}"}
    case.call_and_validate(
        base_url=fuzz_target["url"], headers=headers, excluded_checks=[positive_data_acceptance]
    )
    REQUESTS_SENT.append(1)


def test_the_fuzzing_sent_enough_requests() -> None:
    """Runs after the fuzz test in this module; fails if fuzzing was cut short."""
    assert sum(REQUESTS_SENT) >= MIN_REQUESTS
