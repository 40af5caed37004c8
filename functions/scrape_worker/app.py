"""ScrapeWorkerFunction: SQS batch -> creator_sync.scraping.batch, answered as a partial batch response."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from creator_sync.observability import flush_metrics_if_any, logger, tracer
from creator_sync.scraping.batch import BatchVerdicts
from creator_sync.scraping.wiring import scrape_batch, worker_settings

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RecordFailed(Exception):
    """Marks a record failed in the partial batch response; SQS delivers it again."""


def record_verdict(verdicts: BatchVerdicts) -> Any:
    def handle(record: SQSRecord) -> None:
        reason = verdicts.failures.get(record.message_id)
        if reason is not None:
            raise RecordFailed(reason)

    return handle


@logger.inject_lambda_context(log_event=False)
@flush_metrics_if_any
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    margin = worker_settings().wait_margin_seconds
    verdicts = scrape_batch().run(
        event.get("Records", []), wait_seconds=lambda: context.get_remaining_time_in_millis() / 1000 - margin
    )
    return dict(
        process_partial_response(
            event=event, record_handler=record_verdict(verdicts), processor=processor, context=context
        )
    )
