"""Logs carry the request's correlation id and never a token; metrics leave as EMF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import MakeApi
from tests.support.api import ApiClient
from tests.support.logs import captured_logs
from tests.support.stack import SupabaseStandIn


def emf_documents(output: str) -> list[dict[str, Any]]:
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def metric_total(documents: list[dict[str, Any]], name: str) -> float:
    total = 0.0
    for doc in documents:
        names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
        if name in names:
            value = doc[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def test_log_lines_carry_the_correlation_id_and_never_a_token(
    make_api: MakeApi, supabase: SupabaseStandIn, user: str, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given debug logging and a mix of good and failing requests, one of them with a bad token
    api = make_api(POWERTOOLS_LOG_LEVEL="DEBUG", AWS_ENDPOINT_URL_SQS="http://127.0.0.1:9")
    token = supabase.keys.user_token(user)
    with captured_logs() as logs:
        api.request("GET", "/profile", token=token)
        linked = api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
        api.request("PATCH", "/profile", token=token, json_body={"niche": 5})
        api.request("GET", "/profile", token=token + "tampered")
    printed = capfd.readouterr()
    everything = logs.text() + printed.out + printed.err
    # Then no token, key or Authorization header appears anywhere
    assert logs.records, "the requests logged nothing"
    for secret in (token, token.split(".")[2], supabase.anon_key, "Bearer ", "authorization"):
        assert secret not in everything
    # and every line logged while handling the PATCH carries its request id
    for record in logs.records:
        assert "correlation_id" in record
    assert linked.request_id in {r["correlation_id"] for r in logs.records}


def test_profile_updated_and_scrape_requested_are_emitted(
    api: ApiClient, token: str, capfd: pytest.CaptureFixture[str]
) -> None:
    api.request("PATCH", "/profile", token=token, json_body={"niche": "x"})
    api.request("PATCH", "/profile", token=token, json_body={"tiktok_handle": "jane.doe"})
    documents = emf_documents(capfd.readouterr().out)
    assert metric_total(documents, "ProfileUpdated") == 2
    assert metric_total(documents, "ScrapeRequested") == 1
    assert all(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CreatorSync" for doc in documents)
