"""The orchestration scenario: one order saga on Step Functions and on a Lambda durable function,
side by side: a completed order, one short of stock (compensated), and one over the approval
threshold that waits for an approver; placed through the API and as an event, twice."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from demo import trace
from demo.cloud import Cloud
from infra import registry
from orchestration.contract import (
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    OUTPUT_API_URL,
    OUTPUT_DURABLE_FUNCTION_NAME,
    OUTPUT_EVENT_BUS_NAME,
    OUTPUT_EVENTS_DEAD_LETTER_QUEUE_URL,
    OUTPUT_STATE_MACHINE_ARN,
    OUTPUT_TABLE_NAME,
    SandboxCard,
    Workflow,
    stock_key,
)

STACK = registry.pattern("orchestration").stack_name
#: Units of each SKU in stock when the scenario starts.
IN_STOCK = 5
#: Over the stack's approval threshold (50,000 cents by default).
LARGE_ORDER_CENTS = 60_000


@dataclass(frozen=True)
class Outcome:
    #: "<workflow> <order>" -> the order's final status (and failure reason).
    statuses: dict[str, str]
    #: "<workflow> <order>" -> what its saga undid.
    compensations: dict[str, list[str]]
    #: Workflow -> units of its two SKUs in stock at the end.
    stock: dict[str, list[int]]
    #: Executions started per workflow (each order placed twice).
    executions: dict[str, int]
    invocations: int
    in_dead_letter_queues: int

    @property
    def processed(self) -> int:
        """Orders whose saga ended (completed or compensated)."""
        return len(self.statuses)


def _order(order_id: str, workflow: Workflow, *lines: tuple[str, int, int]) -> dict:
    """An order of `lines`, each (sku, quantity, unit price in cents)."""
    return {
        "order_id": order_id,
        "customer_id": "customer-42",
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price_cents": price}
            for sku, quantity, price in lines
        ],
        "payment_token": SandboxCard.APPROVED.value,
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "12 Marsh Road",
            "city": "Dublin",
            "postcode": "D02 X285",
            "country": "IE",
        },
        "workflow": workflow.value,
    }


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed Orchestration stack through its API, its event bus and its outputs."""
    trace.heading("Orchestration: an order saga on Step Functions and on a Lambda durable function")
    outputs = cloud.outputs(STACK)
    first_invocation = len(cloud.invocations)
    run_tag = uuid.uuid4().hex[:6].upper()
    api = outputs[OUTPUT_API_URL].rstrip("/")
    dynamodb = cloud.client("dynamodb")
    table = outputs[OUTPUT_TABLE_NAME]

    # Sagas run while orders are placed, and their functions' output is captured as they run:
    # what happened is printed once they are settled, so no line of the story gets mixed in.
    story: list[str] = []

    def post(path: str, body: Any) -> dict:
        response = cloud.http(
            "POST", api + path, body=json.dumps(body), headers={"content-type": "application/json"}
        )
        story.append(
            f"POST {path} -> {response.status} {trace.short(response.content.decode(), 100)}"
        )
        return json.loads(response.content)

    def tell() -> None:
        for text in story:
            trace.line(text)
        story.clear()

    orders: dict[str, dict] = {}
    skus: list[str] = []
    for workflow in Workflow:
        short = "sfn" if workflow is Workflow.STEP_FUNCTIONS else "dur"
        sku, scarce = f"{short.upper()}-{run_tag}", f"{short.upper()}-{run_tag}-B"
        skus += [sku, scarce]
        orders[f"{workflow} completed"] = _order(f"{short}-ok-{run_tag}", workflow, (sku, 2, 1250))
        # Its first line can be reserved, its second cannot: the first is released.
        orders[f"{workflow} short of stock"] = _order(
            f"{short}-short-{run_tag}", workflow, (sku, 1, 1250), (scarce, IN_STOCK + 1, 800)
        )
        orders[f"{workflow} approved"] = _order(
            f"{short}-big-{run_tag}", workflow, (sku, 2, LARGE_ORDER_CENTS // 2)
        )
    trace.step(f"Stock: {IN_STOCK} units of {', '.join(skus)}")
    for sku in skus:
        item = {**stock_key(sku), "sku": sku}
        dynamodb.put_item(
            TableName=table,
            Item={name: {"S": value} for name, value in item.items()}
            | {"available": {"N": str(IN_STOCK)}},
        )

    trace.step("Place each order through the API, and the short one also as an event (twice)")
    for label, order in orders.items():
        story.append(label)
        if "short" not in label:
            post("/orders", order)
            post("/orders", order)  # a client's retry: the same saga
            continue
        for _ in range(2):  # a duplicated event: the same saga
            cloud.client("events").put_events(
                Entries=[
                    {
                        "EventBusName": outputs[OUTPUT_EVENT_BUS_NAME],
                        "Source": EVENT_SOURCE,
                        "DetailType": EVENT_DETAIL_TYPE,
                        "Detail": json.dumps(order),
                    }
                ]
            )
        story.append("put OrderPlaced on the bus, twice")
    cloud.settle()
    tell()

    trace.step("The large orders wait for an approver, who approves them")
    for label, order in orders.items():
        if "approved" in label:
            post(f"/orders/{order['order_id']}/approval", {"approved": True, "comment": "ok"})
    cloud.settle()
    tell()

    trace.step("Each order as the API shows it")
    statuses: dict[str, str] = {}
    compensations: dict[str, list[str]] = {}
    for label, order in orders.items():
        response = cloud.http("GET", f"{api}/orders/{order['order_id']}")
        record = json.loads(response.content)
        status = record["status"] + (
            f" ({record['failure_reason']})" if record.get("failure_reason") else ""
        )
        statuses[label] = status
        compensations[label] = [entry.split(":")[0] for entry in record["compensations"]]
        trace.line(f"{label:<36} {status:<24} compensations {record['compensations']}")

    stock = {
        sku: int(
            dynamodb.get_item(
                TableName=table,
                Key={name: {"S": value} for name, value in stock_key(sku).items()},
            )["Item"]["available"]["N"]
        )
        for sku in skus
    }
    trace.line(f"stock now: {stock} (the first SKUs: {IN_STOCK} - 2 completed - 2 approved)")

    machine_executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=outputs[OUTPUT_STATE_MACHINE_ARN]
    )["executions"]
    durable_executions = cloud.client("lambda").list_durable_executions_by_function(
        FunctionName=outputs[OUTPUT_DURABLE_FUNCTION_NAME]
    )["DurableExecutions"]
    executions = {
        Workflow.STEP_FUNCTIONS.value: sum(run_tag in e["name"] for e in machine_executions),
        Workflow.DURABLE_FUNCTION.value: sum(
            run_tag in e["DurableExecutionName"] for e in durable_executions
        ),
    }
    trace.line(f"executions started: {executions} (each order placed twice)")
    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    dead_letters = (
        cloud.client("sqs")
        .receive_message(
            QueueUrl=outputs[OUTPUT_EVENTS_DEAD_LETTER_QUEUE_URL], MaxNumberOfMessages=10
        )
        .get("Messages", [])
    )
    return Outcome(
        statuses=statuses,
        compensations=compensations,
        stock={
            workflow.value: [stock[sku] for sku in skus[index * 2 : index * 2 + 2]]
            for index, workflow in enumerate(Workflow)
        },
        executions=executions,
        invocations=len(invocations),
        in_dead_letter_queues=len(dead_letters),
    )
