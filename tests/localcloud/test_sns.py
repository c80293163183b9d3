"""SNS on localcloud: filter policies, raw delivery to queues, async delivery to functions."""

from __future__ import annotations

import json

from localcloud.testing import App, ref
from tests.localcloud.apps import RECORDER, bodies, drain


def _publish(cloud, message: str, **attributes: str) -> None:
    cloud.client("sns").publish(
        TopicArn=cloud.outputs("Stack")["TopicArn"],
        Message=message,
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    )


def _fan_out_app() -> App:
    """A topic with an envelope subscriber filtering on attributes, and a raw one on the body."""
    app = App()
    topic = app.topic("Topic")
    app.subscription(
        "OrdersSubscription",
        topic,
        queue=app.queue("Orders"),
        filter_policy={"kind": ["order"]},
        raw_message_delivery=False,
    )
    app.subscription(
        "BigOrdersSubscription",
        topic,
        queue=app.queue("BigOrders"),
        filter_policy={"amount": [{"numeric": [">=", 1000]}]},
        filter_policy_scope="MessageBody",
        raw_message_delivery=True,
    )
    return app


def _publish_three_orders(cloud) -> None:
    _publish(cloud, '{"amount": 1500}', kind="order")
    _publish(cloud, '{"amount": 10}', kind="order")
    _publish(cloud, '{"amount": 2000}', kind="refund")


def test_an_attribute_filter_policy_and_the_sns_envelope(launch):
    cloud = launch(_fan_out_app())
    outputs = cloud.outputs("Stack")

    _publish_three_orders(cloud)

    # THEN the queue got the two kind=order messages, each inside SNS's JSON envelope
    envelopes = [json.loads(body) for body in bodies(cloud, outputs["OrdersUrl"])]
    assert [(envelope.get("Type"), envelope.get("Message")) for envelope in envelopes] == [
        ("Notification", '{"amount": 10}'),
        ("Notification", '{"amount": 1500}'),
    ]
    for envelope in envelopes:
        assert envelope["TopicArn"] == outputs["TopicArn"]
        assert envelope["MessageAttributes"]["kind"] == {"Type": "String", "Value": "order"}


def test_a_body_filter_policy_and_raw_message_delivery(launch):
    cloud = launch(_fan_out_app())

    _publish_three_orders(cloud)

    # THEN only the amounts >= 1000 arrived, as the bare message with its attributes
    messages = drain(cloud, cloud.outputs("Stack")["BigOrdersUrl"])
    assert sorted(message["Body"] for message in messages) == [
        '{"amount": 1500}',
        '{"amount": 2000}',
    ]
    assert sorted(message["MessageAttributes"]["kind"]["StringValue"] for message in messages) == [
        "order",
        "refund",
    ]


def _function_subscriber_app(*, fail: bool) -> App:
    app = App()
    topic = app.topic("Topic")
    results, dead_letters = app.queue("Results"), app.queue("DeadLetters")
    subscriber = app.function(
        "Subscriber",
        RECORDER,
        environment={"RESULTS_QUEUE_URL": ref(results), **({"FAIL": "always"} if fail else {})},
        dead_letter_queue=dead_letters,
    )
    app.subscription(
        "SubscriberSubscription", topic, function=subscriber, filter_policy={"kind": ["order"]}
    )
    return app


def test_a_subscribed_function_gets_one_sns_record_per_matching_message(launch):
    cloud = launch(_function_subscriber_app(fail=False))
    outputs = cloud.outputs("Stack")

    _publish(cloud, "placed", kind="order")
    _publish(cloud, "refunded", kind="refund")
    cloud.settle()

    # THEN only the matching message reached the function, as an aws:sns record
    events = [json.loads(body) for body in bodies(cloud, outputs["ResultsUrl"])]
    assert len(events) == 1
    [record] = events[0]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == outputs["TopicArn"]
    assert record["Sns"]["Message"] == "placed"
    assert record["Sns"]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}
    assert len(cloud.invocations) == 1


def test_a_failing_subscribed_function_is_retried_twice_then_dead_lettered(launch):
    cloud = launch(_function_subscriber_app(fail=True))
    outputs = cloud.outputs("Stack")

    _publish(cloud, "placed", kind="order")
    cloud.settle()

    # THEN Lambda ran it three times (1 + 2 retries), then sent the event to its DLQ
    assert [invocation.succeeded for invocation in cloud.invocations] == [False, False, False]
    [dead_letter] = drain(cloud, outputs["DeadLettersUrl"])
    assert json.loads(dead_letter["Body"])["Records"][0]["Sns"]["Message"] == "placed"
    attributes = dead_letter["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "asked to fail"
    assert attributes["RequestID"]["StringValue"]
