"""Secrets from AWS Secrets Manager through Powertools parameters (cached across invocations).

In AWS a secret is named by an environment variable and never held in one. The local stack, and
only it, may pass the value itself (`CREATOR_SYNC_LOCAL=1`), since it has no Secrets Manager.
"""

from __future__ import annotations

from creator_sync.config import ConfigError

SECRET_MAX_AGE_SECONDS = 300


def read_secret(*, name: str, local_value: str, local: bool, what: str) -> str:
    """The secret's value: `local_value` on the local stack, else Secrets Manager's `name`."""
    if local and local_value:
        return local_value
    if not name:
        raise ConfigError(f"invalid configuration: no secret name configured for {what}")
    from aws_lambda_powertools.utilities import parameters

    from creator_sync.observability import trace_botocore

    trace_botocore()

    value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"invalid configuration: secret {name!r} ({what}) is empty or not a string")
    return value
