"""Publisher handler: validates a list of order events and publishes them to the topic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from pub_sub import adapters, logic
from pub_sub.contract import EVENTS_NOT_PUBLISHED_METRIC
from pub_sub.errors import InvalidPublishRequestError, PublishFailedError
from pub_sub.models import PublishSummary
from pub_sub.settings import publisher_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Direct-invoke input `{"events": [...]}`; returns the publish summary.

    Invalid input raises `InvalidPublishRequestError` before anything is published. Entries
    SNS did not accept are in the summary's `failed` list (the invoke still succeeds, so the
    caller gets the message ids of the rest); a PublishBatch call refused as a whole raises
    `PublishFailedError`.
    """
    settings = publisher_settings()
    try:
        events = logic.parse_publish_request(event)
    except InvalidPublishRequestError:
        metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
        raise
    topic = adapters.topic(settings.topic_arn)
    try:
        summary = logic.publish_all(events, topic.publish_batch)
    except PublishFailedError as error:
        _record(error.summary)
        logger.exception("publishing stopped part-way", extra=_failures(error.summary))
        raise
    _record(summary)
    if summary.failed:
        logger.error("some events were not published", extra=_failures(summary))
    return summary.to_response()


def _record(summary: PublishSummary) -> None:
    metrics.add_metric(
        name="EventsPublished", unit=MetricUnit.Count, value=len(summary.message_ids)
    )
    # Entry-level failures do not fail the invoke: this metric is where they show.
    metrics.add_metric(
        name=EVENTS_NOT_PUBLISHED_METRIC, unit=MetricUnit.Count, value=len(summary.failed)
    )


def _failures(summary: PublishSummary) -> dict[str, Any]:
    response = summary.to_response()
    return {key: response[key] for key in ("published_count", "failed_count", "failed")}
