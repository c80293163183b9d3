"""boto3 adapters of the pub-sub pattern: the topic and the ledger table.

Every adapter is built on first use through `shared.aws`'s cached clients, never at import
time, so tests can point them at moto or swap them for fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from shared import aws
from shared.cache import cached

from pub_sub.contract import EVENT_TYPE_ATTRIBUTE
from pub_sub.errors import PublishBatchRefusedError
from pub_sub.models import BatchOutcome, EntryFailure, LedgerUpdate, PublishEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sns.client import SNSClient


def sns_client() -> SNSClient:
    return aws.client("sns")


def dynamodb_client() -> DynamoDBClient:
    return aws.client("dynamodb")


class Topic:
    """The SNS topic the publisher writes to, ten entries per PublishBatch call."""

    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def publish_batch(self, entries: Sequence[PublishEntry]) -> BatchOutcome:
        """Publish up to ten entries; SNS's per-entry `Failed` list comes back, not raised."""
        try:
            response = self._client.publish_batch(
                TopicArn=self.topic_arn,
                PublishBatchRequestEntries=[_batch_entry(entry) for entry in entries],
            )
        except ClientError as error:
            raise PublishBatchRefusedError(
                error.response.get("Error", {}).get("Message", str(error)),
                code=error.response.get("Error", {}).get("Code", "Unknown"),
            ) from error
        except BotoCoreError as error:
            raise PublishBatchRefusedError(str(error), code=type(error).__name__) from error
        return BatchOutcome(
            message_ids={ok["Id"]: ok["MessageId"] for ok in response.get("Successful", [])},
            failures=[
                EntryFailure(
                    entry_id=failed["Id"],
                    code=failed["Code"],
                    message=failed.get("Message", ""),
                    sender_fault=failed["SenderFault"],
                )
                for failed in response.get("Failed", [])
            ],
        )


def _batch_entry(entry: PublishEntry) -> dict[str, Any]:
    return {
        "Id": entry.entry_id,
        "Message": entry.event.to_message(),
        # The attribute-scoped filter policies (fulfilment, notifications) match on this.
        "MessageAttributes": {
            EVENT_TYPE_ATTRIBUTE: {
                "DataType": "String",
                "StringValue": entry.event.event_type.value,
            }
        },
    }


@cached
def topic(topic_arn: str) -> Topic:
    return Topic(sns_client(), topic_arn)


class Ledger:
    """The ledger table (`pk`, `sk`) where subscribers record their effects."""

    _serializer = TypeSerializer()

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def apply(self, updates: Sequence[LedgerUpdate]) -> None:
        """Apply all `updates` in one transaction, so an effect is never left half-written."""
        self._client.transact_write_items(
            TransactItems=[{"Update": self._update(update)} for update in updates]
        )

    def _update(self, update: LedgerUpdate) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses: list[str] = []
        for verb, attributes, separator in (("ADD", update.add, " "), ("SET", update.set, " = ")):
            parts = []
            for attribute, value in attributes.items():
                token = f"{verb[0].lower()}{len(names)}"
                names[f"#{token}"] = attribute
                values[f":{token}"] = self._serializer.serialize(value)
                parts.append(f"#{token}{separator}:{token}")
            if parts:
                clauses.append(f"{verb} {', '.join(parts)}")
        return {
            "TableName": self.table_name,
            "Key": {"pk": {"S": update.pk}, "sk": {"S": update.sk}},
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


@cached
def ledger(table_name: str) -> Ledger:
    return Ledger(dynamodb_client(), table_name)
