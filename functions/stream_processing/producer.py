"""Producer handler: validates a list of readings and puts them on the stream, 500 per call."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from shared import aws
from shared.batches import Backoff
from shared.cache import cached

from stream_processing import adapters, logic
from stream_processing.contract import READINGS_NOT_PUT_METRIC
from stream_processing.errors import InvalidPutRequestError
from stream_processing.models import PutRequest
from stream_processing.settings import producer_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Some invocations end with no metric (a request answered from its idempotency record, one refused);
# Powertools would warn on each of them.
warnings.filterwarnings("ignore", "No application metrics to publish")

#: The retries of the entries a PutRecords call did not take: the first waits up to 50 ms, each
#: further one up to twice as long (a throttled shard needs a moment, not a hot loop).
PUT_BACKOFF = Backoff(max_attempts=logic.PUT_ATTEMPTS, base_seconds=0.05)

#: How long a request id is remembered: a caller's retries of one request come within minutes;
#: a request sent again later than this with the same id is put again.
IDEMPOTENCY_WINDOW_SECONDS = 60 * 60

idempotency_config = IdempotencyConfig(
    event_key_jmespath="request_id",
    raise_on_no_idempotency_key=True,
    # Another request reusing an id is refused (IdempotencyValidationError), not taken for a
    # retry of the first.
    payload_validation_jmespath="readings",
    expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
)


def backoff(retry: int) -> None:
    """Wait before the `retry`-th put of rejected entries (1 for the first), with full jitter."""
    time.sleep(PUT_BACKOFF.delay(retry - 1))


def put_request(request: PutRequest) -> dict[str, Any]:
    """Put a validated request's readings; run only through `put_request_once()`."""
    summary = logic.put_all(
        request.readings,
        adapters.stream(producer_settings().stream_name).put_records,
        backoff=backoff,
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


@cached
def put_request_once() -> Callable[..., dict[str, Any]]:
    """`put_request` keyed on the request's `request_id` in the idempotency table.

    Built on first use: the persistence layer needs a client and the table's name from the
    environment.
    """
    return idempotent_function(
        put_request,
        data_keyword_argument="request",
        persistence_store=aws.idempotency_store(producer_settings().idempotency_table_name),
        config=idempotency_config,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Direct-invoke input `{"readings": [{"key": ..., "value": ...}, ...], "request_id": ...}`;
    returns a summary.

    Invalid input raises `InvalidPutRequestError` before anything is put. Readings Kinesis did
    not take after `logic.PUT_ATTEMPTS` are in the summary's `failed` list (the invoke still
    succeeds); a PutRecords call refused as a whole raises `PutRecordsRefusedError`. With a
    `request_id`, the same request sent again answers the first summary and puts nothing.
    """
    idempotency_config.register_lambda_context(context)
    try:
        request = logic.parse_put_request(event)
    except InvalidPutRequestError:
        metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
        raise
    if request.request_id is None:
        # Without an id a request is put each time it is sent: nothing to remember it by.
        return put_request(request)
    return put_request_once()(request=request)
