"""Producer handler: validates a list of readings and puts them on the stream, 500 per call."""

from __future__ import annotations

import random
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from stream_processing import adapters, logic
from stream_processing.contract import READINGS_NOT_PUT_METRIC
from stream_processing.errors import InvalidPutRequestError
from stream_processing.settings import producer_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()

#: The first retry of the entries a PutRecords call did not take waits about this long; each
#: further one twice as long (a throttled shard needs a moment, not a hot loop).
FIRST_BACKOFF_SECONDS = 0.05


def backoff(retry: int) -> None:
    """Wait before the `retry`-th put of rejected entries: exponential, with full jitter."""
    time.sleep(random.uniform(0, FIRST_BACKOFF_SECONDS * 2 ** (retry - 1)))  # noqa: S311 - jitter, not security


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Direct-invoke input `{"readings": [{"key": ..., "value": ...}, ...]}`; returns a summary.

    Invalid input raises `InvalidPutRequestError` before anything is put. Readings Kinesis did
    not take after `logic.PUT_ATTEMPTS` are in the summary's `failed` list (the invoke still
    succeeds); a PutRecords call refused as a whole raises `PutRecordsRefusedError`.
    """
    settings = producer_settings()
    try:
        readings = logic.parse_put_request(event)
    except InvalidPutRequestError:
        metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
        raise
    summary = logic.put_all(
        readings, adapters.stream(settings.stream_name).put_records, backoff=backoff
    )
    metrics.add_metric(name="ReadingsPut", unit=MetricUnit.Count, value=summary.put)
    metrics.add_metric(name="PutRecordsCalls", unit=MetricUnit.Count, value=summary.calls)
    # Entry-level failures do not fail the invoke: this metric is where they show.
    metrics.add_metric(
        name=READINGS_NOT_PUT_METRIC, unit=MetricUnit.Count, value=len(summary.not_put)
    )
    if summary.not_put:
        logger.error("some readings were not put", extra={"failed": list(summary.not_put)})
    return summary.to_response()
