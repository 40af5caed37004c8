"""The scrape request message (DESIGN §5) and its SQS publisher.

`ScrapeRequested` is the one definition of the message: the API and the reconciler publish it, the
worker parses it. The boto3 client is created on first use (not at import) and reused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from creator_sync.handles import HANDLE_PATTERN

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient

ScrapeReason = Literal["handle_linked", "refresh", "reconcile", "scheduled"]


class ScrapeRequested(BaseModel):
    """Version 1 of `creator_sync.scrape_requested`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["scrape_requested"] = "scrape_requested"
    version: Literal[1] = 1
    user_id: UUID
    tiktok_handle: Annotated[str, Field(pattern=HANDLE_PATTERN.pattern)]
    generation: Annotated[int, Field(ge=1)]
    reason: ScrapeReason
    requested_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: Annotated[str, Field(min_length=1, max_length=256)]


class QueueUnavailable(Exception):
    """The message could not be sent (SQS unreachable, throttled past retries, or refused)."""


@cache
def _sqs_client(timeout_seconds: float) -> SQSClient:
    # The endpoint comes from boto3's own configuration (AWS_ENDPOINT_URL_SQS on the local stack).
    import boto3
    from botocore.config import Config

    from creator_sync.observability import trace_botocore

    trace_botocore()
    # One budget for the whole send (DESIGN §3): connect + read of a single attempt, no retries,
    # at most `timeout_seconds` (3 s). A send that fails is the reconciler's to deliver.
    config = Config(
        connect_timeout=min(1.0, timeout_seconds / 3),
        read_timeout=timeout_seconds - min(1.0, timeout_seconds / 3),
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return boto3.client("sqs", config=config)


class ScrapePublisher:
    def __init__(self, queue_url: str, *, timeout_seconds: float = 3.0) -> None:
        self._queue_url = queue_url
        self._timeout = timeout_seconds

    @property
    def budget_seconds(self) -> float:
        """The most one publish can take (connect + read, no retries)."""
        return self._timeout

    def publish(self, message: ScrapeRequested) -> str:
        """Send one message; returns its SQS message id."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            reply = _sqs_client(self._timeout).send_message(
                QueueUrl=self._queue_url,
                MessageBody=message.model_dump_json(),
                MessageAttributes={
                    "correlation_id": {"DataType": "String", "StringValue": message.correlation_id},
                },
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnavailable(f"could not send the scrape request: {type(exc).__name__}") from exc
        return reply["MessageId"]

    def publish_many(self, messages: list[ScrapeRequested]) -> list[ScrapeRequested]:
        """Send in batches of ten; returns the messages that could not be sent."""
        from botocore.exceptions import BotoCoreError, ClientError

        unsent: list[ScrapeRequested] = []
        client = _sqs_client(self._timeout)
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": message.model_dump_json(),
                    "MessageAttributes": {
                        "correlation_id": {"DataType": "String", "StringValue": message.correlation_id}
                    },
                }
                for index, message in enumerate(chunk)
            ]
            try:
                reply = client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)  # type: ignore[arg-type]
            except (BotoCoreError, ClientError):
                unsent.extend(chunk)
                continue
            unsent.extend(chunk[int(failure["Id"])] for failure in reply.get("Failed", []))
        return unsent
