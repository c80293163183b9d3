"""A stream feeding a function: Kinesis or a DynamoDB table's stream, with Lambda's safety nets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict, Unpack

from aws_cdk import Duration, Names
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.config import AppConfig
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.queue_with_dlq import DeadLetterQueue

_DEFAULTS_DOC = """
    Defaults (each a keyword of the same name):
    - `starting_position` TRIM_HORIZON: a new mapping reads what the stream still holds;
    - `batch_size` 100, `max_batching_window` none;
    - `bisect_batch_on_error` on: a failing batch is split in two and retried, until the bad
      record is alone;
    - `report_batch_item_failures` on: the handler returns `{"batchItemFailures": [...]}` with
      the sequence number of the first failed record, and Lambda resumes from it;
    - `retry_attempts` 3 and `max_record_age` 1 hour: a record stops blocking its shard after
      either, and goes to the on-failure destination;
    - on-failure destination: a `DeadLetterQueue` of this construct (SQS-managed encryption,
      TLS only, 14 days), with an alarm when any message is in it; the message describes the
      failed batch (shard, sequence numbers), not the records themselves;
    - `parallelization_factor` 1 (up to 10 concurrent batches per shard, order kept per key);
    - `tumbling_window` none (set it, up to 15 minutes, to aggregate in the handler's state);
    - `filters` none: every record reaches the function (give `lambda_.FilterCriteria.filter`
      patterns to deliver only the records one of them matches; the rest are skipped);
    - an alarm when the function's `IteratorAge` (maximum) reaches
      `iterator_age_alarm_threshold` (1 minute): the function is falling behind the stream;
    - the function may read this stream and send to the on-failure queue only (the event
      source grants both).
"""


class StreamSourceOptions(TypedDict, total=False):
    """The event source settings both stream joins take; their defaults are in the docstrings."""

    starting_position: lambda_.StartingPosition
    batch_size: int
    max_batching_window: Duration | None
    bisect_batch_on_error: bool
    report_batch_item_failures: bool
    retry_attempts: int
    max_record_age: Duration
    parallelization_factor: int
    tumbling_window: Duration | None
    iterator_age_alarm_threshold: Duration
    filters: list[dict[str, Any]] | None


class _StreamToFunctionBase(Construct):
    """What both stream joins share; `source` builds the Lambda event source from the props."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        function: lambda_.Function,
        source: Callable[..., lambda_.IEventSource],
        source_name: str,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        batch_size: int = 100,
        max_batching_window: Duration | None = None,
        bisect_batch_on_error: bool = True,
        report_batch_item_failures: bool = True,
        retry_attempts: int = 3,
        max_record_age: Duration = Duration.hours(1),
        parallelization_factor: int = 1,
        tumbling_window: Duration | None = None,
        iterator_age_alarm_threshold: Duration = Duration.minutes(1),
        filters: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        self.dead_letter_queue = DeadLetterQueue(
            self,
            "OnFailureQueue",
            config=config,
            dead_letters_for="a stream event source (its on-failure destination)",
        )
        self.event_source = source(
            starting_position=starting_position,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            bisect_batch_on_error=bisect_batch_on_error,
            report_batch_item_failures=report_batch_item_failures,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            parallelization_factor=parallelization_factor,
            tumbling_window=tumbling_window,
            on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            filters=filters,
        )
        function.add_event_source(self.event_source)
        self.dlq_alarm = self.dead_letter_queue.alarm_on_depth(
            self,
            "OnFailureQueueDepthAlarm",
            alarms=alarms,
            description=f"Batches of {source_name} that {self.node.path} gave up on",
        )
        self.iterator_age_alarm = alarms.alarm_on(
            self,
            "IteratorAgeAlarm",
            metric=function.metric("IteratorAge", statistic="Maximum"),
            threshold=iterator_age_alarm_threshold.to_milliseconds(),
            description=f"{self.node.path} is falling behind {source_name}",
        )


class StreamToFunction(_StreamToFunctionBase):
    __doc__ = (
        """A Kinesis data stream whose records `function` consumes in batches, per shard.
"""
        + _DEFAULTS_DOC
        + """    - `enhanced_fan_out` off: the function shares each shard's 2 MB/s of reads with the
      stream's other consumers (polling GetRecords). On, a registered stream consumer
      (`AWS::Kinesis::StreamConsumer`) gives it a dedicated 2 MB/s per shard pushed over
      HTTP/2, and lower latency, for an hourly charge per consumer and shard.

    Attributes: `stream`, `function`, `event_source`, `dead_letter_queue` (the on-failure
    destination), `dlq_alarm`, `iterator_age_alarm`, `consumer` (the stream consumer with
    `enhanced_fan_out`, else None).
    """
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        stream: kinesis.IStream,
        function: lambda_.Function,
        enhanced_fan_out: bool = False,
        **options: Unpack[StreamSourceOptions],
    ) -> None:
        consumers: list[kinesis.StreamConsumer] = []

        def source(**props: Any) -> lambda_.IEventSource:
            if not enhanced_fan_out:
                return event_sources.KinesisEventSource(stream, **props)
            # Called once this join exists: the consumer is created under it.
            consumer = kinesis.StreamConsumer(
                self,
                "Consumer",
                stream=stream,
                stream_consumer_name=Names.unique_resource_name(self, max_length=128),
            )
            consumers.append(consumer)
            return event_sources.KinesisConsumerEventSource(consumer, **props)

        super().__init__(
            scope,
            construct_id,
            config=config,
            alarms=alarms,
            function=function,
            source=source,
            source_name="the Kinesis stream",
            **options,
        )
        self.stream = stream
        self.consumer = consumers[0] if consumers else None


class TableStreamToFunction(_StreamToFunctionBase):
    __doc__ = (
        """A DynamoDB table's stream whose change records `function` consumes in batches.

    The table must have a stream (`stream=dynamodb.StreamViewType...` on the table).
"""
        + _DEFAULTS_DOC
        + """
    Attributes: `table`, `function`, `event_source`, `dead_letter_queue` (the on-failure
    destination), `dlq_alarm`, `iterator_age_alarm`.
    """
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        table: dynamodb.ITable,
        function: lambda_.Function,
        **options: Unpack[StreamSourceOptions],
    ) -> None:
        if not table.table_stream_arn:
            raise ValueError(
                f"table {table.node.path} has no stream: create it with stream=StreamViewType..."
            )

        def source(**props: Any) -> lambda_.IEventSource:
            return event_sources.DynamoEventSource(table, **props)

        super().__init__(
            scope,
            construct_id,
            config=config,
            alarms=alarms,
            function=function,
            source=source,
            source_name="the table's stream",
            **options,
        )
        self.table = table
