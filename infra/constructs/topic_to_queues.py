"""A topic feeding queues: one SQS subscription per queue, each with its own filter policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class QueueSubscription:
    """What one queue takes from the topic, and in which shape.

    `attribute_filter` matches SNS message attributes; `body_filter` matches the JSON message
    body (`FilterPolicyScope: MessageBody`); with neither the queue gets every message. With
    `raw_message_delivery` the queue gets the message itself rather than SNS's envelope.
    `dead_letter_queue` keeps what SNS could not deliver to the queue (none by default).
    """

    queue: sqs.IQueue
    attribute_filter: Mapping[str, sns.SubscriptionFilter] | None = None
    body_filter: Mapping[str, sns.FilterOrPolicy] | None = None
    raw_message_delivery: bool = False
    dead_letter_queue: sqs.IQueue | None = None

    def __post_init__(self) -> None:
        if self.attribute_filter is not None and self.body_filter is not None:
            raise ValueError("a subscription filters on attributes or on the body, not both")


class TopicToQueues(Construct):
    """`topic` fanned out to queues, each subscription keyed by a name of the caller's choice.

    Defaults:
    - SNS's default delivery (the SNS envelope) unless `raw_message_delivery`;
    - no filter policy unless one is given (an attribute or a message-body filter);
    - each queue's policy lets only this topic send to it (`aws:SourceArn`), and a queue
      encrypted with a customer-managed key lets SNS use that key;
    - no subscription DLQ unless `dead_letter_queue` is given.

    Attributes: `topic`, `subscriptions` (name -> `sns.Subscription`). CDK places each
    subscription under its queue, so moving a subscription here keeps its logical id.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        queues: Mapping[str, QueueSubscription],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = topic
        self.subscriptions: dict[str, sns.Subscription] = {
            name: topic.add_subscription(
                subscriptions.SqsSubscription(
                    subscription.queue,
                    raw_message_delivery=subscription.raw_message_delivery,
                    filter_policy=dict(subscription.attribute_filter)
                    if subscription.attribute_filter is not None
                    else None,
                    filter_policy_with_message_body=dict(subscription.body_filter)
                    if subscription.body_filter is not None
                    else None,
                    dead_letter_queue=subscription.dead_letter_queue,
                )
            )
            for name, subscription in queues.items()
        }
