"""Batching: items are enqueued one by one and written to DynamoDB in large batches."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from batching.contract import (
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_URL,
    ENV_USAGE_TABLE_NAME,
    ENV_WRITE_BASE_DELAY_MS,
    ENV_WRITE_MAX_ATTEMPTS,
    ITEMS_NOT_ENQUEUED_METRIC,
    PROCESSOR_HANDLER,
    PROCESSOR_SERVICE_NAME,
    PRODUCER_HANDLER,
    PRODUCER_SERVICE_NAME,
)
from infra.config import AppConfig, BatchingConfig
from infra.constructs import AlarmTopic, PythonFunction, QueueToFunction, Table

PATTERN = "batching"
#: Powertools publishes the producer's metrics under this namespace with a `service` dimension.
PRODUCER_METRICS_NAMESPACE = "ServerlessPatterns"


class Batching(Construct):
    """Producer function -> SQS work queue -> processor (large batches) -> DynamoDB usage table.

    Defaults:
    - the processor takes batches of `config.batching.batch_size` (500) gathered for up to
      `max_batching_window_seconds` (5), with partial batch responses; provisioned pollers
      only when `config.batching.provisioned_pollers` is set;
    - a record failing `max_receive_count` (5) receives is sent to the DLQ by the processor
      with its reason (SQS's redrive stays the safety net for a crashed invocation);
    - BatchWriteItem retries what DynamoDB leaves unprocessed up to `write_max_attempts` (5)
      calls, with full-jitter backoff from `write_base_delay` (50 ms);
    - the processor's timeout (60 s) covers a full batch: 20 BatchWriteItem calls and their
      retries for 500 records.

    Attributes: `producer`, `processor`, `inbox` (a `QueueToFunction`: `queue`,
    `dead_letter_queue`, `dlq_alarm`), `usage_table`.
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
        write_base_delay: Duration = Duration.millis(50),
    ) -> None:
        super().__init__(scope, construct_id)
        batching = batching or config.batching
        self.usage_table = Table(
            self, "UsageTable", config=config, partition_key_name="pk", sort_key_name="sk"
        ).table
        retry_environment = {
            ENV_WRITE_MAX_ATTEMPTS: str(write_max_attempts),
            ENV_WRITE_BASE_DELAY_MS: str(int(write_base_delay.to_milliseconds())),
        }
        self.processor = PythonFunction(
            self,
            "Processor",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PROCESSOR_HANDLER,
            description="Validates queued usage records and writes them 25 per BatchWriteItem",
            service_name=PROCESSOR_SERVICE_NAME,
            timeout=Duration.seconds(60),
            memory_size=512,
            environment={
                ENV_USAGE_TABLE_NAME: self.usage_table.table_name,
                ENV_MAX_RECEIVE_COUNT: str(max_receive_count),
                **retry_environment,
            },
        )
        self.inbox = QueueToFunction(
            self,
            "Inbox",
            config=config,
            alarms=alarms,
            function=self.processor.function,
            batch_size=batching.batch_size,
            max_batching_window=Duration.seconds(batching.max_batching_window_seconds)
            if batching.max_batching_window_seconds
            else None,
            max_receive_count=max_receive_count,
            provisioned_pollers=batching.provisioned_pollers,
        )
        self.processor.function.add_environment(
            ENV_DEAD_LETTER_QUEUE_URL, self.inbox.dead_letter_queue.queue_url
        )
        self.usage_table.grant_read_write_data(self.processor.function)
        self.inbox.dead_letter_queue.grant_send_messages(self.processor.function)

        self.producer = PythonFunction(
            self,
            "Producer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PRODUCER_HANDLER,
            description="Enqueues usage items ten per SendMessageBatch, tenant as message group",
            service_name=PRODUCER_SERVICE_NAME,
            metrics_namespace=PRODUCER_METRICS_NAMESPACE,
            timeout=Duration.seconds(30),
            environment={ENV_QUEUE_URL: self.inbox.queue.queue_url, **retry_environment},
        )
        self.inbox.queue.grant_send_messages(self.producer.function)

        # A SendMessageBatch can reject some entries while the invocation succeeds, so the
        # function's errors alarm would miss them; the producer counts them in a metric.
        alarms.alarm_on(
            self,
            "ItemsNotEnqueuedAlarm",
            metric=cloudwatch.Metric(
                namespace=PRODUCER_METRICS_NAMESPACE,
                metric_name=ITEMS_NOT_ENQUEUED_METRIC,
                dimensions_map={"service": PRODUCER_SERVICE_NAME},
                statistic="Sum",
            ),
            description="The producer could not enqueue some items",
        )
