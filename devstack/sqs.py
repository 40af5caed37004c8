"""SQS from moto's server (HTTP on loopback), with ScrapeQueue and ScrapeDLQ created as template.yaml
declares them, except the visibility timeout, which the local stack keeps short."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devstack.template import queue_properties

LOCAL_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


def sqs_client(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
        region_name=LOCAL_CREDENTIALS["region_name"],
    )


@dataclass
class LocalQueues:
    endpoint: str
    queue_url: str
    dlq_url: str
    max_receives: int

    def client(self) -> Any:
        return sqs_client(self.endpoint)


def start_moto(port: int) -> tuple[ThreadedMotoServer, str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per SQS call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def create_queues(endpoint: str, *, visibility_timeout: int, prefix: str = "creator-sync") -> LocalQueues:
    client = sqs_client(endpoint)
    dlq_props = queue_properties("ScrapeDLQ")
    queue_props = queue_properties("ScrapeQueue")
    dlq_url = client.create_queue(
        QueueName=f"{prefix}-scrape-dlq",
        Attributes={"MessageRetentionPeriod": str(dlq_props["MessageRetentionPeriod"])},
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    max_receives = int(queue_props["RedrivePolicy"]["maxReceiveCount"])
    queue_url = client.create_queue(
        QueueName=f"{prefix}-scrape",
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "MessageRetentionPeriod": str(queue_props["MessageRetentionPeriod"]),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}),
        },
    )["QueueUrl"]
    return LocalQueues(endpoint=endpoint, queue_url=queue_url, dlq_url=dlq_url, max_receives=max_receives)
