"""boto3 adapters of the account ledger: the event store (events, heads and command records in
one table, snapshots in another) and the read models the projector and the rebuilder write.

Every adapter is built on first use through `shared.aws`'s cached clients, never at import
time, so tests can point them at moto.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from shared import aws
from shared.cache import cached

from event_sourcing import logic
from event_sourcing.contract import (
    COMMAND_PARTITION_PREFIX,
    HEAD_SORT_KEY,
    KIND_ATTRIBUTE,
    KIND_COMMAND,
    KIND_EVENT,
    KIND_HEAD,
    STORE_PARTITION_KEY,
    STORE_SORT_KEY,
)
from event_sourcing.errors import ProjectionConflictError, VersionConflictError
from event_sourcing.models import Account, AppendPlan, CommandRecord, Loaded, StoredEvent

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()

#: The key of the read-model tables (the live projection and a rebuild's target).
READ_MODEL_KEY = "account_id"


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as the ints (or floats) they were written as, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in item.items() if value is not None}


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return plain({key: _DESERIALIZER.deserialize(value) for key, value in attributes.items()})


def event_item(event: StoredEvent) -> dict[str, Any]:
    """An event as the store keeps it (plain values; `to_attributes` makes it DynamoDB's)."""
    return {
        STORE_PARTITION_KEY: event.account_id,
        STORE_SORT_KEY: event.version,
        KIND_ATTRIBUTE: KIND_EVENT,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "recorded_at": event.recorded_at,
        "command_id": event.command_id,
    }


def stored_event(item: dict[str, Any]) -> StoredEvent:
    """The event an item of the store (plain values) holds, in the schema it was written in."""
    return StoredEvent(
        account_id=str(item[STORE_PARTITION_KEY]),
        version=int(item[STORE_SORT_KEY]),
        type=str(item["type"]),
        schema_version=int(item["schema_version"]),
        data=dict(item.get("data") or {}),
        recorded_at=str(item["recorded_at"]),
        command_id=str(item["command_id"]),
    )


def command_key(command_id: str) -> dict[str, Any]:
    return {
        STORE_PARTITION_KEY: COMMAND_PARTITION_PREFIX + command_id,
        STORE_SORT_KEY: HEAD_SORT_KEY,
    }


class CommandAlreadyAppliedError(Exception):
    """The transaction found the command's record: the command was applied before."""

    def __init__(self, record: CommandRecord) -> None:
        super().__init__(record.command_id)
        self.record = record


def _command_record(item: dict[str, Any]) -> CommandRecord:
    return CommandRecord(
        command_id=str(item[STORE_PARTITION_KEY]).removeprefix(COMMAND_PARTITION_PREFIX),
        account_id=str(item["account_id"]),
        fingerprint=str(item["fingerprint"]),
        versions=tuple(int(v) for v in item["versions"]),
        events=tuple(json.loads(item["events"])),
    )


class EventStore:
    """Events of accounts, appended atomically with optimistic concurrency, and read back as
    state (from the latest snapshot), as state at a version or time, or as history."""

    def __init__(self, client: Any, *, events_table: str, snapshots_table: str) -> None:
        self._client = client
        self.events_table = events_table
        self.snapshots_table = snapshots_table

    # --- writing ------------------------------------------------------------------------

    def append(self, plan: AppendPlan) -> None:
        """Write `plan` in one TransactWriteItems: all of it or nothing.

        The head's condition (`version` still `plan.expected_version`) makes concurrent
        writers of one account take turns: exactly one wins each version, and a loser gets
        `VersionConflictError` with the version it lost to (DynamoDB returns the head it
        found: `ReturnValuesOnConditionCheckFailure`). The command record's condition makes
        a command id count once: `CommandAlreadyAppliedError` carries what it did.
        """
        head_condition: dict[str, Any]
        if plan.expected_version == 0:
            head_condition = {"ConditionExpression": f"attribute_not_exists({STORE_PARTITION_KEY})"}
        else:
            head_condition = {
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(plan.expected_version)}},
            }
        head = {
            STORE_PARTITION_KEY: plan.account_id,
            STORE_SORT_KEY: HEAD_SORT_KEY,
            KIND_ATTRIBUTE: KIND_HEAD,
            "version": plan.state.version,
            "updated_at": plan.state.updated_at,
        }
        record = plan.command
        command = {
            **command_key(record.command_id),
            KIND_ATTRIBUTE: KIND_COMMAND,
            "account_id": record.account_id,
            "fingerprint": record.fingerprint,
            "versions": list(record.versions),
            "events": json.dumps(list(record.events)),
        }
        new_item = f"attribute_not_exists({STORE_PARTITION_KEY})"
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.events_table,
                    "Item": to_attributes(head),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    **head_condition,
                }
            },
            {
                "Put": {
                    "TableName": self.events_table,
                    "Item": to_attributes(command),
                    "ConditionExpression": new_item,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            *(
                {
                    "Put": {
                        "TableName": self.events_table,
                        "Item": to_attributes(event_item(event)),
                        "ConditionExpression": new_item,
                    }
                }
                for event in plan.events
            ),
        ]
        if plan.snapshot is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.snapshots_table,
                        "Item": to_attributes(
                            {
                                STORE_PARTITION_KEY: plan.account_id,
                                STORE_SORT_KEY: plan.snapshot.version,
                                "state": plan.snapshot.to_json(),
                                "recorded_at": plan.snapshot.updated_at,
                            }
                        ),
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            command_reason = reasons[1] if len(reasons) > 1 else {}
            if command_reason.get("Code") == "ConditionalCheckFailed":
                found = command_reason.get("Item")
                raise CommandAlreadyAppliedError(
                    _command_record(from_attributes(found))
                    if found
                    else self.command_record(record.command_id)  # type: ignore[arg-type]
                ) from error
            head_reason = reasons[0] if reasons else {}
            if head_reason.get("Code") == "ConditionalCheckFailed":
                found = head_reason.get("Item")
                current = int(from_attributes(found)["version"]) if found else 0
                raise VersionConflictError(
                    plan.account_id, expected=plan.expected_version, current=current
                ) from error
            raise

    def command_record(self, command_id: str) -> CommandRecord | None:
        """What the command with this id did, if it was applied."""
        response = self._client.get_item(
            TableName=self.events_table,
            Key=to_attributes(command_key(command_id)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _command_record(from_attributes(item)) if item else None

    # --- reading ------------------------------------------------------------------------

    def _query(self, table: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, page after page, as plain values."""
        kwargs = {"TableName": table, "ConsistentRead": True, **kwargs}
        while True:
            response = self._client.query(**kwargs)
            for item in response.get("Items", []):
                yield from_attributes(item)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _snapshot(
        self, account_id: str, *, at_version: int | None, at_time: str | None
    ) -> Account | None:
        """The latest snapshot at or before `at_version` / `at_time` (None: the latest)."""
        condition = "#pk = :id"
        values: dict[str, Any] = {":id": {"S": account_id}}
        names = {"#pk": STORE_PARTITION_KEY}
        if at_version is not None:
            condition += " AND #sk <= :version"
            values[":version"] = {"N": str(at_version)}
            names["#sk"] = STORE_SORT_KEY
        # Newest first: the first snapshot old enough is the one (for a time, snapshots
        # are in time order as their events are).
        for item in self._query(
            self.snapshots_table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=1 if at_time is None else 10,
        ):
            if at_time is None or str(item["recorded_at"]) <= at_time:
                return Account.from_json(item["state"])
        return None

    def events_between(
        self, account_id: str, first: int, last: int | None = None
    ) -> Iterator[StoredEvent]:
        """The account's events from version `first` to `last` (None: the latest), in order."""
        condition = "#pk = :id AND #sk >= :first"
        values: dict[str, Any] = {":id": {"S": account_id}, ":first": {"N": str(max(first, 1))}}
        if last is not None:
            condition = "#pk = :id AND #sk BETWEEN :first AND :last"
            values[":last"] = {"N": str(last)}
        for item in self._query(
            self.events_table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#pk": STORE_PARTITION_KEY, "#sk": STORE_SORT_KEY},
            ExpressionAttributeValues=values,
        ):
            yield stored_event(item)

    def load(
        self,
        account_id: str,
        *,
        at_version: int | None = None,
        at_time: str | None = None,
        use_snapshots: bool = True,
    ) -> Loaded:
        """The account's state: the latest snapshot (at or before `at_version` / `at_time`)
        plus the events after it, up to that version or time. Events are in version and time
        order, so reading stops at the first one past the time asked for."""
        snapshot = (
            self._snapshot(account_id, at_version=at_version, at_time=at_time)
            if use_snapshots
            else None
        )
        account = snapshot or Account(account_id=account_id)
        read = 0
        for event in self.events_between(account_id, account.version + 1, at_version):
            read += 1
            if at_time is not None and event.recorded_at > at_time:
                break
            account = logic.apply(account, event)
        return Loaded(
            account=account, snapshot_version=snapshot.version if snapshot else 0, events_read=read
        )

    def history(
        self, account_id: str, *, after_version: int, limit: int
    ) -> tuple[list[StoredEvent], int | None]:
        """Up to `limit` events after `after_version`, and the version to continue after."""
        response = self._client.query(
            TableName=self.events_table,
            KeyConditionExpression="#pk = :id AND #sk > :after",
            ExpressionAttributeNames={"#pk": STORE_PARTITION_KEY, "#sk": STORE_SORT_KEY},
            ExpressionAttributeValues={
                ":id": {"S": account_id},
                ":after": {"N": str(max(after_version, HEAD_SORT_KEY))},
            },
            ConsistentRead=True,
            Limit=limit,
        )
        events = [stored_event(from_attributes(item)) for item in response.get("Items", [])]
        more = "LastEvaluatedKey" in response and events
        return events, events[-1].version if more else None

    def account_ids(self, *, segment: int = 0, total_segments: int = 1) -> Iterator[str]:
        """Every account with an event (one head each), in one segment of a parallel scan."""
        kwargs: dict[str, Any] = {
            "TableName": self.events_table,
            "FilterExpression": "#kind = :head",
            "ExpressionAttributeNames": {"#kind": KIND_ATTRIBUTE},
            "ExpressionAttributeValues": {":head": {"S": KIND_HEAD}},
            "ConsistentRead": True,
            "Segment": segment,
            "TotalSegments": total_segments,
        }
        while True:
            response = self._client.scan(**kwargs)
            for item in response.get("Items", []):
                yield str(from_attributes(item)[STORE_PARTITION_KEY])
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class ReadModel:
    """A read-model table: one item per account, its state as of the last event projected."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def get(self, account_id: str) -> Account:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={READ_MODEL_KEY: {"S": account_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return Account.from_json(from_attributes(item)) if item else Account(account_id=account_id)

    def put(self, account: Account, *, replacing_version: int) -> None:
        """Store `account`, only if the item is still at `replacing_version` (0: absent), so a
        slower projector instance never puts an older state over a newer one."""
        condition: dict[str, Any] = (
            {"ConditionExpression": f"attribute_not_exists({READ_MODEL_KEY})"}
            if replacing_version == 0
            else {
                "ConditionExpression": "#version = :replacing",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":replacing": {"N": str(replacing_version)}},
            }
        )
        try:
            self._client.put_item(
                TableName=self.table_name, Item=to_attributes(account.to_json()), **condition
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ProjectionConflictError(account.account_id) from error
            raise

    def put_all(self, accounts: list[Account]) -> None:
        """Store `accounts` as they are (a rebuild's target table is its own)."""
        with aws.resource("dynamodb").Table(self.table_name).batch_writer() as batch:
            for account in accounts:
                batch.put_item(Item=account.to_json())

    def all(self) -> dict[str, Account]:
        """Every account in the table, by id (for comparing projections)."""
        accounts: dict[str, Account] = {}
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
        while True:
            response = self._client.scan(**kwargs)
            for item in response.get("Items", []):
                account = Account.from_json(from_attributes(item))
                accounts[account.account_id] = account
            if "LastEvaluatedKey" not in response:
                return accounts
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


@cached
def event_store(events_table: str, snapshots_table: str) -> EventStore:
    return EventStore(
        aws.client("dynamodb"), events_table=events_table, snapshots_table=snapshots_table
    )


@cached
def read_model(table_name: str) -> ReadModel:
    return ReadModel(aws.client("dynamodb"), table_name)
