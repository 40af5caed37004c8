"""Secrets come from Secrets Manager through Powertools parameters (here moto's server over HTTP);
a plain environment value is honoured only on the local stack."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from creator_sync.adapters.secrets import read_secret
from creator_sync.config import ConfigError

from devstack.sqs import LOCAL_CREDENTIALS
from tests.support.stack import patched_environ


@pytest.fixture
def secrets_manager(sqs_endpoint: str) -> Iterator[str]:
    """moto's server speaks Secrets Manager too; the same endpoint as the test SQS."""
    env = {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": sqs_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
    }
    with patched_environ(env):
        yield sqs_endpoint


def test_a_secret_is_read_from_secrets_manager(secrets_manager: str) -> None:
    client = boto3.client("secretsmanager", endpoint_url=secrets_manager, region_name="us-east-1")
    client.create_secret(Name="creator-sync/test-apify-token", SecretString="apify-from-secrets-manager")
    value = read_secret(
        name="creator-sync/test-apify-token",
        local_value="plain-env-value",
        local=False,
        what="the Apify token",
    )
    assert value == "apify-from-secrets-manager"
    assert os.environ.get("APIFY_TOKEN") is None


def test_a_plain_value_is_refused_outside_the_local_stack() -> None:
    with pytest.raises(ConfigError, match="no secret name configured for the Supabase service-role key"):
        read_secret(name="", local_value="plain-env-value", local=False, what="the Supabase service-role key")


def test_the_local_stack_may_pass_the_value_itself() -> None:
    assert read_secret(name="", local_value="local-value", local=True, what="x") == "local-value"
