"""boto3 adapters of the orchestration pattern: the saga table (orders, stock, and the sandbox
payment, carrier and notification ledgers), the two workflow engines, and their approvals.

Every adapter is built on first use through `shared.aws`'s cached clients, never at import
time, so tests can point them at moto. Each write that undoes or repeats work is conditional,
and a compensation writes its effect and its record on the order in one transaction: a retried
step finds its work done and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from shared import aws
from shared.cache import cached

from orchestration.contract import (
    APPROVAL_SORT_KEY,
    NOTIFICATION_SORT_KEY,
    PAYMENT_SORT_KEY,
    SHIPMENT_SORT_KEY,
    Compensation,
    FailureReason,
    OrderStatus,
    Workflow,
    compensation_entry,
    order_key,
    reservation_key,
    stock_key,
)
from orchestration.errors import (
    NoPendingApprovalError,
    OrderConflictError,
    OrderNotFoundError,
    OutOfStock,
)
from orchestration.models import Order, OrderLine

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

RESERVED, RELEASED = "RESERVED", "RELEASED"
CHARGED, REFUNDED, DECLINED = "CHARGED", "REFUNDED", "DECLINED"
WAITING, APPROVED, REJECTED = "WAITING", "APPROVED", "REJECTED"


def _item(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in attributes.items()}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _cancellation_codes(error: ClientError) -> list[str]:
    """Each transaction item's reason for a `TransactionCanceledException` ("None" if it was
    not the cause); empty for any other error."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


@dataclass(frozen=True, kw_only=True)
class OrderRecord:
    """An order's record: what `GET /orders/{id}` shows."""

    order_id: str
    workflow: Workflow
    status: OrderStatus
    total_cents: int
    fingerprint: str
    execution_id: str | None = None
    failure_reason: FailureReason | None = None
    failure_cause: str | None = None
    compensations: tuple[str, ...] = ()

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> OrderRecord:
        plain = _plain(item)
        return cls(
            order_id=plain["order_id"],
            workflow=Workflow(plain["workflow"]),
            status=OrderStatus(plain["status"]),
            total_cents=int(plain["total_cents"]),
            fingerprint=plain["fingerprint"],
            execution_id=plain.get("execution_id"),
            failure_reason=FailureReason(plain["failure_reason"])
            if plain.get("failure_reason")
            else None,
            failure_cause=plain.get("failure_cause"),
            compensations=tuple(plain.get("compensations", [])),
        )


class SagaTable:
    """The pattern's one table (`pk`, `sk`): per order its record, reservations, payment,
    shipment, notification and approval; per SKU its stock."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    # --- orders --------------------------------------------------------------------------

    def record_order(self, order: Order, *, workflow: Workflow, fingerprint: str) -> OrderRecord:
        """The order's record, written on the first placement; a later placement of the same
        order gets the same record, and a different order under the same id is refused."""
        item = {
            **order_key(order.order_id),
            "order_id": order.order_id,
            "workflow": workflow.value,
            "status": OrderStatus.RUNNING.value,
            "total_cents": order.total_cents,
            "fingerprint": fingerprint,
            "compensations": [],
            "placed_at": _now(),
        }
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            existing = self.order(order.order_id)
            if existing.fingerprint != fingerprint:
                raise OrderConflictError(
                    f"order {order.order_id!r} was placed before with other content or on "
                    "the other workflow; place a new order with a new order_id"
                ) from None
            return existing
        return OrderRecord.from_item(_item(item))

    def order(self, order_id: str) -> OrderRecord:
        item = self._client.get_item(
            TableName=self.table_name, Key=_item(order_key(order_id)), ConsistentRead=True
        ).get("Item")
        if item is None:
            raise OrderNotFoundError(f"order {order_id!r} does not exist")
        return OrderRecord.from_item(item)

    def set_execution(self, order_id: str, execution_id: str) -> None:
        self._client.update_item(
            TableName=self.table_name,
            Key=_item(order_key(order_id)),
            UpdateExpression="SET execution_id = :execution",
            ExpressionAttributeValues=_values({":execution": execution_id}),
        )

    def set_status(
        self,
        order_id: str,
        status: OrderStatus,
        *,
        failure_reason: FailureReason | None = None,
        failure_cause: str | None = None,
    ) -> None:
        names = {"#status": "status"}
        values: dict[str, Any] = {":status": status.value}
        update = "SET #status = :status"
        if failure_reason is not None:
            update += ", failure_reason = :reason, failure_cause = :cause"
            values |= {":reason": failure_reason.value, ":cause": failure_cause or ""}
        self._client.update_item(
            TableName=self.table_name,
            Key=_item(order_key(order_id)),
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_values(values),
        )

    def resume_after_approval(self, order_id: str) -> None:
        """Show an approved order as running again, unless its saga has moved on already."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=_item(order_key(order_id)),
                UpdateExpression="SET #status = :running",
                ConditionExpression="#status = :awaiting",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_values(
                    {
                        ":running": OrderStatus.RUNNING.value,
                        ":awaiting": OrderStatus.AWAITING_APPROVAL.value,
                    }
                ),
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

    # --- stock ---------------------------------------------------------------------------

    def put_stock(self, sku: str, available: int) -> None:
        """Set a SKU's stock (the warehouse's count; the demo and the tests seed it)."""
        self._client.put_item(
            TableName=self.table_name,
            Item=_item({**stock_key(sku), "sku": sku, "available": available}),
        )

    def available(self, sku: str) -> int | None:
        item = self._client.get_item(
            TableName=self.table_name, Key=_item(stock_key(sku)), ConsistentRead=True
        ).get("Item")
        return None if item is None else int(_plain(item)["available"])

    def reserve(self, order_id: str, line_number: int, line: OrderLine) -> bool:
        """Reserve `line`'s quantity: its reservation and the stock decrement in one
        transaction. False when the line was reserved before (a retry: nothing changes);
        raises `OutOfStock` when the SKU has fewer units than the line asks for.

        The reads first spare a transaction bound to fail (it would cost twice the write units
        of one that succeeds); the transaction's conditions are what guarantee both rules when
        another writer gets in between.
        """
        key = reservation_key(order_id, line_number, line.sku)
        if self._get(key) is not None:
            return False
        in_stock = self.available(line.sku) or 0
        if in_stock < line.quantity:
            raise OutOfStock(f"{line.sku}: {line.quantity} unit(s) asked for, {in_stock} in stock")
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _item(
                                {
                                    **key,
                                    "sku": line.sku,
                                    "line_number": line_number,
                                    "quantity": line.quantity,
                                    "status": RESERVED,
                                }
                            ),
                            # Released or not, a reservation is made once per order and SKU.
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _item(stock_key(line.sku)),
                            "UpdateExpression": "SET available = available - :quantity",
                            "ConditionExpression": "available >= :quantity",
                            "ExpressionAttributeValues": _values({":quantity": line.quantity}),
                        }
                    },
                ]
            )
        except ClientError as error:
            codes = _cancellation_codes(error)
            if not codes:
                raise
            if codes[0] == "ConditionalCheckFailed":
                return False
            if codes[1] == "ConditionalCheckFailed":
                raise OutOfStock(
                    f"{line.sku}: {line.quantity} unit(s) asked for, "
                    f"{self.available(line.sku) or 0} in stock"
                ) from None
            raise
        return True

    def release(self, order_id: str, line_number: int, sku: str) -> bool:
        """Give a reservation's units back, mark it released and record the release on the
        order, in one transaction; False when there is nothing reserved to release."""
        reservation = self._client.get_item(
            TableName=self.table_name,
            Key=_item(reservation_key(order_id, line_number, sku)),
            ConsistentRead=True,
        ).get("Item")
        if reservation is None or _plain(reservation)["status"] != RESERVED:
            return False
        quantity = int(_plain(reservation)["quantity"])
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _item(reservation_key(order_id, line_number, sku)),
                            "UpdateExpression": "SET #status = :released",
                            "ConditionExpression": "#status = :reserved",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": _values(
                                {":released": RELEASED, ":reserved": RESERVED}
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _item(stock_key(sku)),
                            "UpdateExpression": "SET available = available + :quantity",
                            "ExpressionAttributeValues": _values({":quantity": quantity}),
                        }
                    },
                    self._record_compensation(
                        order_id, compensation_entry(Compensation.RELEASE, sku)
                    ),
                ]
            )
        except ClientError as error:
            # Released by a concurrent attempt between the read and the transaction.
            if _cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def reservations(self, order_id: str) -> dict[str, str]:
        """SKU -> reservation status of an order (of its last line of that SKU)."""
        items = self._client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_values(
                {":pk": order_key(order_id)["pk"], ":prefix": "RESERVATION#"}
            ),
            ConsistentRead=True,
        )["Items"]
        return {_plain(item)["sku"]: _plain(item)["status"] for item in items}

    # --- sandbox payment provider's ledger -------------------------------------------------

    def count_charge_attempt(self, order_id: str, amount_cents: int) -> tuple[int, str | None]:
        """Count one charge attempt; returns (attempts so far, the payment's status)."""
        item = self._client.update_item(
            TableName=self.table_name,
            Key=_item(order_key(order_id, PAYMENT_SORT_KEY)),
            UpdateExpression="ADD attempts :one SET amount_cents = :amount",
            ExpressionAttributeValues=_values({":one": 1, ":amount": amount_cents}),
            ReturnValues="ALL_NEW",
        )["Attributes"]
        plain = _plain(item)
        return int(plain["attempts"]), plain.get("status")

    def settle_charge(self, order_id: str, status: str) -> None:
        """Record the provider's answer (charged or declined), once."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=_item(order_key(order_id, PAYMENT_SORT_KEY)),
                UpdateExpression="SET #status = :status, settled_at = :now",
                ConditionExpression="attribute_not_exists(#status)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_values({":status": status, ":now": _now()}),
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

    def refund(self, order_id: str) -> bool:
        """Refund a charged payment and record it on the order, in one transaction; False when
        nothing was charged or it was refunded already."""
        payment = self.payment(order_id)
        if payment is None or payment.get("status") != CHARGED:
            return False
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _item(order_key(order_id, PAYMENT_SORT_KEY)),
                            "UpdateExpression": "SET #status = :refunded, refunded_at = :now",
                            "ConditionExpression": "#status = :charged",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": _values(
                                {":refunded": REFUNDED, ":charged": CHARGED, ":now": _now()}
                            ),
                        }
                    },
                    self._record_compensation(order_id, compensation_entry(Compensation.REFUND)),
                ]
            )
        except ClientError as error:
            if _cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def payment(self, order_id: str) -> dict[str, Any] | None:
        return self._get(order_key(order_id, PAYMENT_SORT_KEY))

    # --- sandbox carrier and notifications -------------------------------------------------

    def record_shipment(self, order_id: str, tracking_number: str, country: str) -> None:
        self._put_once(
            order_key(order_id, SHIPMENT_SORT_KEY),
            {"tracking_number": tracking_number, "country": country, "shipped_at": _now()},
        )

    def shipment(self, order_id: str) -> dict[str, Any] | None:
        return self._get(order_key(order_id, SHIPMENT_SORT_KEY))

    def record_notification(self, order_id: str, customer_id: str, message: str) -> None:
        self._put_once(
            order_key(order_id, NOTIFICATION_SORT_KEY),
            {"customer_id": customer_id, "message": message, "sent_at": _now()},
        )

    def notification(self, order_id: str) -> dict[str, Any] | None:
        return self._get(order_key(order_id, NOTIFICATION_SORT_KEY))

    # --- approvals -----------------------------------------------------------------------

    def await_approval(self, order_id: str, *, workflow: Workflow, token: str) -> None:
        """Keep the token (a task token or a durable callback id) an approver's decision is
        sent with, and show the order as awaiting approval, in one transaction."""
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _item(
                            {
                                **order_key(order_id, APPROVAL_SORT_KEY),
                                "workflow": workflow.value,
                                "token": token,
                                "status": WAITING,
                                "asked_at": _now(),
                            }
                        ),
                    }
                },
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": _item(order_key(order_id)),
                        "UpdateExpression": "SET #status = :awaiting",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": _values(
                            {":awaiting": OrderStatus.AWAITING_APPROVAL.value}
                        ),
                    }
                },
            ]
        )

    def decide_approval(self, order_id: str, *, approved: bool) -> tuple[Workflow, str]:
        """Record the decision on a waiting approval; returns its workflow and token. Raises
        `NoPendingApprovalError` when the order waits for no decision."""
        try:
            item = self._client.update_item(
                TableName=self.table_name,
                Key=_item(order_key(order_id, APPROVAL_SORT_KEY)),
                UpdateExpression="SET #status = :decision, decided_at = :now",
                ConditionExpression="#status = :waiting",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_values(
                    {
                        ":decision": APPROVED if approved else REJECTED,
                        ":waiting": WAITING,
                        ":now": _now(),
                    }
                ),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            if _condition_failed(error):
                raise NoPendingApprovalError(
                    f"order {order_id!r} is not waiting for an approval"
                ) from None
            raise
        plain = _plain(item)
        return Workflow(plain["workflow"]), plain["token"]

    def approval(self, order_id: str) -> dict[str, Any] | None:
        return self._get(order_key(order_id, APPROVAL_SORT_KEY))

    # --- helpers -------------------------------------------------------------------------

    def _record_compensation(self, order_id: str, entry: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _item(order_key(order_id)),
                "UpdateExpression": "SET compensations = list_append("
                "if_not_exists(compensations, :empty), :entry)",
                "ExpressionAttributeValues": _values({":entry": [entry], ":empty": []}),
            }
        }

    def _put_once(self, key: dict[str, str], attributes: dict[str, Any]) -> None:
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=_item({**key, **attributes}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self.table_name, Key=_item(key), ConsistentRead=True
        ).get("Item")
        return None if item is None else _plain(item)


@cached
def saga_table(table_name: str) -> SagaTable:
    return SagaTable(aws.client("dynamodb"), table_name)


class Engines:
    """Starts sagas on either workflow, and sends an approver's decision to the one waiting."""

    def __init__(self, sfn: Any, lambda_: Any) -> None:
        self._sfn = sfn
        self._lambda = lambda_

    def start_state_machine(self, state_machine_arn: str, order: Order) -> str:
        """Start (or find) the order's execution: its name is the order id, and Step Functions
        answers a repeated start of a Standard execution with the same input with its ARN."""
        try:
            return self._sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=order.order_id,
                input=order.model_dump_json(),
            )["executionArn"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1)
            return f"{prefix}:{order.order_id}"

    def start_durable_function(self, function_arn: str, order: Order) -> str:
        """Start (or find) the order's durable execution: its name is the order id, so a
        repeated start is the same execution."""
        response = self._lambda.invoke(
            FunctionName=function_arn,
            InvocationType="Event",
            DurableExecutionName=order.order_id,
            Payload=order.model_dump_json().encode(),
        )
        return response.get("DurableExecutionArn") or ""

    def approve_task(self, token: str, decision: dict[str, Any]) -> None:
        self._sfn.send_task_success(taskToken=token, output=json.dumps(decision))

    def reject_task(self, token: str, cause: str) -> None:
        self._sfn.send_task_failure(
            taskToken=token, error=FailureReason.APPROVAL_REJECTED.value, cause=cause
        )

    def approve_callback(self, callback_id: str, decision: dict[str, Any]) -> None:
        self._lambda.send_durable_execution_callback_success(
            CallbackId=callback_id, Result=json.dumps(decision).encode()
        )

    def reject_callback(self, callback_id: str, cause: str) -> None:
        self._lambda.send_durable_execution_callback_failure(
            CallbackId=callback_id,
            Error={"ErrorType": FailureReason.APPROVAL_REJECTED.value, "ErrorMessage": cause},
        )


@cached
def engines() -> Engines:
    return Engines(aws.client("stepfunctions"), aws.client("lambda"))
