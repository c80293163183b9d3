"""Pub-sub: a publisher fans events out through one SNS topic to filtered subscriber queues."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import AppConfig
from infra.constructs import (
    AlarmTopic,
    EncryptedTopic,
    PythonFunction,
    QueueSubscription,
    QueueToFunction,
    Table,
    TopicToQueues,
)
from pub_sub.contract import (
    ENV_IDEMPOTENCY_TABLE_NAME,
    ENV_LEDGER_TABLE_NAME,
    ENV_SUBSCRIBER_NAME,
    ENV_TOPIC_ARN,
    EVENT_TYPE_ATTRIBUTE,
    EVENTS_NOT_PUBLISHED_METRIC,
    PUBLISHER_HANDLER,
    PUBLISHER_SERVICE_NAME,
    SUBSCRIBER_HANDLER,
    EventType,
    SubscriberName,
    subscriber_id,
    subscriber_service_name,
)

PATTERN = "pub_sub"


@dataclass(frozen=True, kw_only=True)
class Subscriber:
    """One subscriber: its filter policy decides which share of the topic's events it gets.

    `attribute_filter` matches SNS message attributes; `body_filter` matches the JSON message
    body (`FilterPolicyScope: MessageBody`). Exactly one of the two is set.
    """

    name: SubscriberName
    description: str
    attribute_filter: dict[str, sns.SubscriptionFilter] | None = None
    body_filter: dict[str, sns.FilterOrPolicy] | None = None
    raw_message_delivery: bool = False

    def __post_init__(self) -> None:
        if (self.attribute_filter is None) == (self.body_filter is None):
            raise ValueError(f"subscriber {self.name!r} needs exactly one filter policy")


def _event_types(*event_types: EventType) -> list[str]:
    return [event_type.value for event_type in event_types]


#: The default subscribers, one per `SubscriberName` the functions have effects for.
DEFAULT_SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        name=SubscriberName.FULFILMENT,
        description="Reserves and releases stock for placed and cancelled orders",
        attribute_filter={
            EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(
                allowlist=_event_types(EventType.ORDER_PLACED, EventType.ORDER_CANCELLED)
            )
        },
    ),
    Subscriber(
        name=SubscriberName.NOTIFICATIONS,
        description="Tells customers that their order shipped or was cancelled",
        attribute_filter={
            EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(
                allowlist=_event_types(EventType.ORDER_SHIPPED, EventType.ORDER_CANCELLED)
            )
        },
        raw_message_delivery=True,
    ),
    Subscriber(
        name=SubscriberName.FRAUD_REVIEW,
        description="Reviews every placed order worth 1000 or more",
        body_filter={
            "event_type": sns.FilterOrPolicy.filter(
                sns.SubscriptionFilter.string_filter(allowlist=_event_types(EventType.ORDER_PLACED))
            ),
            "amount": sns.FilterOrPolicy.filter(
                sns.SubscriptionFilter.numeric_filter(greater_than_or_equal_to=1000)
            ),
        },
    ),
)


#: Powertools publishes the publisher's metrics under this namespace with a `service` dimension.
PUBLISHER_METRICS_NAMESPACE = "ServerlessPatterns"


class SubscriberPipeline(Construct):
    """One subscriber's queue (+ DLQ) feeding its consumer function, partial batch responses on.

    Attributes: `consumer` (a `PythonFunction`), `inbox` (a `QueueToFunction`: `queue`,
    `dead_letter_queue`, `dlq_alarm`), `subscriber`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        subscriber: Subscriber,
        ledger_table_name: str,
        idempotency_table_name: str,
        batch_size: int,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.subscriber = subscriber
        self.consumer = PythonFunction(
            self,
            "Consumer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=SUBSCRIBER_HANDLER,
            description=subscriber.description,
            service_name=subscriber_service_name(subscriber.name),
            timeout=Duration.seconds(30),
            environment={
                ENV_SUBSCRIBER_NAME: subscriber.name.value,
                ENV_LEDGER_TABLE_NAME: ledger_table_name,
                ENV_IDEMPOTENCY_TABLE_NAME: idempotency_table_name,
            },
        )
        self.inbox = QueueToFunction(
            self,
            "Inbox",
            config=config,
            alarms=alarms,
            function=self.consumer.function,
            batch_size=batch_size,
            max_receive_count=max_receive_count,
        )

    def subscription(self) -> QueueSubscription:
        """How this pipeline's queue subscribes to the topic."""
        return QueueSubscription(
            queue=self.inbox.queue,
            attribute_filter=self.subscriber.attribute_filter,
            body_filter=self.subscriber.body_filter,
            raw_message_delivery=self.subscriber.raw_message_delivery,
        )


class PubSub(Construct):
    """Publisher function -> encrypted SNS topic -> one filtered pipeline per subscriber.

    Defaults:
    - the topic is an `EncryptedTopic` (customer-managed KMS key with rotation, TLS only);
    - `DEFAULT_SUBSCRIBERS` (three: two attribute filters, one message-body filter, one with
      raw delivery); pass `subscribers=` to define your own;
    - consumers take batches of `batch_size` (10) and report partial batch failures; a message
      that fails `max_receive_count` (5) times moves to its subscriber's DLQ;
    - consumers record their effects in a ledger table, deduplicated through a Powertools
      idempotency table shared by all subscribers (its keys carry the function name).

    Attributes: `topic`, `topic_key`, `publisher`, `ledger_table`, `idempotency_table`,
    `pipelines` (subscriber name -> `SubscriberPipeline`), `fan_out` (a `TopicToQueues`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        subscribers: tuple[Subscriber, ...] = DEFAULT_SUBSCRIBERS,
        batch_size: int = 10,
        max_receive_count: int = 5,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = EncryptedTopic(
            self, "Topic", config=config, key_description="Encrypts the pub-sub events topic"
        )
        self.topic_key = self.topic.key
        self.ledger_table = Table(
            self, "LedgerTable", config=config, partition_key_name="pk", sort_key_name="sk"
        ).table
        self.idempotency_table = Table.for_idempotency(
            self, "IdempotencyTable", config=config
        ).table

        self.publisher = PythonFunction(
            self,
            "Publisher",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PUBLISHER_HANDLER,
            description="Publishes a list of order events to the topic, ten per call",
            service_name=PUBLISHER_SERVICE_NAME,
            metrics_namespace=PUBLISHER_METRICS_NAMESPACE,
            environment={ENV_TOPIC_ARN: self.topic.topic_arn},
        )
        self.topic.grant_publish(self.publisher.function)

        # A PublishBatch can reject some entries while the invocation succeeds, so the
        # function's errors alarm would miss them; the publisher counts them in a metric.
        self.publisher.alarm_on_count(
            "EventsNotPublishedAlarm",
            metric_name=EVENTS_NOT_PUBLISHED_METRIC,
            description="The publisher could not publish some events to the topic",
        )

        self.pipelines: dict[SubscriberName, SubscriberPipeline] = {}
        for subscriber in subscribers:
            pipeline = SubscriberPipeline(
                self,
                subscriber_id(subscriber.name),
                config=config,
                alarms=alarms,
                subscriber=subscriber,
                ledger_table_name=self.ledger_table.table_name,
                idempotency_table_name=self.idempotency_table.table_name,
                batch_size=batch_size,
                max_receive_count=max_receive_count,
            )
            self.ledger_table.grant_read_write_data(pipeline.consumer.function)
            self.idempotency_table.grant_read_write_data(pipeline.consumer.function)
            self.pipelines[subscriber.name] = pipeline
        self.fan_out = TopicToQueues(
            self,
            "FanOut",
            topic=self.topic,
            queues={name: pipeline.subscription() for name, pipeline in self.pipelines.items()},
        )
