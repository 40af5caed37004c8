"""The Apify stand-in speaks the documented v2 routes to the real apify-client and says clearly what
it does not cover."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from apify_client import ApifyClient
from apify_client.errors import ApifyApiError

from devstack.apify import ApifyStandIn
from tests.integration.conftest import APIFY_TEST_TOKEN


def client(apify: ApifyStandIn, token: str = APIFY_TEST_TOKEN) -> ApifyClient:
    return ApifyClient(
        token, api_url=apify.url, max_retries=0, min_delay_between_retries=timedelta(milliseconds=10)
    )


def raw(
    apify: ApifyStandIn,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], object]:
    request = urllib.request.Request(
        f"{apify.url}{path}",
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {APIFY_TEST_TOKEN}"} | (headers or {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_a_run_through_the_real_client_yields_the_fixture_items(apify: ApifyStandIn) -> None:
    api = client(apify)
    run = api.actor("clockworks/tiktok-profile-scraper").call(
        run_input={"profiles": ["jane.doe", "ghost.user"], "resultsPerPage": 1},
        logger=None,
        wait_duration=timedelta(seconds=5),
    )
    assert run is not None
    assert run.status == "SUCCEEDED"
    assert run.usage_total_usd is not None
    items = api.dataset(run.default_dataset_id).list_items(fields=["input", "errorCode"]).items
    assert items == [{"input": "jane.doe"}, {"input": "ghost.user", "errorCode": "NOT_FOUND"}]


def test_the_older_acts_path_and_gzip_bodies_are_accepted(apify: ApifyStandIn) -> None:
    body = gzip.compress(json.dumps({"profiles": ["someone.new"]}).encode())
    status, _, reply = raw(
        apify,
        "POST",
        "/v2/acts/clockworks~tiktok-profile-scraper/runs?maxItems=5",
        body,
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert status == 201
    assert reply["data"]["status"] == "RUNNING"  # type: ignore[index]
    assert apify.runs[reply["data"]["id"]].profiles == ["someone.new"]  # type: ignore[index]


def test_dataset_pages_carry_the_five_pagination_headers(apify: ApifyStandIn) -> None:
    api = client(apify)
    run = api.actor("a~b").call(
        run_input={"profiles": ["a.one", "a.two", "a.three"]}, logger=None, wait_duration=timedelta(seconds=5)
    )
    assert run is not None
    status, headers, page = raw(apify, "GET", f"/v2/datasets/{run.default_dataset_id}/items?offset=1&limit=1")
    assert status == 200
    assert {k: headers[k] for k in headers if k.startswith("X-Apify-Pagination")} == {
        "X-Apify-Pagination-Offset": "1",
        "X-Apify-Pagination-Limit": "1",
        "X-Apify-Pagination-Count": "1",
        "X-Apify-Pagination-Total": "3",
        "X-Apify-Pagination-Desc": "false",
    }
    assert isinstance(page, list)
    assert [item["input"] for item in page] == ["a.two"]


def test_synthetic_profiles_are_deterministic(apify: ApifyStandIn) -> None:
    api = client(apify)
    first = api.actor("a~b").call(
        run_input={"profiles": ["any.body"]}, logger=None, wait_duration=timedelta(seconds=5)
    )
    second = api.actor("a~b").call(
        run_input={"profiles": ["any.body"]}, logger=None, wait_duration=timedelta(seconds=5)
    )
    assert first is not None
    assert second is not None
    items = [api.dataset(r.default_dataset_id).list_items().items for r in (first, second)]
    assert items[0] == items[1]
    assert items[0][0]["authorMeta"]["id"]
    assert items[0][0]["authorMeta"]["fans"] >= 0


def test_max_items_caps_the_dataset(apify: ApifyStandIn) -> None:
    api = client(apify)
    run = api.actor("a~b").call(
        run_input={"profiles": ["x.one", "x.two"]},
        max_items=1,
        logger=None,
        wait_duration=timedelta(seconds=5),
    )
    assert run is not None
    assert len(api.dataset(run.default_dataset_id).list_items().items) == 1


def test_abort_stops_a_run_that_never_finishes(apify: ApifyStandIn) -> None:
    apify.inject("never_finishes")
    api = client(apify)
    run = api.actor("a~b").start(run_input={"profiles": ["x.one"]})
    waited = api.run(run.id).wait_for_finish(wait_duration=timedelta(seconds=1))
    assert waited is not None
    assert waited.status == "RUNNING"
    assert api.run(run.id).abort().status == "ABORTED"


def test_a_wrong_token_gets_apifys_401_body(apify: ApifyStandIn) -> None:
    with pytest.raises(ApifyApiError) as caught:
        client(apify, token="wrong").actor("a~b").start(run_input={"profiles": ["x.one"]})
    assert caught.value.status_code == 401
    assert caught.value.type == "user-or-token-not-found"


@pytest.mark.parametrize(
    ("fault", "status", "type_"),
    [("http_429", 429, "rate-limit-exceeded"), ("http_500", 500, "internal-server-error")],
)
def test_queued_http_faults_answer_in_apifys_shape(
    apify: ApifyStandIn, fault: str, status: int, type_: str
) -> None:
    apify.inject(fault)
    with pytest.raises(ApifyApiError) as caught:
        client(apify).actor("a~b").start(run_input={"profiles": ["x.one"]})
    assert (caught.value.status_code, caught.value.type) == (status, type_)


def test_a_bad_input_is_400(apify: ApifyStandIn) -> None:
    status, _, reply = raw(
        apify,
        "POST",
        "/v2/acts/a~b/runs",
        json.dumps({"profiles": "x"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 400
    assert reply["error"]["type"] == "invalid-input"  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/acts/a~b"),
        ("GET", "/v2/key-value-stores/k/records/INPUT"),
        ("DELETE", "/v2/actor-runs/x"),
        ("GET", "/"),
    ],
)
def test_routes_it_does_not_cover_are_404_with_a_clear_message(
    apify: ApifyStandIn, method: str, path: str
) -> None:
    status, _, reply = raw(apify, method, path)
    assert status == 404
    assert "not covered by the local Apify stand-in" in reply["error"]["message"]  # type: ignore[index]


def test_an_unknown_fault_is_refused(apify: ApifyStandIn) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        apify.inject("meteor")
