"""The worker's metrics (DESIGN §6) leave as EMF, and every log line about a record carries the
correlation id from that record's message attribute."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from creator_sync.adapters.scrape_queue import ScrapeRequested

from devstack.database import Database
from devstack.event_source import lambda_record
from devstack.sqs import LocalQueues
from tests.integration.api.test_observability import emf_documents, metric_total
from tests.integration.conftest import MakeFunction
from tests.support.logs import captured_logs
from tests.support.postgres import new_user
from tests.support.scrape import link_handle


def record(
    message: ScrapeRequested | str, receive_count: int = 1, correlation_id: str | None = None
) -> dict[str, Any]:
    body = message if isinstance(message, str) else message.model_dump_json()
    cid = correlation_id or (message.correlation_id if isinstance(message, ScrapeRequested) else "poison-cid")
    sqs_message = {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": "rh",
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1",
            "SenderId": "x",
            "ApproximateFirstReceiveTimestamp": "1",
        },
        "MessageAttributes": {"correlation_id": {"StringValue": cid, "DataType": "String"}},
    }
    return lambda_record(sqs_message, "arn:aws:sqs:us-east-1:000000000000:q")


def linked(db: Database, handle: str) -> ScrapeRequested:
    user = new_user(db.url)
    ticket = link_handle(db, user, handle)
    assert ticket is not None
    return ScrapeRequested(
        user_id=uuid.UUID(user),
        tiktok_handle=handle,
        generation=ticket["generation"],
        reason="handle_linked",
        correlation_id=f"cid-{handle}",
    )


def test_metrics_and_correlation_ids(
    db: Database, queues: LocalQueues, make_worker: MakeFunction, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given one record for each outcome: found, not found, private, stale, and transient on its last receive
    found, ghost, private, flaky = (
        linked(db, h) for h in ("jane.doe", "ghost.user", "private.user", "flaky.user")
    )
    stale = linked(db, "was.before")
    link_handle(db, str(stale.user_id), "is.now")
    records = [
        record(found),
        record(ghost),
        record(private),
        record(flaky, receive_count=5),
        record(stale),
        record("{not json", correlation_id="cid-poison"),
    ]
    capfd.readouterr()
    # When the worker handles the batch
    with captured_logs() as logs:
        response = make_worker()({"Records": records})
    documents = emf_documents(capfd.readouterr().out)
    # Then the flaky and the poison records failed
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {
        records[3]["messageId"],
        records[5]["messageId"],
    }
    # and each outcome was counted once
    expected = {
        "ScrapeRequested": 5,
        "ScrapeSucceeded": 1,
        "ScrapeNotFound": 1,
        "ScrapePrivate": 1,
        "ScrapeFailed": 1,
        "ScrapeSkippedStale": 1,
        "ApifyRuns": 1,
    }
    assert {name: metric_total(documents, name) for name in expected} == expected
    assert metric_total(documents, "ApifyRunSeconds") > 0
    assert metric_total(documents, "ApifyCostUsd") > 0
    # and every line about a record carries that record's correlation id
    correlation_by_message = {
        r["messageId"]: r["messageAttributes"]["correlation_id"]["stringValue"] for r in records
    }
    about_records = [r for r in logs.records if r.get("message_id") in correlation_by_message]
    assert {r["message_id"] for r in about_records} == set(correlation_by_message)
    for line in about_records:
        assert line["correlation_id"] == correlation_by_message[line["message_id"]], line
    assert json.dumps(logs.records).count("eyJ") == 0  # no key or token in any line
