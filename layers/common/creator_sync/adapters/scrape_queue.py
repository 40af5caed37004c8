"""The scrape request message (DESIGN §5) and its SQS publisher.

`ScrapeRequested` is the one definition of the message: the API and the reconciler publish it, the
worker parses it.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
from pydantic import ConfigDict, Field

from creator_sync.adapters import sqs
from creator_sync.boundary import BoundaryModel
from creator_sync.handles import HANDLE_PATTERN
from creator_sync.observability import aws_subsegment

ScrapeReason = Literal["handle_linked", "refresh", "reconcile", "scheduled"]


class ScrapeRequested(BoundaryModel):
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


class ScrapePublisher:
    """Sends scrape requests over SQS's JSON protocol (`adapters.sqs`) through the container's shared
    httpx client, with one budget per send: connect + read of a single attempt, at most
    `timeout_seconds` (3 s), no retries (DESIGN §3). A send that fails is the reconciler's to
    deliver. Each send is traced as an `SQS` subsegment."""

    def __init__(self, queue_url: str, http_client: httpx.Client, *, timeout_seconds: float = 3.0) -> None:
        self._queue_url = queue_url
        self._http = http_client
        self._timeout = timeout_seconds

    @property
    def budget_seconds(self) -> float:
        """The most one publish can take (connect + read, no retries)."""
        return self._timeout

    def publish(self, message: ScrapeRequested) -> str:
        """Send one message; returns its SQS message id."""
        payload = {"QueueUrl": self._queue_url} | _entry(message)
        with aws_subsegment("SQS", "SendMessage", queue_url=self._queue_url):
            try:
                reply = sqs.call(self._http, self._queue_url, "SendMessage", payload, self._timeout)
            except sqs.SqsError as exc:
                raise QueueUnavailable(f"could not send the scrape request: {exc}") from exc
        return str(reply.get("MessageId", ""))

    def publish_many(self, messages: list[ScrapeRequested]) -> list[ScrapeRequested]:
        """Send in batches of ten; returns the messages that could not be sent."""
        unsent: list[ScrapeRequested] = []
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = [{"Id": str(index)} | _entry(message) for index, message in enumerate(chunk)]
            payload = {"QueueUrl": self._queue_url, "Entries": entries}
            with aws_subsegment("SQS", "SendMessageBatch", queue_url=self._queue_url):
                try:
                    reply = sqs.call(self._http, self._queue_url, "SendMessageBatch", payload, self._timeout)
                except sqs.SqsError:
                    unsent.extend(chunk)
                    continue
            unsent.extend(chunk[int(failure["Id"])] for failure in reply.get("Failed", []))
        return unsent


def _entry(message: ScrapeRequested) -> dict[str, Any]:
    return {
        "MessageBody": message.model_dump_json(),
        "MessageAttributes": {
            "correlation_id": {"DataType": "String", "StringValue": message.correlation_id}
        },
    }
