"""Real local parts for integration tests: the Supabase stand-in (PostgREST + JWKS) over the test
database, moto's SQS server, and a function's environment built from template.yaml as the local stack
builds it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.database import Database
from devstack.environments import Endpoints, local_function_env
from devstack.http_server import LoopbackServer
from devstack.keys import StackKeys
from devstack.postgrest import PostgrestStandIn
from devstack.sqs import LocalQueues
from devstack.supabase_server import supabase_server


@dataclass
class SupabaseStandIn:
    url: str
    keys: StackKeys
    postgrest: PostgrestStandIn
    server: LoopbackServer

    @property
    def anon_key(self) -> str:
        return self.keys.api_key("anon")

    @property
    def service_role_key(self) -> str:
        return self.keys.api_key("service_role")


@contextmanager
def running_supabase(database: Database) -> Iterator[SupabaseStandIn]:
    state = Path(tempfile.mkdtemp(prefix="creator-sync-keys-"))
    # The port is only known once bound, and the issuer names it: bind first, then make the keys.
    postgrest = PostgrestStandIn(database.authenticator_url, keys=None)  # type: ignore[arg-type]
    server = supabase_server(0, postgrest).start()
    postgrest.keys = StackKeys.load_or_create(state, issuer=f"{server.url}/auth/v1")
    postgrest.open()
    try:
        yield SupabaseStandIn(server.url, postgrest.keys, postgrest, server)
    finally:
        server.stop()
        postgrest.close()


def queue_messages(
    queues: LocalQueues, url: str | None = None, max_messages: int = 10
) -> list[dict[str, Any]]:
    """Receive (and make visible again) up to max_messages messages, with their attributes."""
    client = queues.client()
    reply = client.receive_message(
        QueueUrl=url or queues.queue_url,
        MaxNumberOfMessages=max_messages,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
        VisibilityTimeout=0,
        WaitTimeSeconds=0,
    )
    return list(reply.get("Messages", []))


def message_bodies(queues: LocalQueues, url: str | None = None) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in queue_messages(queues, url)]


def drain(queues: LocalQueues, url: str | None = None) -> int:
    """Delete every message now in the queue; returns how many there were."""
    client, deleted = queues.client(), 0
    while messages := queue_messages(queues, url):
        for message in messages:
            client.delete_message(QueueUrl=url or queues.queue_url, ReceiptHandle=message["ReceiptHandle"])
            deleted += 1
    return deleted


def function_env(
    logical_id: str, supabase: SupabaseStandIn, queues: LocalQueues, apify_url: str = "", **overrides: str
) -> dict[str, str]:
    endpoints = Endpoints(
        supabase_url=supabase.url,
        anon_key=supabase.anon_key,
        service_role_key=supabase.service_role_key,
        queue_url=queues.queue_url,
        apify_api_url=apify_url,
        apify_token="apify-test-token",
        sqs_endpoint=queues.endpoint,
        # The test queues' short visibility (2 s), with lost-after and drain kept in the deployed relation.
        tuning={
            "LOST_AFTER_SECONDS": "300",
            "SCRAPE_VISIBILITY_TIMEOUT_SECONDS": "2",
            "BATCH_RUN_SECONDS": "0.5",
        },
    )
    return local_function_env(logical_id, endpoints) | overrides


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
