"""Stream processing: keyed readings through an encrypted Kinesis stream, aggregated per key
in tumbling windows, written to DynamoDB once per window, with a threshold alert."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from infra.config import AppConfig
from infra.constructs import (
    AlarmTopic,
    EncryptedTopic,
    PythonFunction,
    QueueSubscription,
    QueueWithDlq,
    StreamToFunction,
    Table,
    TopicToQueues,
)
from stream_processing.contract import (
    AGGREGATOR_HANDLER,
    AGGREGATOR_SERVICE_NAME,
    ENV_AGGREGATES_TABLE_NAME,
    ENV_ALERT_THRESHOLD,
    ENV_ALERT_TOPIC_ARN,
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_REJECTED_RECORDS_QUEUE_URL,
    ENV_STREAM_NAME,
    PRODUCER_HANDLER,
    PRODUCER_SERVICE_NAME,
    READINGS_NOT_PUT_METRIC,
)

PATTERN = "stream_processing"

#: Powertools publishes the functions' metrics under this namespace with a `service` dimension.
METRICS_NAMESPACE = "ServerlessPatterns"


class StreamProcessing(Construct):
    """Producer -> encrypted Kinesis stream -> windowed aggregator -> DynamoDB, alerts on SNS.

    Defaults:
    - the stream is on-demand (`shard_count` None; give a number for provisioned shards),
      encrypted with Kinesis's own key (`aws/kinesis`), records kept 24 hours;
    - the aggregator reads it through a `StreamToFunction` join: `tumbling_window` 1 minute,
      `batch_size` 100, `parallelization_factor` 2 (records of one key keep their order),
      bisect on error, `ReportBatchItemFailures`, `retry_attempts` 5, `max_record_age`
      1 hour, an on-failure queue (alarmed), an alarm on iterator age; `enhanced_fan_out`
      off (on: a dedicated stream consumer);
    - at the end of each window every key's count, sum, min and max are written to the
      aggregates table once (a replayed window is recognised and not added again), and a key
      whose window maximum reaches `alert_threshold` (100) raises one alert on the alert topic
      (an `EncryptedTopic`), which an alerts queue (with its DLQ) subscribes to;
    - a record that is not a reading is sent, with its reason, to the on-failure queue;
    - the producer puts readings 500 per PutRecords call and puts again what Kinesis did
      not take; an alarm fires when some were still not put; a request sent again with the
      same `request_id` is answered from a Powertools idempotency table, not put again.

    Attributes: `stream`, `producer`, `aggregator`, `source` (the
    `StreamToFunction`), `aggregates_table`, `idempotency_table`, `alert_topic`, `alerts` (a
    `QueueWithDlq`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        shard_count: int | None = None,
        tumbling_window: Duration = Duration.minutes(1),
        batch_size: int = 100,
        parallelization_factor: int = 2,
        enhanced_fan_out: bool = False,
        retry_attempts: int = 5,
        max_record_age: Duration = Duration.hours(1),
        alert_threshold: str = "100",
    ) -> None:
        super().__init__(scope, construct_id)
        self.stream = kinesis.Stream(
            self,
            "Stream",
            stream_mode=(
                kinesis.StreamMode.ON_DEMAND
                if shard_count is None
                else kinesis.StreamMode.PROVISIONED
            ),
            shard_count=shard_count,
            # Kinesis's own key (aws/kinesis), as cdk-nag's KDS3 asks: encrypted at rest with
            # no key policy to keep, and producers and consumers need no KMS grants.
            encryption=kinesis.StreamEncryption.MANAGED,
            retention_period=Duration.hours(24),
            removal_policy=config.removal_policy,
        )
        self.aggregates_table = Table(
            self, "AggregatesTable", config=config, partition_key_name="pk", sort_key_name="sk"
        ).table
        self.idempotency_table = Table.for_idempotency(
            self, "IdempotencyTable", config=config
        ).table
        self.alert_topic = EncryptedTopic(
            self, "AlertTopic", config=config, key_description="Encrypts the threshold alerts topic"
        )
        self.alerts = QueueWithDlq(self, "Alerts", config=config, alarms=alarms)
        TopicToQueues(
            self,
            "AlertFanOut",
            topic=self.alert_topic,
            queues={
                "alerts": QueueSubscription(queue=self.alerts.queue, raw_message_delivery=True)
            },
        )

        self.producer = PythonFunction(
            self,
            "Producer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PRODUCER_HANDLER,
            description="Puts readings on the stream, 500 per PutRecords call, retrying rejects",
            service_name=PRODUCER_SERVICE_NAME,
            metrics_namespace=METRICS_NAMESPACE,
            timeout=Duration.seconds(30),
            environment={
                ENV_STREAM_NAME: self.stream.stream_name,
                ENV_IDEMPOTENCY_TABLE_NAME: self.idempotency_table.table_name,
            },
        )
        self.stream.grant_write(self.producer.function)
        self.idempotency_table.grant_read_write_data(self.producer.function)

        self.aggregator = PythonFunction(
            self,
            "Aggregator",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=AGGREGATOR_HANDLER,
            description="Aggregates readings per key and tumbling window; writes each window once",
            service_name=AGGREGATOR_SERVICE_NAME,
            metrics_namespace=METRICS_NAMESPACE,
            timeout=Duration.seconds(60),
            environment={
                ENV_AGGREGATES_TABLE_NAME: self.aggregates_table.table_name,
                ENV_ALERT_TOPIC_ARN: self.alert_topic.topic_arn,
                ENV_ALERT_THRESHOLD: alert_threshold,
            },
        )
        self.source = StreamToFunction(
            self,
            "Source",
            config=config,
            alarms=alarms,
            stream=self.stream,
            function=self.aggregator.function,
            enhanced_fan_out=enhanced_fan_out,
            batch_size=batch_size,
            parallelization_factor=parallelization_factor,
            tumbling_window=tumbling_window,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
        )
        on_failure_queue = self.source.dead_letter_queue
        self.aggregator.function.add_environment(
            ENV_REJECTED_RECORDS_QUEUE_URL, on_failure_queue.queue_url
        )
        on_failure_queue.grant_send_messages(self.aggregator.function)
        self.aggregates_table.grant_read_write_data(self.aggregator.function)
        self.alert_topic.grant_publish(self.aggregator.function)

        # A PutRecords call succeeds while rejecting some entries, so the producer's errors
        # alarm would miss readings that were never put; the producer counts them.
        self.producer.alarm_on_count(
            "ReadingsNotPutAlarm",
            metric_name=READINGS_NOT_PUT_METRIC,
            description="The producer could not put some readings on the stream",
        )
