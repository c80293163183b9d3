"""Names the stream-processing stack and its functions share: each is written here only.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `stream_processing/`.
"""

from __future__ import annotations

# Handlers, as Lambda resolves them from the asset root.
PRODUCER_HANDLER = "stream_processing.producer.handler"
AGGREGATOR_HANDLER = "stream_processing.aggregator.handler"

# Environment variables the stack sets and the functions read.
ENV_STREAM_NAME = "STREAM_NAME"
ENV_IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
ENV_AGGREGATES_TABLE_NAME = "AGGREGATES_TABLE_NAME"
ENV_ALERT_TOPIC_ARN = "ALERT_TOPIC_ARN"
ENV_REJECTED_RECORDS_QUEUE_URL = "REJECTED_RECORDS_QUEUE_URL"
ENV_ALERT_THRESHOLD = "ALERT_THRESHOLD"

#: Powertools' `service` of each function: the dimension of its metrics.
PRODUCER_SERVICE_NAME = "stream_processing-producer"
AGGREGATOR_SERVICE_NAME = "stream_processing-aggregator"
#: Readings Kinesis did not take after the producer's last attempt; the stack alarms on it.
READINGS_NOT_PUT_METRIC = "ReadingsNotPut"

#: Kinesis PutRecords takes at most this many records per call.
MAX_RECORDS_PER_PUT = 500

#: The `kind` of the message the aggregator sends to the on-failure queue for a record it
#: cannot read; Lambda's own failure records for batches it gave up on have no `kind`.
REJECTED_RECORD_KIND = "rejected_record"

# Aggregates table keys: one item per reading key and tumbling window.
AGGREGATE_PK_PREFIX = "KEY#"
AGGREGATE_SK_PREFIX = "WINDOW#"

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_STREAM_NAME = "StreamName"
OUTPUT_PRODUCER_FUNCTION_NAME = "ProducerFunctionName"
OUTPUT_AGGREGATOR_FUNCTION_NAME = "AggregatorFunctionName"
OUTPUT_AGGREGATES_TABLE_NAME = "AggregatesTableName"
OUTPUT_ALERT_TOPIC_ARN = "AlertTopicArn"
OUTPUT_ALERTS_QUEUE_URL = "AlertsQueueUrl"
OUTPUT_ON_FAILURE_QUEUE_URL = "OnFailureQueueUrl"


def aggregate_key(key: str, window_start: str) -> dict[str, str]:
    """The (pk, sk) of the aggregates item of `key` in the window from `window_start`."""
    return {"pk": f"{AGGREGATE_PK_PREFIX}{key}", "sk": f"{AGGREGATE_SK_PREFIX}{window_start}"}
