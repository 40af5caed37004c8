"""A local stand-in for Lambda's SQS event source mapping: receives up to `batch_size` messages
(waiting up to the batching window to fill a batch), invokes the function with an SQS event, and
deletes the records the function did not report in `batchItemFailures`. Failed records come back
after the queue's visibility timeout; SQS (moto) counts receives and moves a message to the DLQ
after the redrive limit, exactly as in AWS. If the function raises, no record is deleted."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Invoke = Callable[[dict[str, Any]], Any]
LONG_POLL_SECONDS = 2  # like the event source mapping's long polling: no busy loop on an empty queue


def lambda_record(message: dict[str, Any], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """One SQS message as Lambda's event source mapping delivers it."""
    attributes = message.get("MessageAttributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: str(v) for k, v in (message.get("Attributes") or {}).items()},
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in attributes.items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class SqsEventSource:
    client: Any
    queue_url: str
    invoke: Invoke
    batch_size: int = 10
    batching_window_seconds: float = 1.0
    invocations: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def queue_arn(self) -> str:
        attrs = self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        return str(attrs["Attributes"]["QueueArn"])

    def receive_batch(self, wait_seconds: float, long_poll_seconds: int = 0) -> list[dict[str, Any]]:
        """Gather up to batch_size messages: long-poll up to long_poll_seconds for the first one, then
        keep filling the batch until it is full or the batching window (wait_seconds) has passed."""
        messages = self._receive(self.batch_size, long_poll_seconds)
        if not messages and long_poll_seconds:
            return []
        deadline = time.monotonic() + wait_seconds
        while len(messages) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.batch_size - len(messages), max(1, min(int(remaining + 0.999), 20)))
            if not more:
                break
            messages.extend(more)
        # A message seen twice (its visibility ran out while the batch filled) counts once, with its
        # newest receipt handle, the only one SQS still honours.
        return list({m["MessageId"]: m for m in messages}.values())

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        reply = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, count),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(reply.get("Messages", []))

    def poll_once(
        self, wait_seconds: float | None = None, long_poll_seconds: int = 0
    ) -> dict[str, Any] | None:
        """One receive-invoke-delete cycle; returns the function's response (None if no messages)."""
        window = self.batching_window_seconds if wait_seconds is None else wait_seconds
        messages = self.receive_batch(window, long_poll_seconds)
        if not messages:
            return None
        arn = self.queue_arn
        event = {"Records": [lambda_record(m, arn) for m in messages]}
        self.invocations += 1
        try:
            response = self.invoke(event)
        except Exception:  # the whole batch returns after the visibility timeout
            return {"error": "function raised"}
        failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        return dict(response or {})

    def start(self) -> SqsEventSource:
        self._thread = threading.Thread(target=self._loop, name="sqs-event-source", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(long_poll_seconds=LONG_POLL_SECONDS)
            except Exception:
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
