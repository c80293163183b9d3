"""Batching: items are enqueued one by one and written to DynamoDB in large batches."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from batching.contract import (
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_ITEMS_TABLE_NAME,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_URL,
    ENV_WRITE_BASE_DELAY_MS,
    ENV_WRITE_MAX_ATTEMPTS,
    ITEMS_NOT_ENQUEUED_METRIC,
    PRODUCER_HANDLER,
    PRODUCER_SERVICE_NAME,
    WRITER_HANDLER,
    WRITER_SERVICE_NAME,
)
from infra.config import AppConfig, BatchingConfig
from infra.constructs import AlarmTopic, PythonFunction, QueueToFunction, Table

PATTERN = "batching"
#: The first retry's backoff ceiling; it doubles on each retry (full jitter below it).
DEFAULT_WRITE_BASE_DELAY = Duration.millis(50)
#: Powertools publishes the producer's metrics under this namespace with a `service` dimension.
PRODUCER_METRICS_NAMESPACE = "ServerlessPatterns"


class Batching(Construct):
    """Producer function -> SQS work queue -> writer (large batches) -> DynamoDB items table.

    Defaults:
    - the writer takes batches of `config.batching.batch_size` (500) gathered for up to
      `max_batching_window_seconds` (5), with partial batch responses; provisioned pollers
      only when `config.batching.provisioned_pollers` is set;
    - an item failing `max_receive_count` (5) receives is sent to the DLQ by the writer
      with its reason (SQS's redrive stays the safety net for a crashed invocation);
    - BatchWriteItem retries what DynamoDB leaves unprocessed up to `write_max_attempts` (5)
      calls, with full-jitter backoff from `write_base_delay` (50 ms);
    - the writer's timeout (60 s) covers a full batch: 20 BatchWriteItem calls and their
      retries for 500 items.

    Attributes: `producer`, `writer`, `inbox` (a `QueueToFunction`: `queue`,
    `dead_letter_queue`, `dlq_alarm`), `items_table`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        batching: BatchingConfig | None = None,
        max_receive_count: int = 5,
        write_max_attempts: int = 5,
        write_base_delay: Duration = DEFAULT_WRITE_BASE_DELAY,
    ) -> None:
        super().__init__(scope, construct_id)
        batching = batching or config.batching
        self.items_table = Table(
            self, "ItemsTable", config=config, partition_key_name="pk", sort_key_name="sk"
        ).table
        retry_environment = {
            ENV_WRITE_MAX_ATTEMPTS: str(write_max_attempts),
            ENV_WRITE_BASE_DELAY_MS: str(int(write_base_delay.to_milliseconds())),
        }
        self.writer = PythonFunction(
            self,
            "Writer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=WRITER_HANDLER,
            description="Validates queued items and writes them 25 per BatchWriteItem",
            service_name=WRITER_SERVICE_NAME,
            timeout=Duration.seconds(60),
            memory_size=512,
            environment={
                ENV_ITEMS_TABLE_NAME: self.items_table.table_name,
                ENV_MAX_RECEIVE_COUNT: str(max_receive_count),
                **retry_environment,
            },
        )
        self.inbox = QueueToFunction(
            self,
            "Inbox",
            config=config,
            alarms=alarms,
            function=self.writer.function,
            batch_size=batching.batch_size,
            max_batching_window=Duration.seconds(batching.max_batching_window_seconds)
            if batching.max_batching_window_seconds
            else None,
            max_receive_count=max_receive_count,
            provisioned_pollers=batching.provisioned_pollers,
        )
        self.writer.function.add_environment(
            ENV_DEAD_LETTER_QUEUE_URL, self.inbox.dead_letter_queue.queue_url
        )
        # The writer only puts items, 25 per call: BatchWriteItem is all it may do.
        self.items_table.grant(self.writer.function, "dynamodb:BatchWriteItem")
        self.inbox.dead_letter_queue.grant_send_messages(self.writer.function)

        self.producer = PythonFunction(
            self,
            "Producer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PRODUCER_HANDLER,
            description="Enqueues items ten per SendMessageBatch, tenant as message group",
            service_name=PRODUCER_SERVICE_NAME,
            metrics_namespace=PRODUCER_METRICS_NAMESPACE,
            timeout=Duration.seconds(30),
            environment={ENV_QUEUE_URL: self.inbox.queue.queue_url, **retry_environment},
        )
        self.inbox.queue.grant_send_messages(self.producer.function)

        # A SendMessageBatch can reject some entries while the invocation succeeds, so the
        # function's errors alarm would miss them; the producer counts them in a metric.
        self.producer.alarm_on_count(
            "ItemsNotEnqueuedAlarm",
            metric_name=ITEMS_NOT_ENQUEUED_METRIC,
            description="The producer could not enqueue some items",
        )
