"""The pub-sub scenario: publish a batch of order events and follow each subscriber's share."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from demo import trace
from demo.cloud import Cloud
from infra import registry
from pub_sub.contract import (
    EVENT_TYPE_ATTRIBUTE,
    OUTPUT_LEDGER_TABLE_NAME,
    OUTPUT_PUBLISHER_FUNCTION_NAME,
    OUTPUT_TOPIC_ARN,
    EventType,
    SubscriberName,
    output_dead_letter_queue_url,
    output_queue_url,
    subscriber_id,
)

STACK = registry.pattern("pub_sub").stack_name


@dataclass(frozen=True)
class Outcome:
    published: int
    delivered: dict[str, int]
    ledger_items: int
    reservations_after_redelivery: int
    dead_letters: dict[str, int]
    invocations: int
    # Those of the delivery step: the publisher's two and the redelivery's are the others.
    consumer_invocations: int

    @property
    def processed(self) -> int:
        return sum(self.delivered.values()) - self.in_dead_letter_queues

    @property
    def in_dead_letter_queues(self) -> int:
        return sum(self.dead_letters.values())


def _order_events(run_tag: str) -> list[dict]:
    """25 events (three PublishBatch calls): a mix every filter policy has something to match.

    Their orders are this run's own (`run_tag`), so a run against an endpoint that earlier runs
    used counts only its own reservations and ledger items.
    """
    kinds = [
        (EventType.ORDER_PLACED, 120),
        (EventType.ORDER_PLACED, 2500),  # fraud_review takes placed orders of 1000 or more
        (EventType.ORDER_SHIPPED, 120),
        (EventType.ORDER_CANCELLED, 60),
        (EventType.ORDER_PLACED, 999.99),
    ]
    return [
        {
            "event_id": str(uuid.uuid4()),
            "event_type": kind.value,
            "order_id": f"order-{run_tag}-{n:03d}",
            "amount": amount,
            "currency": "EUR",
            "occurred_at": "2026-11-27T09:00:00Z",
            "customer_id": f"customer-{n % 7}",
        }
        for n, (kind, amount) in enumerate(kinds * 5)
    ]


def run(cloud: Cloud) -> Outcome:
    """Drive the deployed PubSub stack through the names and URLs its outputs give."""
    trace.heading("Pub-sub: publisher -> SNS topic -> filtered SQS queues -> consumers")
    outputs = cloud.outputs(STACK)
    first_invocation = len(cloud.invocations)
    publisher = outputs[OUTPUT_PUBLISHER_FUNCTION_NAME]

    run_tag = uuid.uuid4().hex[:8]
    events = _order_events(run_tag)
    sqs = cloud.client("sqs")
    # What earlier runs left in the dead-letter queues is not this run's.
    dead_letters_before = {
        subscriber_id(subscriber): _depth(sqs, outputs[output_dead_letter_queue_url(subscriber)])
        for subscriber in SubscriberName
    }
    delivered = {}
    # Against `localcloud up` the consumers would start on the first message; held, the queues
    # show each subscriber's whole share before any of it is consumed, as in-process.
    with cloud.delivery_held():
        trace.step(f"Invoke the publisher with {len(events)} order events")
        published = cloud.invoke(publisher, {"events": events})
        trace.line(f"-> {trace.short(published.payload or published.error, 200)}")

        trace.step("Invoke the publisher with an invalid event (nothing may be published)")
        rejected = cloud.invoke(publisher, {"events": [{**events[0], "amount": "lots"}]})
        trace.line(f"-> {trace.short(rejected.error or rejected.payload, 200)}")

        trace.step("A poison message reaches the topic past the publisher (not an order event)")
        cloud.client("sns").publish(
            TopicArn=outputs[OUTPUT_TOPIC_ARN],
            Message=json.dumps(
                {"event_type": EventType.ORDER_PLACED.value, "this is": "not an order"}
            ),
            MessageAttributes={
                EVENT_TYPE_ATTRIBUTE: {
                    "DataType": "String",
                    "StringValue": EventType.ORDER_PLACED.value,
                }
            },
        )
        trace.line(
            f"published straight to the topic with {EVENT_TYPE_ATTRIBUTE}={EventType.ORDER_PLACED}"
        )

        trace.step("What each subscriber's queue holds before delivery (its filtered share)")
        for subscriber in SubscriberName:
            name = subscriber_id(subscriber)
            count = _depth(sqs, outputs[output_queue_url(subscriber)])
            delivered[name] = count
            trace.line(f"{name:<14} {count:3d} message(s)")

        trace.step("Event sources deliver until every queue is quiet (redeliveries included)")
        # Counted from the record, not from settle's answer: every invocation of the step is
        # in it, whoever ran it.
        before_delivery = len(cloud.invocations)
        cloud.settle()
        consumer_invocations = len(cloud.invocations) - before_delivery
        trace.line(f"{consumer_invocations} consumer invocation(s)")

    trace.step("Redeliver one processed message to fulfilment: idempotency stops a second effect")
    fulfilment_url = outputs[output_queue_url(SubscriberName.FULFILMENT)]
    placed = next(e for e in events if e["event_type"] == EventType.ORDER_PLACED)
    envelope = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "Message": json.dumps(placed),
    }
    sqs.send_message(QueueUrl=fulfilment_url, MessageBody=json.dumps(envelope))
    cloud.settle()
    ledger = outputs[OUTPUT_LEDGER_TABLE_NAME]
    reservation = cloud.client("dynamodb").get_item(
        TableName=ledger,
        Key={
            "pk": {"S": f"ORDER#{placed['order_id']}"},
            "sk": {"S": SubscriberName.FULFILMENT.value},
        },
    )["Item"]
    trace.line(
        f"{placed['order_id']} delivered twice to fulfilment; reservations recorded: "
        f"{reservation['reservations']['N']}"
    )
    ledger_items = [
        item
        for item in cloud.client("dynamodb").scan(TableName=ledger)["Items"]
        if item["pk"]["S"].startswith((f"ORDER#order-{run_tag}-", "FRAUD_REVIEW#"))
    ]
    # One reading of the record: the invocations listed are the invocations counted.
    invocations = cloud.invocations[first_invocation:]
    trace.step("Invocations")
    trace.invocations(invocations)
    trace.step(f"Ledger table: {len(ledger_items)} item(s) of this run's orders and totals")
    for item in ledger_items[:8]:
        trace.line(trace.short({key: next(iter(value.values())) for key, value in item.items()}))
    if len(ledger_items) > 8:
        trace.line(f"... and {len(ledger_items) - 8} more")

    dead_letters = {}
    trace.step("Messages this run left in dead-letter queues")
    for subscriber in SubscriberName:
        name = subscriber_id(subscriber)
        dlq_url = outputs[output_dead_letter_queue_url(subscriber)]
        dead_letters[name] = _depth(sqs, dlq_url) - dead_letters_before[name]
        trace.line(f"{name:<14} {dead_letters[name]} message(s)")
        if dead_letters[name] > 0:
            shown = sqs.receive_message(
                QueueUrl=dlq_url, MaxNumberOfMessages=min(10, dead_letters[name])
            ).get("Messages", [])
            for message in shown:
                trace.line(f"  {trace.short(_notification_message(message['Body']), 140)}")
    return Outcome(
        published=len(events) if published.succeeded else 0,
        delivered=delivered,
        ledger_items=len(ledger_items),
        reservations_after_redelivery=int(reservation["reservations"]["N"]),
        dead_letters=dead_letters,
        invocations=len(invocations),
        consumer_invocations=consumer_invocations,
    )


def _notification_message(body: str) -> str:
    """The published message inside an SQS body (an SNS envelope unless delivery is raw)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body
    return envelope.get("Message", body) if isinstance(envelope, dict) else body


def _depth(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
