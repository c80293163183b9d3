"""boto3 adapters of the API gateway pattern: the key set's parameter and the two tables.

Every adapter is built on first use through `shared.aws`'s cached clients, never at import
time, so tests can point them at moto or swap them for fakes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared import aws
from shared.cache import cached

from api_gateway.contract import FAILURE_REASON_ATTRIBUTE, SOURCE_MESSAGE_ID_ATTRIBUTE
from api_gateway.models import Feedback, Order

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: SQS keeps an attribute to 256 KiB with the body; a short reason keeps the DLQ readable.
MAX_REASON_LENGTH = 1024


def dynamodb_client() -> DynamoDBClient:
    return aws.client("dynamodb")


def read_key_set(parameter_name: str, *, max_age_seconds: int) -> dict[str, Any]:
    """The issuer's public key set from its SSM parameter, kept `max_age_seconds` per environment.

    Powertools' parameters utility holds the value between invocations, so a rotated key set
    reaches the authorizer within `max_age_seconds` without a call per request.
    """
    text = _parameter_provider().get(parameter_name, max_age=max_age_seconds)
    return json.loads(str(text))


@cached
def _parameter_provider() -> Any:
    # Imported on first use: the parameters utility is only the authorizer's.
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=aws.client("ssm"))


class OrdersTable:
    """Orders by id; an order is written once (a retried create reads it back)."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def put_new(self, order: Order) -> Order | None:
        """Store `order` unless its id exists; returns the stored one when it did (a retry)."""
        client = dynamodb_client()
        try:
            client.put_item(
                TableName=self._table_name,
                Item={
                    "order_id": {"S": order.order_id},
                    "customer": {"S": order.customer},
                    "item_id": {"S": order.item_id},
                    "quantity": {"N": str(order.quantity)},
                    "total": {"N": str(order.total)},
                },
                ConditionExpression="attribute_not_exists(order_id)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return self.get(order.order_id)
        return None

    def get(self, order_id: str) -> Order | None:
        item = (
            dynamodb_client()
            .get_item(
                TableName=self._table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True
            )
            .get("Item")
        )
        if item is None:
            return None
        return Order(
            order_id=item["order_id"]["S"],
            customer=item["customer"]["S"],
            item_id=item["item_id"]["S"],
            quantity=int(item["quantity"]["N"]),
            total=Decimal(item["total"]["N"]),
        )


class FeedbackTable:
    """Feedback by id (the API request's id): a redelivered message writes nothing new."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def put_once(self, feedback: Feedback) -> bool:
        """Store `feedback`; False when it was already stored (SQS delivers at least once)."""
        client = dynamodb_client()
        try:
            client.put_item(
                TableName=self._table_name,
                Item={
                    "feedback_id": {"S": feedback.feedback_id},
                    "customer": {"S": feedback.customer},
                    "rating": {"N": str(feedback.rating)},
                    "comment": {"S": feedback.comment},
                    "received_at_ms": {"N": str(feedback.received_at_ms)},
                },
                ConditionExpression="attribute_not_exists(feedback_id)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def dead_letter(queue_url: str, *, body: str, reason: str, source_message_id: str) -> None:
    """Put a failed message on the dead-letter queue with why it failed."""
    aws.client("sqs").send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        MessageAttributes={
            FAILURE_REASON_ATTRIBUTE: {
                "DataType": "String",
                "StringValue": reason[:MAX_REASON_LENGTH] or "unknown",
            },
            SOURCE_MESSAGE_ID_ATTRIBUTE: {"DataType": "String", "StringValue": source_message_id},
        },
    )


@cached
def orders_table(table_name: str) -> OrdersTable:
    return OrdersTable(table_name)


@cached
def feedback_table(table_name: str) -> FeedbackTable:
    return FeedbackTable(table_name)
