"""ReconcilerFunction: schedule -> creator_sync.scraping.reconcile."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from creator_sync.observability import flush_metrics_if_any, logger, tracer
from creator_sync.scraping.wiring import reconciler


@logger.inject_lambda_context(log_event=False)
@flush_metrics_if_any
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlation_id = f"reconcile-{event.get('id') or context.aws_request_id}"
    logger.set_correlation_id(correlation_id)
    return asdict(
        reconciler().run(correlation_id, seconds_left=lambda: context.get_remaining_time_in_millis() / 1000)
    )
