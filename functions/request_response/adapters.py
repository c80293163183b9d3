"""DynamoDB adapter of the items API: the only module that talks to the items table."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from shared import aws
from shared.cache import cached

from request_response.errors import ItemNotFoundError, StorageUnavailableError
from request_response.logic import ItemChange, rejected_write_error
from request_response.models import Item, timestamp_text
from request_response.settings import api_settings

#: Errors that mean "try again later" once the SDK's own retries are spent.
_TRANSIENT_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def is_transient(error: BaseException | None) -> bool:
    """Whether `error` is a DynamoDB refusal that a later retry may get past (throttling)."""
    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") in _TRANSIENT_ERRORS
    )


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _to_item(attributes: dict[str, Any]) -> Item:
    # The resource API returns numbers as Decimal; pydantic turns whole Decimals into int.
    return Item.model_validate(attributes)


def _to_attributes(item: Item) -> dict[str, Any]:
    attributes = item.model_dump(mode="json")
    if attributes["description"] is None:
        del attributes["description"]
    return attributes


class ItemStore:
    """Items in a DynamoDB table keyed by `id`, with optimistic locking on `version`."""

    def __init__(self, table: Any) -> None:
        """`table` is a boto3 DynamoDB `Table` resource."""
        self._table = table

    def put_new(self, item: Item) -> None:
        """Store a new item; the condition guards against the (theoretical) reuse of an id."""
        try:
            self._table.put_item(
                Item=_to_attributes(item), ConditionExpression="attribute_not_exists(id)"
            )
        except ClientError as error:
            if is_transient(error):
                raise StorageUnavailableError from error
            raise

    def get(self, item_id: str) -> Item:
        """The item with this id; raises `ItemNotFoundError`."""
        try:
            response = self._table.get_item(Key={"id": item_id}, ConsistentRead=True)
        except ClientError as error:
            if is_transient(error):
                raise StorageUnavailableError from error
            raise
        if "Item" not in response:
            raise ItemNotFoundError(item_id)
        return _to_item(response["Item"])

    def list_page(
        self, *, limit: int, start_key: dict[str, Any] | None
    ) -> tuple[list[Item], dict[str, Any] | None]:
        """Up to `limit` items after `start_key`, and the key to continue from (None at the end).

        A Scan in table order: fine for a sample catalogue; a real listing by some order needs
        a GSI and a Query (see the docs page).
        """
        kwargs: dict[str, Any] = {"Limit": limit}
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        try:
            response = self._table.scan(**kwargs)
        except ClientError as error:
            if is_transient(error):
                raise StorageUnavailableError from error
            raise
        return [_to_item(raw) for raw in response.get("Items", [])], response.get(
            "LastEvaluatedKey"
        )

    def replace(self, change: ItemChange) -> Item:
        """Apply `change` only if the stored item is at `change.expected_version`.

        Raises `ItemNotFoundError` or `VersionConflictError` (the stored item is untouched).
        """
        names = {"#name": "name", "#version": "version"}
        values: dict[str, Any] = {
            ":name": change.name,
            ":quantity": change.quantity,
            ":expected": change.expected_version,
            ":new": change.new_version,
            ":updated_at": timestamp_text(change.updated_at),
        }
        update = (
            "SET #name = :name, quantity = :quantity, #version = :new, updated_at = :updated_at"
        )
        if change.description is None:
            update += " REMOVE description"
        else:
            update += ", description = :description"
            values[":description"] = change.description
        try:
            response = self._table.update_item(
                Key={"id": change.item_id},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(id) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                stored = error.response.get("Item")
                raise rejected_write_error(
                    change.item_id,
                    stored_version=int(stored["version"]["N"]) if stored else None,
                    expected_version=change.expected_version,
                ) from error
            if is_transient(error):
                raise StorageUnavailableError from error
            raise
        return _to_item(response["Attributes"])

    def delete(self, item_id: str) -> None:
        """Delete the item; raises `ItemNotFoundError` if there is none."""
        try:
            self._table.delete_item(Key={"id": item_id}, ConditionExpression="attribute_exists(id)")
        except ClientError as error:
            if _is_condition_failure(error):
                raise ItemNotFoundError(item_id) from error
            if is_transient(error):
                raise StorageUnavailableError from error
            raise


@cached
def item_store() -> ItemStore:
    """The store over this function's items table (its name from the settings)."""
    return ItemStore(aws.resource("dynamodb").Table(api_settings().table_name))
