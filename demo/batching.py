"""The batching scenario: tenants' items enqueued, written in bulk, failures dead-lettered with
their reason, a replay, and a redrive of the DLQ after a bad deploy is fixed."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from batching.contract import (
    ENV_ITEMS_TABLE_NAME,
    FAILURE_KIND_ATTRIBUTE,
    FAILURE_REASON_ATTRIBUTE,
    OUTPUT_DEAD_LETTER_QUEUE_URL,
    OUTPUT_ITEMS_TABLE_NAME,
    OUTPUT_PRODUCER_FUNCTION_NAME,
    OUTPUT_QUEUE_URL,
    OUTPUT_WRITER_FUNCTION_NAME,
)
from demo import trace
from demo.cloud import Cloud
from infra import registry

STACK = registry.pattern("batching").stack_name
#: One noisy tenant and two quiet ones: with fair queues, the quiet ones are not held back.
TENANT_ITEMS = {"noisy": 30, "quiet-a": 8, "quiet-b": 4}
#: Items the first BatchWriteItem call leaves unprocessed (localcloud throttles it once).
THROTTLED_ONCE = 5


@dataclass(frozen=True)
class Outcome:
    #: Distinct items put in (valid, invalid, not JSON, and those of the bad deploy).
    inputs: int
    enqueued: int
    items_after_first_delivery: int
    items_after_replay: int
    items_after_bad_deploy: int
    items_after_redrive: int
    redrive_status: str
    redrive_moved: int
    #: (failure_kind, the reason's first words) of each of this run's dead letters.
    dead_letters: list[tuple[str, str]]
    invocations: int
    #: Failures the first batch reported: the throttled items must not be among them.
    first_batch_failures: int
    #: The writer's `UnprocessedItemsRetries` metric (EMF in its log group) over the run.
    unprocessed_retries: int
    #: failure_kind -> messages of this run in the DLQ before the redrive.
    dead_letters_before_redrive: dict[str, int]

    @property
    def processed(self) -> int:
        return self.items_after_redrive

    @property
    def in_dead_letter_queues(self) -> int:
        return len(self.dead_letters)


def _items(run_tag: str, tenants: dict[str, int], first: int = 0) -> list[dict]:
    return [
        {
            "item_id": f"{run_tag}-{tenant}-{n:03d}",
            "tenant_id": f"{tenant}-{run_tag}",
            "metric": "api_calls",
            "quantity": n + 1,
            "recorded_at": "2026-12-01T09:00:00Z",
        }
        for tenant, count in tenants.items()
        for n in range(first, first + count)
    ]


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed Batching stack through the names and URLs its outputs give."""
    trace.heading("Batching: producer -> SQS (fair-queue tenants) -> writer, 25 items per call")
    outputs = cloud.outputs(STACK)
    first_invocation = len(cloud.invocations)
    run_tag = uuid.uuid4().hex[:8]
    sqs, dynamodb, lambda_ = (cloud.client(name) for name in ("sqs", "dynamodb", "lambda"))
    producer, writer = outputs[OUTPUT_PRODUCER_FUNCTION_NAME], outputs[OUTPUT_WRITER_FUNCTION_NAME]
    table = outputs[OUTPUT_ITEMS_TABLE_NAME]

    def items_in_table() -> int:
        return sum(
            1
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
            if item["item_id"]["S"].startswith(run_tag)
        )

    def produce(label: str, items: list[dict]) -> int:
        trace.step(label)
        answer = cloud.invoke(producer, {"items": items})
        trace.line(f"-> {trace.short(answer.payload or answer.error, 200)}")
        return int((answer.payload or {}).get("enqueued_count", 0))

    items = _items(run_tag, TENANT_ITEMS)
    invalid = {**items[0], "item_id": f"{run_tag}-invalid", "quantity": -5}
    with cloud.delivery_held():
        enqueued = produce(
            f"Invoke the producer with {len(items)} items of three tenants and one with a "
            "negative quantity (the producer checks only the tenant)",
            [*items, invalid],
        )
        trace.step("Another producer sends a body that is not an item straight to the queue")
        sqs.send_message(
            QueueUrl=outputs[OUTPUT_QUEUE_URL],
            MessageBody=f"usage {run_tag}: noisy api_calls 12",
            MessageGroupId=f"noisy-{run_tag}",
        )
        trace.step(
            f"DynamoDB throttles: the next BatchWriteItem leaves {THROTTLED_ONCE} items "
            "unprocessed (a transient failure)"
        )
        cloud.throttle_batch_writes(table, unprocessed=THROTTLED_ONCE)
        trace.step("Lambda delivers the queue in large batches until it is quiet")
        before_delivery = len(cloud.invocations)
        cloud.settle()
    unprocessed_retries = _metric_sum(cloud, writer, "UnprocessedItemsRetries")
    trace.line(f"the writer retried UnprocessedItems {unprocessed_retries} time(s) (its metric)")
    first_batch = cloud.invocations[before_delivery]
    first_batch_failures = len((first_batch.payload or {}).get("batchItemFailures", []))
    after_first = items_in_table()
    trace.line(
        f"{after_first} item(s) of this run in the table; the first batch reported "
        f"{first_batch_failures} failure(s): the invalid ones, not the throttled ones, "
        "which its retry wrote"
    )

    with cloud.delivery_held():
        enqueued += produce(
            "Replay: the producer sends three items again (a client retry)", items[:3]
        )
        cloud.settle()
    after_replay = items_in_table()
    trace.line(f"{after_replay} item(s) in the table: the replayed items were written once")

    trace.step("A bad deploy: the writer's table name now points at a table that is not there")
    configuration = lambda_.get_function_configuration(FunctionName=writer)
    variables = dict(configuration["Environment"]["Variables"])
    broken = {**variables, ENV_ITEMS_TABLE_NAME: f"{table}-missing"}
    lambda_.update_function_configuration(FunctionName=writer, Environment={"Variables": broken})
    late = _items(run_tag, {"quiet-a": 6}, first=TENANT_ITEMS["quiet-a"])
    with cloud.delivery_held():
        enqueued += produce(f"Invoke the producer with {len(late)} more items", late)
        cloud.settle()
    after_bad_deploy = items_in_table()
    trace.line(f"{after_bad_deploy} item(s) in the table; the new ones are in the DLQ")

    trace.step("The dead-letter queue before the redrive: each message with its reason")
    kinds_before_redrive: dict[str, int] = {}
    for message in _peek(sqs, outputs[OUTPUT_DEAD_LETTER_QUEUE_URL]):
        if run_tag in message["Body"]:
            kind, reason = _reason_of(message)
            kinds_before_redrive[kind] = kinds_before_redrive.get(kind, 0) + 1
            trace.line(f"{kind}: {trace.short(reason, 120)}")

    trace.step("Fix the deploy, then redrive the DLQ to the queue (StartMessageMoveTask)")
    lambda_.update_function_configuration(FunctionName=writer, Environment={"Variables": variables})
    dlq_arn, queue_arn = (
        sqs.get_queue_attributes(QueueUrl=outputs[name], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for name in (OUTPUT_DEAD_LETTER_QUEUE_URL, OUTPUT_QUEUE_URL)
    )
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)
    cloud.settle()
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)["Results"]
    trace.line(
        f"move task {task['Status']}: {task['ApproximateNumberOfMessagesMoved']} message(s) "
        "moved back"
    )
    after_redrive = items_in_table()
    trace.line(f"{after_redrive} item(s) in the table: each redriven item written once")

    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)

    trace.step("This run's messages in the dead-letter queue, each with its reason")
    dead_letters = []
    for message in _drain(sqs, outputs[OUTPUT_DEAD_LETTER_QUEUE_URL]):
        if run_tag not in message["Body"]:
            continue  # an earlier run's
        kind, reason = _reason_of(message)
        trace.line(f"{kind}: {trace.short(reason, 120)}")
        trace.line(f"  body {trace.short(message['Body'], 110)}")
        dead_letters.append((kind, " ".join(reason.split()[:5])))
    return Outcome(
        inputs=len(items) + 2 + len(late),
        enqueued=enqueued,
        items_after_first_delivery=after_first,
        items_after_replay=after_replay,
        items_after_bad_deploy=after_bad_deploy,
        items_after_redrive=after_redrive,
        redrive_status=task["Status"],
        redrive_moved=int(task["ApproximateNumberOfMessagesMoved"]),
        dead_letters=sorted(dead_letters),
        first_batch_failures=first_batch_failures,
        unprocessed_retries=unprocessed_retries,
        dead_letters_before_redrive=kinds_before_redrive,
        invocations=len(invocations),
    )


def _drain(sqs, queue_url: str) -> list[dict]:
    """Every visible message of a queue, held invisible for a minute once received."""
    messages: list[dict] = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=60,
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        messages.extend(batch)
    return messages


def _peek(sqs, queue_url: str) -> list[dict]:
    """Up to ten messages of a queue, left visible (a move task takes only visible ones)."""
    return sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def _reason_of(message: dict) -> tuple[str, str]:
    """A dead letter's failure_kind and failure_reason (the writer's message attributes)."""
    attributes = message.get("MessageAttributes", {})
    return (
        attributes.get(FAILURE_KIND_ATTRIBUTE, {}).get("StringValue", "(none)"),
        attributes.get(FAILURE_REASON_ATTRIBUTE, {}).get("StringValue", "(none)"),
    )


def _metric_sum(cloud: Cloud, function_name: str, metric: str) -> int:
    """The sum of a Powertools metric in the function's log group (its EMF lines)."""
    log_group = cloud.client("lambda").get_function_configuration(FunctionName=function_name)[
        "LoggingConfig"
    ]["LogGroup"]
    events = cloud.client("logs").filter_log_events(logGroupName=log_group, filterPattern=metric)[
        "events"
    ]
    total = 0.0
    for event in events:
        value = json.loads(event["message"]).get(metric, 0)
        # EMF holds one value or, as Powertools writes it, a list of values.
        total += sum(value) if isinstance(value, list) else value
    return int(total)
