"""The one Logger, Metrics and Tracer of the bundle. Each function names its service through
POWERTOOLS_SERVICE_NAME; the metrics namespace is CreatorSync (POWERTOOLS_METRICS_NAMESPACE).

Tracing stays behind this module: the X-Ray SDK behind Powertools Tracer is in maintenance (see
docs/decisions.md), and a switch to OpenTelemetry should touch this file only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="CreatorSync")
# Patch only what is traced: httpx (PostgREST, the JWKS, SQS) now; botocore (Secrets Manager) when a
# boto3 client is first built. Patching everything at import cost ~45 ms of botocore imports on
# every cold start, GETs included, that Lambda bills.
tracer = Tracer(patch_modules=("httpx",))


def trace_botocore() -> None:
    """Called before the first boto3 client is built (idempotent)."""
    tracer.patch(("botocore",))


@contextmanager
def aws_subsegment(service: str, operation: str, **metadata: str) -> Iterator[None]:
    """A subsegment for an AWS call made without boto3, shaped like the X-Ray SDK's own."""
    with tracer.provider.in_subsegment(service, namespace="aws") as subsegment:
        subsegment.put_annotation("operation", operation)
        for key, value in metadata.items():
            subsegment.put_metadata(key, value, "aws")
        yield


def flush_metrics_if_any[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Publish the metrics a request added, once it ends; a request that added none (a GET)
    publishes nothing and warns nothing. Powertools' `log_metrics` warns on every such request."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()

    return wrapper  # type: ignore[return-value]
