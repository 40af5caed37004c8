"""The one Logger, Metrics and Tracer of the bundle. Each function names its service through
POWERTOOLS_SERVICE_NAME; the metrics namespace is CreatorSync (POWERTOOLS_METRICS_NAMESPACE)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="CreatorSync")
tracer = Tracer()
