"""Functional tests of the subscriber handler: SQS batches in, ledger effects applied once."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from pub_sub import subscriber
from pub_sub.contract import ENV_SUBSCRIBER_NAME, SubscriberName
from pub_sub.errors import InvalidSettingError

POISON_MESSAGE_ID = "059f36b4-87a3-44ab-83d2-661975830a77"


def _idempotency_records(pub_sub) -> list[dict[str, Any]]:
    return boto3.resource("dynamodb").Table(pub_sub.idempotency_table).scan()["Items"]


def test_fulfilment_applies_an_enveloped_batch(pub_sub, as_subscriber, sample_event, ledger_item):
    # GIVEN fulfilment's sample batch: two placed orders and a cancelled one, in SNS envelopes
    context = as_subscriber(SubscriberName.FULFILMENT)
    event = sample_event("sqs_fulfilment_envelope.json")

    # WHEN the consumer handles it
    response = subscriber.handler(event, context)

    # THEN no record failed, stock is reserved for the placed orders and released for the other
    assert response == {"batchItemFailures": []}
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1
    assert ledger_item("ORDER#ORD-1002", SubscriberName.FULFILMENT)["status"] == "stock_reserved"
    released = ledger_item("ORDER#ORD-0999", SubscriberName.FULFILMENT)
    assert released["releases"] == 1
    assert released["status"] == "stock_released"
    assert "reservations" not in released


def test_notifications_applies_a_raw_batch(pub_sub, as_subscriber, sample_event, ledger_item):
    context = as_subscriber(SubscriberName.NOTIFICATIONS)

    response = subscriber.handler(sample_event("sqs_notifications_raw.json"), context)

    assert response == {"batchItemFailures": []}
    shipped = ledger_item("ORDER#ORD-0998", SubscriberName.NOTIFICATIONS)
    assert shipped["notifications_sent"] == 1
    assert shipped["recipient"] == "CUST-17"
    assert shipped["last_message"] == "Your order ORD-0998 has shipped."
    assert ledger_item("ORDER#ORD-0999", SubscriberName.NOTIFICATIONS)["last_message"] == (
        "Your order ORD-0999 was cancelled."
    )


def test_fraud_review_opens_a_review_and_counts_the_day(
    pub_sub, as_subscriber, sample_event, ledger_item
):
    context = as_subscriber(SubscriberName.FRAUD_REVIEW)

    response = subscriber.handler(sample_event("sqs_fraud_review_envelope.json"), context)

    assert response == {"batchItemFailures": []}
    review = ledger_item("ORDER#ORD-1002", SubscriberName.FRAUD_REVIEW)
    assert review["status"] == "pending_review"
    assert review["reviews_requested"] == 1
    assert review["amount"] == Decimal(1250)
    totals = ledger_item("FRAUD_REVIEW#2026-11-27", "TOTAL#EUR")
    assert totals["reviews"] == 1
    assert totals["amount_under_review"] == Decimal(1250)


def test_a_poison_record_fails_alone(pub_sub, as_subscriber, sample_event, ledger_item):
    # GIVEN a batch whose middle record is not JSON
    context = as_subscriber(SubscriberName.FULFILMENT)
    event = sample_event("sqs_fulfilment_poison.json")

    # WHEN the consumer handles it
    response = subscriber.handler(event, context)

    # THEN exactly the poison record is reported, and the others' effects are applied once
    assert response == {"batchItemFailures": [{"itemIdentifier": POISON_MESSAGE_ID}]}
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1
    assert ledger_item("ORDER#ORD-0999", SubscriberName.FULFILMENT)["releases"] == 1


def test_redelivering_a_batch_has_no_second_effect(
    pub_sub, as_subscriber, sample_event, ledger_item
):
    # GIVEN fulfilment handled its poison batch once
    context = as_subscriber(SubscriberName.FULFILMENT)
    event = sample_event("sqs_fulfilment_poison.json")
    subscriber.handler(event, context)

    # WHEN SQS delivers the same messages again (the function timed out before Lambda deleted
    # them, say)
    for record in event["Records"]:
        record["attributes"]["ApproximateReceiveCount"] = "2"
    response = subscriber.handler(event, context)

    # THEN the counters stay at 1; only the poison record fails again
    assert response == {"batchItemFailures": [{"itemIdentifier": POISON_MESSAGE_ID}]}
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1
    assert ledger_item("ORDER#ORD-0999", SubscriberName.FULFILMENT)["releases"] == 1
    records = _idempotency_records(pub_sub)
    assert len(records) == 2
    assert {record["status"] for record in records} == {"COMPLETED"}


def test_the_same_event_in_a_new_message_has_no_second_effect(
    pub_sub, as_subscriber, sample_event, with_body, ledger_item
):
    # GIVEN a placed order was applied
    context = as_subscriber(SubscriberName.FULFILMENT)
    [record] = sample_event("sqs_fulfilment_envelope.json")["Records"][:1]
    subscriber.handler({"Records": [record]}, context)

    # WHEN the same event arrives in another SQS message (SNS delivers at least once; a
    # caller may republish it)
    duplicate = with_body(record, record["body"], message_id="a-second-delivery")
    response = subscriber.handler({"Records": [duplicate]}, context)

    # THEN it succeeds without a second reservation
    assert response == {"batchItemFailures": []}
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1


def test_subscribers_sharing_the_idempotency_table_each_apply_their_effect(
    pub_sub, as_subscriber, sample_event, ledger_item
):
    # GIVEN the cancelled order ORD-0999, which both fulfilment and notifications receive
    fulfilment_event = sample_event("sqs_fulfilment_envelope.json")
    notifications_event = sample_event("sqs_notifications_raw.json")

    # WHEN each consumer (its own function name) handles its batch
    subscriber.handler(fulfilment_event, as_subscriber(SubscriberName.FULFILMENT))
    subscriber.handler(notifications_event, as_subscriber(SubscriberName.NOTIFICATIONS))

    # THEN both effects happened: the idempotency keys carry the function name
    assert ledger_item("ORDER#ORD-0999", SubscriberName.FULFILMENT)["releases"] == 1
    assert ledger_item("ORDER#ORD-0999", SubscriberName.NOTIFICATIONS)["notifications_sent"] == 1
    keys = {record["id"].split("#")[0] for record in _idempotency_records(pub_sub)}
    assert keys == {
        "PubSub-fulfilment-Consumer.pub_sub.subscriber.apply_updates",
        "PubSub-notifications-Consumer.pub_sub.subscriber.apply_updates",
    }


def test_an_event_the_filter_should_have_dropped_fails_its_record(
    pub_sub, as_subscriber, sample_event, ledger_item
):
    # GIVEN notifications' batch (shipped, cancelled) delivered to fulfilment by mistake
    context = as_subscriber(SubscriberName.FULFILMENT)
    event = sample_event("sqs_notifications_raw.json")
    shipped_id = event["Records"][0]["messageId"]

    # WHEN fulfilment handles it
    response = subscriber.handler(event, context)

    # THEN the shipped record fails (fulfilment has no effect for it); the cancel applies
    assert response == {"batchItemFailures": [{"itemIdentifier": shipped_id}]}
    assert ledger_item("ORDER#ORD-0998", SubscriberName.FULFILMENT) is None
    assert ledger_item("ORDER#ORD-0999", SubscriberName.FULFILMENT)["releases"] == 1


def test_an_effect_that_raises_fails_its_record_and_is_retried_cleanly(
    pub_sub, as_subscriber, sample_event, ledger_item
):
    # GIVEN ORD-1002's ledger item holds a counter that is not a number, so ADD fails for it
    context = as_subscriber(SubscriberName.FULFILMENT)
    table = boto3.resource("dynamodb").Table(pub_sub.ledger_table)
    table.put_item(
        Item={"pk": "ORDER#ORD-1002", "sk": SubscriberName.FULFILMENT, "reservations": "many"}
    )
    event = sample_event("sqs_fulfilment_envelope.json")
    failing_id = event["Records"][1]["messageId"]

    # WHEN fulfilment handles its batch
    response = subscriber.handler(event, context)

    # THEN only ORD-1002's record fails, and its idempotency record was released
    assert response == {"batchItemFailures": [{"itemIdentifier": failing_id}]}
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1
    assert len(_idempotency_records(pub_sub)) == 2

    # AND once the item is repaired, the redelivered record applies, and only it
    table.delete_item(Key={"pk": "ORDER#ORD-1002", "sk": SubscriberName.FULFILMENT})
    assert subscriber.handler(event, context) == {"batchItemFailures": []}
    assert ledger_item("ORDER#ORD-1002", SubscriberName.FULFILMENT)["reservations"] == 1
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1


def test_a_new_event_reusing_an_event_id_is_rejected(
    pub_sub, as_subscriber, sample_event, with_body, ledger_item
):
    # GIVEN a placed order was applied
    context = as_subscriber(SubscriberName.FULFILMENT)
    [record] = sample_event("sqs_fulfilment_envelope.json")["Records"][:1]
    subscriber.handler({"Records": [record]}, context)

    # WHEN a different order arrives under the same event_id
    envelope = json.loads(record["body"])
    message = json.loads(envelope["Message"])
    envelope["Message"] = json.dumps({**message, "order_id": "ORD-7777"})
    impostor = with_body(record, json.dumps(envelope), message_id="impostor")
    response = subscriber.handler({"Records": [impostor, record]}, context)

    # THEN it fails (not silently taken for a duplicate) and has no effect
    assert response == {"batchItemFailures": [{"itemIdentifier": "impostor"}]}
    assert ledger_item("ORDER#ORD-7777", SubscriberName.FULFILMENT) is None
    assert ledger_item("ORDER#ORD-1001", SubscriberName.FULFILMENT)["reservations"] == 1


def test_a_batch_of_only_poison_fails_the_invoke(
    pub_sub, as_subscriber, sample_event: Callable[[str], dict[str, Any]], ledger_item
):
    # GIVEN a batch whose every record is poison
    context = as_subscriber(SubscriberName.FULFILMENT)
    event = sample_event("sqs_fulfilment_poison.json")
    event["Records"] = [event["Records"][1]]

    # WHEN it is handled THEN the invoke fails (Lambda backs off), nothing is written
    with pytest.raises(BatchProcessingError):
        subscriber.handler(event, context)
    assert _idempotency_records(pub_sub) == []


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_an_unknown_subscriber_name_fails_the_invoke(
    pub_sub, as_subscriber, sample_event, monkeypatch: pytest.MonkeyPatch
):
    context = as_subscriber(SubscriberName.FULFILMENT)
    monkeypatch.setenv(ENV_SUBSCRIBER_NAME, "billing")

    with pytest.raises(InvalidSettingError, match="SUBSCRIBER_NAME is 'billing'"):
        subscriber.handler(sample_event("sqs_fulfilment_envelope.json"), context)
