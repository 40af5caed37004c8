"""The SQS sender's SigV4 signature is the one botocore's own signer computes for the same request,
so the API can send without building a boto3 client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from creator_sync.adapters.sqs import JSON_1_0, Credentials, endpoint_for, region_for, sign

NOW = datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC)
URL = "https://sqs.eu-west-1.amazonaws.com/"
BODY = b'{"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "MessageBody": "x"}'


def botocore_signature(token: str | None) -> str:
    request = AWSRequest(
        method="POST",
        url=URL,
        data=BODY,
        headers={"Content-Type": JSON_1_0, "X-Amz-Target": "AmazonSQS.SendMessage"},
    )
    auth = SigV4Auth(BotoCredentials("AKIDEXAMPLE", "secret/key+example", token), "sqs", "eu-west-1")
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    auth._modify_request_before_signing(request)  # type: ignore[attr-defined]
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))


@pytest.mark.parametrize("token", [None, "session-token-value"])
def test_the_signature_matches_botocores(token: str | None) -> None:
    headers = sign(
        "POST",
        URL,
        {"content-type": JSON_1_0, "x-amz-target": "AmazonSQS.SendMessage"},
        BODY,
        credentials=Credentials("AKIDEXAMPLE", "secret/key+example", token),
        region="eu-west-1",
        now=NOW,
    )
    assert headers["authorization"].endswith(f"Signature={botocore_signature(token)}")
    assert headers["x-amz-date"] == "20261130T123456Z"
    assert ("x-amz-security-token" in headers) is (token is not None)


def test_region_and_endpoint_come_from_the_environment_or_the_queue_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    assert region_for("https://sqs.ap-south-1.amazonaws.com/1/q") == "ap-south-1"
    assert endpoint_for("ap-south-1") == "https://sqs.ap-south-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324/")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert (region_for("http://127.0.0.1:9324/000000000000/q"), endpoint_for("us-east-1")) == (
        "us-east-1",
        "http://127.0.0.1:9324",
    )
