"""boto3 adapters of the batching pattern: the queues and the items table.

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

from batching.contract import (
    FAILURE_KIND_ATTRIBUTE,
    FAILURE_REASON_ATTRIBUTE,
    SOURCE_MESSAGE_ID_ATTRIBUTE,
)
from batching.errors import ItemNotWrittenError, SendBatchRefusedError
from batching.models import Item, ItemFailure, OutgoingMessage, SendFailure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sqs.client import SQSClient

#: SQS keeps a message attribute value to 256 KiB with the body; a reason is a sentence or a
#: list of field errors, and a short one keeps the DLQ readable.
MAX_REASON_LENGTH = 1024


def sqs_client() -> SQSClient:
    return aws.client("sqs")


def dynamodb_client() -> DynamoDBClient:
    return aws.client("dynamodb")


def _error_message(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Message", str(error))
    return str(error)


def _error_code(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "Unknown")
    return type(error).__name__


class Queue:
    """An SQS queue the functions send to, ten entries per SendMessageBatch call."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendFailure]:
        """Send up to ten messages, each with its tenant as `MessageGroupId` (a fair queue's
        group on a standard queue); SQS's per-entry `Failed` list comes back, not raised."""
        response = self._send(
            [
                {
                    "Id": message.entry_id,
                    "MessageBody": message.body,
                    "MessageGroupId": message.group_id,
                }
                for message in messages
            ]
        )
        return [
            SendFailure(
                entry_id=failed["Id"],
                code=failed["Code"],
                message=failed.get("Message", ""),
                sender_fault=failed["SenderFault"],
            )
            for failed in response.get("Failed", [])
        ]

    def dead_letter(self, failures: Sequence[ItemFailure], bodies: dict[str, str]) -> set[str]:
        """Send each failed record's body here with its reason as message attributes; returns
        the message ids sent (a record that could not be sent is retried by SQS instead)."""
        entries = {f"dl-{index}": failure for index, failure in enumerate(failures)}
        response = self._send(
            [
                {
                    "Id": entry_id,
                    "MessageBody": bodies[failure.message_id],
                    "MessageAttributes": {
                        FAILURE_KIND_ATTRIBUTE: {"DataType": "String", "StringValue": failure.kind},
                        FAILURE_REASON_ATTRIBUTE: {
                            "DataType": "String",
                            "StringValue": failure.reason[:MAX_REASON_LENGTH],
                        },
                        SOURCE_MESSAGE_ID_ATTRIBUTE: {
                            "DataType": "String",
                            "StringValue": failure.message_id,
                        },
                    },
                }
                for entry_id, failure in entries.items()
            ]
        )
        return {entries[ok["Id"]].message_id for ok in response.get("Successful", [])}

    def _send(self, entries: list[dict[str, Any]]) -> Any:
        try:
            return self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            raise SendBatchRefusedError(str(error), code=_error_code(error)) from error


@cached
def queue(queue_url: str) -> Queue:
    return Queue(sqs_client(), queue_url)


class ItemsTable:
    """The items table (`pk`, `sk`), written 25 items per BatchWriteItem call."""

    _serializer = TypeSerializer()

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def batch_write(self, items: Sequence[Item]) -> list[Item]:
        """Put up to 25 items in one call; returns the items DynamoDB left unprocessed."""
        by_key = {(item.key["pk"], item.key["sk"]): item for item in items}
        try:
            response = self._client.batch_write_item(
                RequestItems={
                    self.table_name: [
                        {"PutRequest": {"Item": self._serialize(item.to_attributes())}}
                        for item in items
                    ]
                }
            )
        except (ClientError, BotoCoreError) as error:
            raise ItemNotWrittenError(
                f"BatchWriteItem failed: {_error_code(error)}: {_error_message(error)}"
            ) from error
        unprocessed = response.get("UnprocessedItems", {}).get(self.table_name, [])
        return [
            by_key[
                (request["PutRequest"]["Item"]["pk"]["S"], request["PutRequest"]["Item"]["sk"]["S"])
            ]
            for request in unprocessed
        ]

    def _serialize(self, attributes: dict[str, Any]) -> dict[str, Any]:
        return {name: self._serializer.serialize(value) for name, value in attributes.items()}


@cached
def items_table(table_name: str) -> ItemsTable:
    return ItemsTable(dynamodb_client(), table_name)
