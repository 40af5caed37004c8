"""End to end over real HTTP against a running local stack: the API, the SQS poller driving the
worker, the reconciler timer, PostgreSQL, moto and the Apify stand-in, as `make dev` runs them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import httpx

from tests.support.local_stack import RunningStack, api_client, wait_for


def new_user(stack: RunningStack) -> httpx.Client:
    return api_client(stack, stack.token(str(uuid.uuid4())))


def scrape_status(client: httpx.Client) -> str | None:
    creator = client.get("/profile").json()["creator"]
    return None if creator is None else str(creator["scrape"]["status"])


def settled(client: httpx.Client, *statuses: str) -> Any:
    def check() -> Any:
        profile = client.get("/profile").json()
        creator = profile["creator"]
        return profile if creator and creator["scrape"]["status"] in statuses else None

    return check


def test_a_linked_handle_is_scraped(local_stack: RunningStack) -> None:
    with new_user(local_stack) as client:
        reply = client.patch("/profile", json={"tiktok_handle": "@Jane.Doe", "niche": "cooking"})
        assert reply.status_code == 200
        assert reply.json()["creator"]["scrape"]["status"] == "queued"
        profile = wait_for(settled(client, "succeeded"), timeout=30)
    creator = profile["creator"]
    assert (creator["display_name"], creator["followers"], creator["hearts"], creator["videos"]) == (
        "Jane Doe",
        15300,
        412000,
        87,
    )
    assert profile["niche"] == "cooking"


def test_a_handle_that_does_not_exist_ends_not_found(local_stack: RunningStack) -> None:
    with new_user(local_stack) as client:
        client.patch("/profile", json={"tiktok_handle": "ghost.user"})
        profile = wait_for(settled(client, "not_found", "succeeded", "failed"), timeout=30)
    assert profile["creator"]["scrape"]["status"] == "not_found"


def test_a_handle_whose_scrape_keeps_failing_ends_failed_and_in_the_dlq(local_stack: RunningStack) -> None:
    with new_user(local_stack) as client:
        user_id = client.get("/profile").json()["user_id"]
        client.patch("/profile", json={"tiktok_handle": "flaky.user"})
        profile = wait_for(settled(client, "failed", "succeeded"), timeout=90, every=1)
    assert profile["creator"]["scrape"]["status"] == "failed"
    assert profile["creator"]["scrape"]["error"]
    endpoints = local_stack.stack_json()["endpoints"]
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoints["sqs_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def in_dlq() -> bool:
        reply = sqs.receive_message(
            QueueUrl=endpoints["dlq_url"], MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return any(json.loads(m["Body"])["user_id"] == user_id for m in reply.get("Messages", []))

    wait_for(in_dlq, timeout=30, every=1)


def test_a_patch_while_sqs_is_down_is_saved_and_scraped_later(local_stack: RunningStack) -> None:
    with new_user(local_stack) as client:
        assert httpx.post(f"{local_stack.control}/sqs/stop", timeout=10).status_code == 200
        try:
            reply = client.patch("/profile", json={"tiktok_handle": "down.time"})
        finally:
            httpx.post(f"{local_stack.control}/sqs/start", timeout=10)
        assert reply.status_code == 200
        assert reply.json()["tiktok_handle"] == "down.time"
        assert reply.json()["creator"]["scrape"]["status"] == "queued"
        profile = wait_for(settled(client, "succeeded"), timeout=60, every=1)
    assert profile["creator"]["tiktok_user_id"]


def test_two_users_never_see_each_others_data(local_stack: RunningStack) -> None:
    with new_user(local_stack) as alice, new_user(local_stack) as bob:
        alice.patch("/profile", json={"niche": "alice only", "tiktok_handle": "alice.only"})
        bob.patch("/profile", json={"niche": "bob only"})
        alice_view, bob_view = alice.get("/profile").json(), bob.get("/profile").json()
    assert alice_view["user_id"] != bob_view["user_id"]
    assert (alice_view["niche"], alice_view["tiktok_handle"]) == ("alice only", "alice.only")
    assert (bob_view["niche"], bob_view["tiktok_handle"], bob_view["creator"]) == ("bob only", None, None)


def test_the_openapi_document_and_errors_are_served(local_stack: RunningStack) -> None:
    assert httpx.get(f"{local_stack.api}/openapi.json", timeout=10).json()["openapi"].startswith("3.")
    missing = httpx.get(f"{local_stack.api}/profile", timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["www-authenticate"].startswith("Bearer")


def test_invoke_runs_a_sample_event_against_the_stack(local_stack: RunningStack) -> None:
    done = local_stack.cli("invoke", "ProfileApiFunction", "--event", "events/api-get-profile.json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["user_id"] == "5d0c4a4e-6a3b-4c1e-9d61-0b7d3c2f9a10"


def test_invoke_exits_non_zero_when_the_handler_raises(local_stack: RunningStack, tmp_path: Any) -> None:
    event = tmp_path / "not-sqs.json"
    event.write_text(json.dumps({"Records": "not a list"}))
    done = local_stack.cli("invoke", "ScrapeWorkerFunction", "--event", str(event))
    assert done.returncode == 1
    assert "errorType" in done.stdout
