"""Functional tests of the whole pattern in moto: publish, fan out, consume, dead-letter."""

from __future__ import annotations

import json

import boto3
import pytest

from pub_sub import publisher
from pub_sub.contract import EventType, SubscriberName, subscriber_id
from tests.functional.pub_sub.stack_wiring import MAX_RECEIVE_COUNT, SUBSCRIPTIONS
from tests.synth import CloudAssembly, resources_of_type


def _ledger(pub_sub) -> list[dict]:
    return boto3.resource("dynamodb").Table(pub_sub.ledger_table).scan()["Items"]


def test_published_events_are_applied_once_by_each_subscriber(
    pub_sub, as_publisher, orders, consume, receive_all
):
    # GIVEN 25 events published (13 placed, 6 of them for 1250; 6 shipped; 6 cancelled)
    publisher.handler({"events": orders(25)}, as_publisher)

    # WHEN every subscriber's queue is consumed as Lambda's poller would
    reports = {name: consume(name) for name in pub_sub.inboxes}

    # THEN no record failed, and every queue and DLQ is empty
    assert all(not any(report.failed_per_invoke) for report in reports.values())
    assert {name: report.invokes for name, report in reports.items()} == {
        SubscriberName.FULFILMENT: 2,  # 19 messages, 10 per invoke
        SubscriberName.NOTIFICATIONS: 2,  # 12
        SubscriberName.FRAUD_REVIEW: 1,  # 6
    }
    for inbox in pub_sub.inboxes.values():
        assert receive_all(inbox.url) == []
        assert receive_all(inbox.dlq_url) == []
    # AND each effect is in the ledger exactly once
    items = _ledger(pub_sub)
    by_sk = {sk: [item for item in items if item["sk"] == sk] for sk in SUBSCRIPTIONS}
    assert sum(item.get("reservations", 0) for item in by_sk[SubscriberName.FULFILMENT]) == 13
    assert sum(item.get("releases", 0) for item in by_sk[SubscriberName.FULFILMENT]) == 6
    assert sum(item["notifications_sent"] for item in by_sk[SubscriberName.NOTIFICATIONS]) == 12
    assert sum(item["reviews_requested"] for item in by_sk[SubscriberName.FRAUD_REVIEW]) == 6
    [totals] = [item for item in items if item["pk"].startswith("FRAUD_REVIEW#")]
    assert totals["reviews"] == 6


def test_a_batch_redelivered_after_lost_deletes_has_no_second_effect(
    pub_sub, as_publisher, orders, consume, ledger_item
):
    # GIVEN 5 placed orders published
    publisher.handler(
        {"events": orders(5, event_type=EventType.ORDER_PLACED, amount=10)}, as_publisher
    )

    # WHEN fulfilment's first invoke applies them but its deletes are lost, so SQS
    # redelivers every message
    report = consume(SubscriberName.FULFILMENT, lose_first_deletes=True)

    # THEN the batch was handled twice, and every order has one reservation
    assert report.failed_per_invoke == [[], []]
    assert [
        ledger_item(f"ORDER#ORD-{i:04d}", SubscriberName.FULFILMENT)["reservations"]
        for i in range(5)
    ] == [1] * 5


def test_a_poison_message_reaches_the_dlq_and_blocks_nothing(
    pub_sub, as_publisher, orders, consume, receive_all, ledger_item
):
    # GIVEN a poison message in fulfilment's queue, ahead of 4 good events
    sqs = boto3.client("sqs")
    inbox = pub_sub.inboxes[SubscriberName.FULFILMENT]
    poison_id = sqs.send_message(QueueUrl=inbox.url, MessageBody="order ORD-1003 placed")[
        "MessageId"
    ]
    publisher.handler(
        {"events": orders(4, event_type=EventType.ORDER_PLACED, amount=10)}, as_publisher
    )

    # WHEN fulfilment's queue is consumed until it is empty
    report = consume(SubscriberName.FULFILMENT)

    # THEN the good events were applied on the first invoke, the poison one failed alone,
    # then failed on each receive until SQS moved it to the DLQ
    assert report.failed_per_invoke == [[poison_id]] * MAX_RECEIVE_COUNT
    assert [
        ledger_item(f"ORDER#ORD-{i:04d}", SubscriberName.FULFILMENT)["reservations"]
        for i in range(4)
    ] == [1] * 4
    [dead] = receive_all(inbox.dlq_url)
    assert dead["MessageId"] == poison_id
    assert dead["Body"] == "order ORD-1003 placed"
    assert receive_all(inbox.url) == []


@pytest.mark.infra
def test_the_moto_wiring_matches_the_synthesized_stack(dev_assembly: CloudAssembly):
    # The functional tests' filters, delivery settings and redrive must be the stack's own.
    queues = resources_of_type(dev_assembly.templates["PubSub"], "AWS::SQS::Queue")
    redrives = [
        q["Properties"]["RedrivePolicy"]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    ]
    assert [r["maxReceiveCount"] for r in redrives] == [MAX_RECEIVE_COUNT] * len(SUBSCRIPTIONS)
    subscriptions = resources_of_type(dev_assembly.templates["PubSub"], "AWS::SNS::Subscription")
    by_queue = {
        s["Properties"]["Endpoint"]["Fn::GetAtt"][0]: s["Properties"]
        for s in subscriptions.values()
    }
    for name, expected in SUBSCRIPTIONS.items():
        prefix = "PubSub" + subscriber_id(name) + "InboxQueue"
        [synthesized] = [props for queue, props in by_queue.items() if queue.startswith(prefix)]
        assert synthesized["FilterPolicy"] == json.loads(expected["FilterPolicy"])
        assert synthesized.get("FilterPolicyScope", "MessageAttributes") == expected.get(
            "FilterPolicyScope", "MessageAttributes"
        )
        assert synthesized.get("RawMessageDelivery", False) == (
            expected.get("RawMessageDelivery") == "true"
        )
