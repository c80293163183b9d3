"""EventBridge on localcloud: event patterns, target input, targets, schedules, dead letters.

The pattern, input and schedule rules themselves are unit cases
(tests/unit/localcloud/test_event_patterns.py); here a few of them prove a deployed rule uses them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from localcloud.services.events import service as events
from localcloud.services.events.service import EventBridgeRules
from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import RECORDER, drain
from tests.localcloud.notification_apps import (
    event_bus,
    fifo_queue,
    rule,
    state_machine,
    target,
)


def _put(cloud, detail: dict, *, source: str = "shop.orders", bus: str | None = None) -> None:
    entry = {"Source": source, "DetailType": "Order Placed", "Detail": json.dumps(detail)}
    if bus is not None:
        entry["EventBusName"] = bus
    response = cloud.client("events").put_events(Entries=[entry])
    assert response["FailedEntryCount"] == 0


def _bodies(cloud, queue_output: str) -> list[str]:
    return [message["Body"] for message in drain(cloud, cloud.outputs("Stack")[queue_output])]


def _events(cloud, queue_output: str) -> list[dict]:
    return [json.loads(body) for body in _bodies(cloud, queue_output)]


def _queue_rule_app(event_pattern: dict, **target_settings) -> App:
    app = App()
    inbox = app.queue("Inbox")
    rule(app, "Rule", [target(inbox, **target_settings)], event_pattern=event_pattern)
    return app


# Every pattern rule is a unit case (tests/unit/localcloud/test_event_patterns.py); these two
# prove that a deployed rule applies its pattern to the events put on its bus.
@pytest.mark.parametrize(
    ("detail_pattern", "matching", "not_matching"),
    [
        ({"sku": [{"prefix": "bk-"}]}, {"sku": "bk-42"}, {"sku": "cd-42"}),
        (
            {"$or": [{"amount": [{"numeric": [">=", 1000]}]}, {"priority": ["high"]}]},
            {"priority": "high", "amount": 1},
            {"priority": "low", "amount": 1},
        ),
    ],
)
def test_an_event_pattern_takes_matching_events_only(
    launch, detail_pattern, matching, not_matching
):
    cloud = launch(_queue_rule_app({"source": ["shop.orders"], "detail": detail_pattern}))

    _put(cloud, not_matching)
    _put(cloud, matching)
    _put(cloud, matching, source="shop.other")  # the source does not match either
    cloud.settle()

    # THEN only the matching event reached the target
    assert [event["detail"] for event in _events(cloud, "InboxUrl")] == [matching]


def test_the_target_gets_the_whole_event_in_eventbridges_shape(launch):
    cloud = launch(_queue_rule_app({"source": ["shop.orders"]}))

    _put(cloud, {"order": 7})
    cloud.client("events").put_events(
        Entries=[
            {
                "Source": "shop.orders",
                "DetailType": "Order Placed",
                "Detail": "{}",
                "Time": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                "Resources": ["arn:aws:shop:::order/8"],
            }
        ]
    )
    cloud.settle()

    event, with_time = _events(cloud, "InboxUrl")
    assert event.keys() == {
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    }  # fmt: skip
    assert event["detail-type"] == "Order Placed"
    assert event["source"] == "shop.orders"
    assert event["account"] == cloud.account_id
    assert event["region"] == cloud.region
    assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert event["detail"] == {"order": 7}
    assert event["resources"] == []
    # an entry's Time and Resources are kept
    assert with_time["time"] == "2024-01-02T03:04:05Z"
    assert with_time["resources"] == ["arn:aws:shop:::order/8"]


def test_an_input_transformer_fills_its_template_with_paths_of_the_event(launch):
    template = (
        '{"order": <order>, "customer": <customer>, "note": "order <order> for <name>",'
        ' "missing": <missing>, "rule": "<aws.events.rule-name>"}'
    )
    cloud = launch(
        _queue_rule_app(
            {"source": ["shop.orders"]},
            InputTransformer={
                "InputPathsMap": {
                    "order": "$.detail.id",
                    "customer": "$.detail.customer",
                    "name": "$.detail.customer.name",
                    "missing": "$.detail.nothing",
                },
                "InputTemplate": template,
            },
        )
    )

    _put(cloud, {"id": "o-1", "customer": {"name": "Ada", "tier": "gold"}})
    cloud.settle()

    # THEN strings are quoted in JSON values, unquoted inside strings; a missing path is null
    (body,) = _bodies(cloud, "InboxUrl")
    assert json.loads(body) == {
        "order": "o-1",
        "customer": {"name": "Ada", "tier": "gold"},
        "note": "order o-1 for Ada",
        "missing": None,
        "rule": cloud.outputs("Stack")["RuleName"],
    }


def test_a_function_target_is_invoked_asynchronously_with_the_event(launch):
    app = App()
    recorder = app.function("Recorder", RECORDER)
    rule(app, "Rule", [target(recorder)], event_pattern={"source": ["shop.orders"]})
    cloud = launch(app)

    _put(cloud, {"order": 9})
    # THEN EventBridge has not run it yet: targets are invoked asynchronously
    assert cloud.invocations == []
    cloud.settle()

    (invocation,) = cloud.invocations
    assert invocation.succeeded
    assert invocation.trigger == f"EventBridge {cloud.outputs('Stack')['RuleName']}"
    assert invocation.payload["echo"]["detail"] == {"order": 9}
    assert invocation.payload["echo"]["source"] == "shop.orders"


def test_a_failing_function_target_is_retried_by_lambda_not_dead_lettered_by_eventbridge(launch):
    app = App()
    recorder = app.function("Recorder", RECORDER, environment={"FAIL": "always"})
    lambda_failures, rule_dead_letters = app.queue("LambdaFailures"), app.queue("DeadLetters")
    app.output("LambdaFailuresArn", get_att(lambda_failures))
    rule(
        app,
        "Rule",
        [target(recorder, DeadLetterConfig={"Arn": get_att(rule_dead_letters)})],
        event_pattern={"source": ["shop.orders"]},
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    cloud.client("lambda").put_function_event_invoke_config(
        FunctionName=outputs["RecorderName"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": outputs["LambdaFailuresArn"]}},
    )

    _put(cloud, {"order": 10})
    cloud.settle()

    # THEN EventBridge handed the event over (an async invoke); Lambda retried it once, then
    # sent it to the function's on-failure destination
    assert [invocation.succeeded for invocation in cloud.invocations] == [False, False]
    (failure,) = _events(cloud, "LambdaFailuresUrl")
    assert failure["requestPayload"]["detail"] == {"order": 10}
    assert _events(cloud, "DeadLettersUrl") == []


def test_a_fifo_queue_target_gets_the_message_group_id(launch):
    app = App()
    ordered = fifo_queue(app, "Ordered")
    rule(
        app,
        "Rule",
        [target(ordered, SqsParameters={"MessageGroupId": "orders"})],
        event_pattern={"source": ["shop.orders"]},
    )
    cloud = launch(app)

    _put(cloud, {"n": 1})
    _put(cloud, {"n": 2})
    cloud.settle()

    messages = cloud.client("sqs").receive_message(
        QueueUrl=cloud.outputs("Stack")["OrderedUrl"],
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["MessageGroupId"],
    )["Messages"]
    assert [json.loads(m["Body"])["detail"] for m in messages] == [{"n": 1}, {"n": 2}]
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"orders"}


def test_a_state_machine_target_starts_an_execution_with_the_event_as_input(launch):
    app = App()
    machine = state_machine(app, "Fulfilment")
    rule(
        app,
        "Rule",
        [target(machine, arn=ref(machine), InputPath="$.detail")],
        event_pattern={"source": ["shop.orders"]},
    )
    cloud = launch(app)

    _put(cloud, {"order": "o-3"})
    _put(cloud, {"order": "o-4"})
    cloud.settle()

    # THEN one execution per event, each with a unique name and the event's detail as input
    sfn = cloud.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=cloud.outputs("Stack")["FulfilmentArn"])[
        "executions"
    ]
    assert len({execution["name"] for execution in executions}) == 2
    inputs = [
        json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        for execution in executions
    ]
    assert sorted(inputs, key=lambda value: value["order"]) == [{"order": "o-3"}, {"order": "o-4"}]


def test_a_rule_on_a_custom_bus_takes_events_put_on_that_bus_only(launch):
    app = App()
    bus = event_bus(app, "Orders")
    rule(
        app,
        "Rule",
        [target(app.queue("Inbox"))],
        event_pattern={"source": ["shop.orders"]},
        bus=bus,
    )
    cloud = launch(app)

    _put(cloud, {"on": "default"})
    _put(cloud, {"on": "custom"}, bus=cloud.outputs("Stack")["OrdersName"])
    cloud.settle()

    assert [event["detail"] for event in _events(cloud, "InboxUrl")] == [{"on": "custom"}]


def test_a_log_group_target_and_an_archive_keep_the_event(launch):
    app = App()
    app.add("Audit", "AWS::Logs::LogGroup", {"LogGroupName": "/shop/audit"})
    rule(app, "Rule", [target("Audit")], event_pattern={"source": ["shop.orders"]})
    cloud = launch(app)
    events = cloud.client("events")
    events.create_archive(
        ArchiveName="orders",
        EventSourceArn=events.describe_event_bus(Name="default")["Arn"],
        EventPattern=json.dumps({"source": ["shop.orders"]}),
    )

    _put(cloud, {"order": 11})
    cloud.settle()

    logged = cloud.client("logs").filter_log_events(logGroupName="/shop/audit")["events"]
    assert [json.loads(line["message"])["detail"] for line in logged] == [{"order": 11}]
    assert events.describe_archive(ArchiveName="orders")["EventCount"] == 1


def test_a_disabled_rule_takes_nothing(launch):
    cloud = launch(_queue_rule_app({"source": ["shop.orders"]}))
    cloud.client("events").disable_rule(Name=cloud.outputs("Stack")["RuleName"])

    _put(cloud, {"order": 1})
    cloud.settle()

    assert _events(cloud, "InboxUrl") == []


def _scheduled_app(schedule: str) -> App:
    app = App()
    rule(app, "Tick", [target(app.queue("Ticks"))], schedule=schedule)
    return app


def test_a_rate_schedule_fires_each_period_when_its_clock_moves_on(launch):
    cloud = launch(_scheduled_app("rate(5 minutes)"))
    schedules = cloud.engine.service(EventBridgeRules)
    rule_arn = cloud.outputs("Stack")["TickArn"]

    # GIVEN settling alone never fires a schedule (it would never end otherwise)
    cloud.settle()
    assert _events(cloud, "TicksUrl") == []

    # WHEN 16 simulated minutes pass
    fired = schedules.advance_schedules(16 * 60)
    cloud.settle()

    # THEN the rule fired three times, five minutes apart, with the scheduled event's shape
    events = _events(cloud, "TicksUrl")
    assert sorted(event["id"] for event in events) == sorted(event["id"] for event in fired)
    times = sorted(datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ") for event in events)
    assert [(later - earlier).total_seconds() for earlier, later in pairwise(times)] == [
        300.0,
        300.0,
    ]
    for event in events:
        assert event["source"] == "aws.events"
        assert event["detail-type"] == "Scheduled Event"
        assert event["resources"] == [rule_arn]
        assert event["detail"] == {}


def test_a_rule_with_only_a_schedule_takes_no_event_from_its_bus(launch):
    # GIVEN a rule that has a schedule and no event pattern
    cloud = launch(_scheduled_app("rate(1 hour)"))

    # WHEN events are put on its bus
    _put(cloud, {"order": 1})
    _put(cloud, {"bucket": "b"}, source="aws.s3")
    cloud.settle()

    # THEN its target gets none of them: the rule fires on its schedule only
    assert _events(cloud, "TicksUrl") == []


def test_in_background_delivery_a_schedule_fires_on_scaled_real_time(launch):
    cloud = launch(_scheduled_app("rate(1 minute)"))
    # GIVEN a clock 1000 times faster than AWS's: a minute takes 60 ms
    cloud.engine.time_scale = 0.001
    cloud.engine.pump(fast_forward=False)  # the rule's schedule starts now

    time.sleep(0.2)
    cloud.engine.pump(fast_forward=False)

    # THEN about three minutes of simulated time have passed, and the rule fired each minute
    assert 2 <= len(_events(cloud, "TicksUrl")) <= 4


def test_fire_schedule_fires_one_rule_now(launch):
    cloud = launch(_scheduled_app("rate(1 day)"))

    event = cloud.engine.service(EventBridgeRules).fire_schedule(cloud.outputs("Stack")["TickName"])
    cloud.settle()

    assert _events(cloud, "TicksUrl") == [event]


def test_an_event_a_target_cannot_take_goes_to_its_dead_letter_queue(launch):
    app = App()
    inbox, dead_letters = app.queue("Inbox"), app.queue("DeadLetters")
    rule(
        app,
        "Rule",
        [
            target(
                inbox,
                DeadLetterConfig={"Arn": get_att(dead_letters)},
                RetryPolicy={"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
            )
        ],
        event_pattern={"source": ["shop.orders"]},
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    inbox_arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=outputs["InboxUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    # GIVEN the target queue no longer exists
    cloud.client("sqs").delete_queue(QueueUrl=outputs["InboxUrl"])

    _put(cloud, {"order": 5})
    cloud.settle()

    # THEN the event is in the dead-letter queue, with the attributes EventBridge sets; a
    # missing resource is not retried
    (message,) = drain(cloud, outputs["DeadLettersUrl"])
    assert json.loads(message["Body"])["detail"] == {"order": 5}
    attributes = {
        name: value["StringValue"] for name, value in message["MessageAttributes"].items()
    }
    assert attributes == {
        "RULE_ARN": outputs["RuleArn"],
        "TARGET_ARN": inbox_arn,
        "ERROR_CODE": "NO_RESOURCE",
        "ERROR_MESSAGE": f"Queue not found: {inbox_arn}",
        "RETRY_ATTEMPTS": "0",
    }


@pytest.mark.parametrize(
    ("retry_policy", "attempts", "exhausted_condition"),
    [
        ({"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}, 4, "MaximumRetryAttempts"),
        # backoff of 1, 2, 4, 8 and 16 s fits in 60 s; the next 32 s would not
        (
            {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60},
            6,
            "MaximumEventAgeInSeconds",
        ),
    ],
    ids=["attempts", "event-age"],
)
def test_a_throttled_target_is_retried_under_its_retry_policy_then_dead_lettered(
    launch, monkeypatch, retry_policy, attempts, exhausted_condition
):
    app = App()
    dead_letters = app.queue("DeadLetters")
    rule(
        app,
        "Rule",
        [
            target(
                app.queue("Inbox"),
                DeadLetterConfig={"Arn": get_att(dead_letters)},
                RetryPolicy=retry_policy,
            )
        ],
        event_pattern={"source": ["shop.orders"]},
    )
    cloud = launch(app)
    # GIVEN a target that throttles every call (local targets never do on their own)
    calls = []

    def throttled(rule, target, event):
        calls.append(event["id"])
        raise events.TargetError("THROTTLING", "Rate exceeded", retryable=True)

    monkeypatch.setattr(events, "send_to_target", throttled)

    _put(cloud, {"order": 12})
    cloud.settle()

    # THEN the first call and its retries were made, then the event was dead-lettered
    assert len(calls) == attempts
    (message,) = drain(cloud, cloud.outputs("Stack")["DeadLettersUrl"])
    attributes = {
        name: value["StringValue"] for name, value in message["MessageAttributes"].items()
    }
    assert attributes["ERROR_CODE"] == "THROTTLING"
    assert attributes["RETRY_ATTEMPTS"] == str(attempts - 1)
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == exhausted_condition


def test_a_fifo_target_without_content_based_deduplication_is_dead_lettered(launch):
    app = App()
    ordered = fifo_queue(app, "Ordered", content_based_deduplication=False)
    dead_letters = app.queue("DeadLetters")
    rule(
        app,
        "Rule",
        [
            target(
                ordered,
                SqsParameters={"MessageGroupId": "orders"},
                DeadLetterConfig={"Arn": get_att(dead_letters)},
            )
        ],
        event_pattern={"source": ["shop.orders"]},
    )
    cloud = launch(app)

    _put(cloud, {"order": 6})
    cloud.settle()

    (message,) = drain(cloud, cloud.outputs("Stack")["DeadLettersUrl"])
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "INVALID_PARAMETER"
    assert _bodies(cloud, "OrderedUrl") == []
