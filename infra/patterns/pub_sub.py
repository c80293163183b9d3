"""Pub-sub: a publisher fans events out through one SNS topic to filtered subscriber queues."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import AppConfig
from infra.constructs import AlarmTopic, PythonFunction, QueueWithDlq, Table


@dataclass(frozen=True, kw_only=True)
class Subscriber:
    """One subscriber: its filter policy decides which share of the topic's events it gets.

    `attribute_filter` matches SNS message attributes; `body_filter` matches the JSON message
    body (`FilterPolicyScope: MessageBody`). Exactly one of the two is set.
    """

    name: str
    description: str
    attribute_filter: dict[str, sns.SubscriptionFilter] | None = None
    body_filter: dict[str, sns.FilterOrPolicy] | None = None
    raw_message_delivery: bool = False

    def __post_init__(self) -> None:
        if (self.attribute_filter is None) == (self.body_filter is None):
            raise ValueError(f"subscriber {self.name!r} needs exactly one filter policy")


#: The default subscribers: event types are those `pub_sub.models.EventType` defines.
DEFAULT_SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        name="fulfilment",
        description="Reserves and releases stock for placed and cancelled orders",
        attribute_filter={
            "event_type": sns.SubscriptionFilter.string_filter(
                allowlist=["order_placed", "order_cancelled"]
            )
        },
    ),
    Subscriber(
        name="notifications",
        description="Tells customers that their order shipped or was cancelled",
        attribute_filter={
            "event_type": sns.SubscriptionFilter.string_filter(
                allowlist=["order_shipped", "order_cancelled"]
            )
        },
        raw_message_delivery=True,
    ),
    Subscriber(
        name="fraud_review",
        description="Reviews every placed order worth 1000 or more",
        body_filter={
            "event_type": sns.FilterOrPolicy.filter(
                sns.SubscriptionFilter.string_filter(allowlist=["order_placed"])
            ),
            "amount": sns.FilterOrPolicy.filter(
                sns.SubscriptionFilter.numeric_filter(greater_than_or_equal_to=1000)
            ),
        },
    ),
)


#: Powertools publishes the publisher's metrics under this namespace with a `service` dimension.
PUBLISHER_SERVICE_NAME = "pub_sub-publisher"
PUBLISHER_METRICS_NAMESPACE = "ServerlessPatterns"


class SubscriberPipeline(Construct):
    """Topic subscription -> queue (+ DLQ) -> consumer function with partial batch responses.

    Attributes: `queue` (a `QueueWithDlq`), `consumer` (a `PythonFunction`), `subscription`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        topic: sns.ITopic,
        subscriber: Subscriber,
        ledger_table_name: str,
        idempotency_table_name: str,
        batch_size: int,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        consumer_timeout = Duration.seconds(30)
        self.consumer = PythonFunction(
            self,
            "Consumer",
            config=config,
            alarms=alarms,
            pattern="pub_sub",
            handler="pub_sub.subscriber.handler",
            description=subscriber.description,
            service_name=f"pub_sub-{subscriber.name}",
            timeout=consumer_timeout,
            environment={
                "SUBSCRIBER_NAME": subscriber.name,
                "LEDGER_TABLE_NAME": ledger_table_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table_name,
            },
        )
        self.queue = QueueWithDlq(
            self,
            "Inbox",
            config=config,
            alarms=alarms,
            max_receive_count=max_receive_count,
            # AWS advises six times the consumer's timeout, so a slow batch is not redelivered
            # while it is still being processed.
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * 6),
        )
        self.subscription = topic.add_subscription(
            subscriptions.SqsSubscription(
                self.queue.queue,
                raw_message_delivery=subscriber.raw_message_delivery,
                filter_policy=subscriber.attribute_filter,
                filter_policy_with_message_body=subscriber.body_filter,
            )
        )
        self.consumer.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue.queue,
                batch_size=batch_size,
                report_batch_item_failures=True,
            )
        )


class PubSub(Construct):
    """Publisher function -> encrypted SNS topic -> one filtered pipeline per subscriber.

    Defaults:
    - the topic is encrypted with a customer-managed KMS key (rotation on) and TLS-only;
    - `DEFAULT_SUBSCRIBERS` (three: two attribute filters, one message-body filter, one with
      raw delivery); pass `subscribers=` to define your own;
    - consumers take batches of `batch_size` (10) and report partial batch failures; a message
      that fails `max_receive_count` (5) times moves to its subscriber's DLQ;
    - consumers record their effects in a ledger table, deduplicated through a Powertools
      idempotency table shared by all subscribers (its keys carry the function name).

    Attributes: `topic`, `topic_key`, `publisher`, `ledger_table`, `idempotency_table`,
    `pipelines` (subscriber name -> `SubscriberPipeline`).
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
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the pub-sub events topic",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
        )
        self.topic = sns.Topic(self, "Topic", master_key=self.topic_key, enforce_ssl=True)
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
            pattern="pub_sub",
            handler="pub_sub.publisher.handler",
            description="Publishes a list of order events to the topic, ten per call",
            service_name=PUBLISHER_SERVICE_NAME,
            metrics_namespace=PUBLISHER_METRICS_NAMESPACE,
            environment={"TOPIC_ARN": self.topic.topic_arn},
        )
        self.topic.grant_publish(self.publisher.function)
        Validations.of(self.publisher.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                reason="grant_publish lets the publisher encrypt for the topic: "
                "GenerateDataKey* is scoped to the topic's own key, not to '*'.",
            )
        )

        # A PublishBatch can reject some entries while the invocation succeeds, so the
        # function's errors alarm would miss them; the publisher counts them in a metric.
        alarms.alarm_on(
            self,
            "EventsNotPublishedAlarm",
            metric=cloudwatch.Metric(
                namespace=PUBLISHER_METRICS_NAMESPACE,
                metric_name="EventsNotPublished",
                dimensions_map={"service": PUBLISHER_SERVICE_NAME},
                statistic="Sum",
            ),
            description="The publisher could not publish some events to the topic",
        )

        self.pipelines: dict[str, SubscriberPipeline] = {}
        for subscriber in subscribers:
            pipeline = SubscriberPipeline(
                self,
                _construct_id(subscriber.name),
                config=config,
                alarms=alarms,
                topic=self.topic,
                subscriber=subscriber,
                ledger_table_name=self.ledger_table.table_name,
                idempotency_table_name=self.idempotency_table.table_name,
                batch_size=batch_size,
                max_receive_count=max_receive_count,
            )
            self.ledger_table.grant_read_write_data(pipeline.consumer.function)
            self.idempotency_table.grant_read_write_data(pipeline.consumer.function)
            self.pipelines[subscriber.name] = pipeline


def _construct_id(name: str) -> str:
    """`fraud_review` -> `FraudReview`: construct ids in the project's PascalCase."""
    return "".join(part.capitalize() for part in name.split("_"))
