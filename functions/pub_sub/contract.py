"""Names the pub-sub stack and its functions share: each is written here and nowhere else.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `pub_sub/`.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """The event types on the topic; the subscriptions' filter policies select on these."""

    ORDER_PLACED = "order_placed"
    ORDER_SHIPPED = "order_shipped"
    ORDER_CANCELLED = "order_cancelled"


class SubscriberName(StrEnum):
    """The subscribers the stack defines; a consumer reads its own from `ENV_SUBSCRIBER_NAME`."""

    FULFILMENT = "fulfilment"
    NOTIFICATIONS = "notifications"
    FRAUD_REVIEW = "fraud_review"


#: The SNS message attribute the publisher sets and attribute-scoped filter policies match.
EVENT_TYPE_ATTRIBUTE = "event_type"

# Handlers, as Lambda resolves them from the asset root.
PUBLISHER_HANDLER = "pub_sub.publisher.handler"
SUBSCRIBER_HANDLER = "pub_sub.subscriber.handler"

# Environment variables the stack sets and the functions read.
ENV_TOPIC_ARN = "TOPIC_ARN"
ENV_SUBSCRIBER_NAME = "SUBSCRIBER_NAME"
ENV_LEDGER_TABLE_NAME = "LEDGER_TABLE_NAME"
ENV_IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"

#: Powertools' `service` of the publisher: the dimension of its metrics.
PUBLISHER_SERVICE_NAME = "pub_sub-publisher"
#: The publisher's count of entries SNS did not accept; the stack alarms on it.
EVENTS_NOT_PUBLISHED_METRIC = "EventsNotPublished"

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_TOPIC_ARN = "TopicArn"
OUTPUT_PUBLISHER_FUNCTION_NAME = "PublisherFunctionName"
OUTPUT_LEDGER_TABLE_NAME = "LedgerTableName"


def subscriber_service_name(subscriber: SubscriberName) -> str:
    """Powertools' `service` of one subscriber's consumer: `pub_sub-fraud_review`."""
    return f"pub_sub-{subscriber.value}"


def subscriber_id(subscriber: SubscriberName) -> str:
    """`fraud_review` -> `FraudReview`: the subscriber's construct id and output prefix."""
    return "".join(part.capitalize() for part in subscriber.value.split("_"))


def output_queue_url(subscriber: SubscriberName) -> str:
    """The output holding the URL of `subscriber`'s queue: `FraudReviewQueueUrl`."""
    return f"{subscriber_id(subscriber)}QueueUrl"


def output_dead_letter_queue_url(subscriber: SubscriberName) -> str:
    """The output holding the URL of `subscriber`'s DLQ: `FraudReviewDeadLetterQueueUrl`."""
    return f"{subscriber_id(subscriber)}DeadLetterQueueUrl"
