"""Invoking a function on localcloud: Lambda's API answers, async invokes, timeouts."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from localcloud.core.engine import EngineError
from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import RECORDER, bodies, drain
from tests.localcloud.notification_apps import bucket, event_bus, rule, target


def _recorder_app(*, timeout: int = 10) -> App:
    app = App()
    results = app.queue("Results")
    app.function(
        "Recorder",
        RECORDER,
        environment={"RESULTS_QUEUE_URL": ref(results), "COLOUR": "blue"},
        timeout=timeout,
    )
    return app


def test_a_request_response_invoke_returns_the_payload_and_the_log_tail(launch):
    cloud = launch(_recorder_app())
    name = cloud.outputs("Stack")["RecorderName"]

    response = cloud.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps({"hello": "world"}), LogType="Tail"
    )

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {
        "echo": {"hello": "world"},
        "colour": "blue",
    }
    assert 'handling {"hello": "world"}' in base64.b64decode(response["LogResult"]).decode()


def test_a_request_response_invoke_returns_no_log_tail_unless_asked(launch):
    cloud = launch(_recorder_app())

    response = cloud.client("lambda").invoke(
        FunctionName=cloud.outputs("Stack")["RecorderName"], Payload=json.dumps({"n": 1})
    )

    assert response["StatusCode"] == 200
    assert "LogResult" not in response


def test_an_event_invoke_is_accepted_then_runs_when_the_cloud_settles(launch):
    cloud = launch(_recorder_app())
    outputs = cloud.outputs("Stack")

    response = cloud.client("lambda").invoke(
        FunctionName=outputs["RecorderName"],
        InvocationType="Event",
        Payload=json.dumps({"n": 1}),
    )

    # THEN Lambda accepted it (202) without running it yet...
    assert response["StatusCode"] == 202
    assert cloud.invocations == []
    # ...and it runs once delivery happens
    cloud.settle()
    assert [invocation.succeeded for invocation in cloud.invocations] == [True]
    assert bodies(cloud, outputs["ResultsUrl"]) == ['{"n": 1}']


def test_a_raising_handler_answers_with_an_unhandled_function_error(launch):
    cloud = launch(_recorder_app())

    response = cloud.client("lambda").invoke(
        FunctionName=cloud.outputs("Stack")["RecorderName"], Payload=json.dumps({"fail": True})
    )

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"


def test_a_handler_past_its_timeout_fails_and_the_next_invocation_is_a_cold_start(launch):
    cloud = launch(_recorder_app(timeout=1))
    name = cloud.outputs("Stack")["RecorderName"]

    # GIVEN a warm function
    cloud.invoke(name, {})
    cloud.invoke(name, {})
    # WHEN an invocation runs past the 1 s timeout
    timed_out = cloud.invoke(name, {"sleep": 3})
    after = cloud.invoke(name, {})

    assert timed_out.error is not None
    assert timed_out.error["errorType"] == "Sandbox.Timedout"
    # THEN Lambda reset the sandbox: the next invocation starts cold
    assert [invocation.cold_start for invocation in cloud.invocations] == [True, False, False, True]
    assert after.succeeded


def _destinations_app(
    app: App | None = None, *, on_success: Any = None, on_failure: Any = None, **invoke_config
) -> App:
    """RECORDER with an EventInvokeConfig (as CDK writes for `on_success`/`on_failure`).

    The destinations default to the queues `Successes` and `Failures`.
    """
    app = app or _recorder_app()
    if on_success is None:
        on_success = get_att(app.queue("Successes"))
    if on_failure is None:
        on_failure = get_att(app.queue("Failures"))
    app.add(
        "RecorderEventInvokeConfig",
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": ref("Recorder"),
            "Qualifier": "$LATEST",
            "DestinationConfig": {
                "OnSuccess": {"Destination": on_success},
                "OnFailure": {"Destination": on_failure},
            },
            **invoke_config,
        },
    )
    return app


def _async_invoke(cloud, event: dict) -> None:
    cloud.client("lambda").invoke(
        FunctionName=cloud.outputs("Stack")["RecorderName"],
        InvocationType="Event",
        Payload=json.dumps(event),
    )


def test_the_template_event_invoke_config_sends_a_success_record_to_on_success(launch):
    cloud = launch(_destinations_app())

    _async_invoke(cloud, {"n": 1})
    cloud.settle()

    [body] = bodies(cloud, cloud.outputs("Stack")["SuccessesUrl"])
    record = json.loads(body)
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": {"n": 1}, "colour": "blue"}
    assert bodies(cloud, cloud.outputs("Stack")["FailuresUrl"]) == []


def test_the_template_retry_attempts_bound_the_invocations_before_on_failure(launch):
    cloud = launch(_destinations_app(MaximumRetryAttempts=1))

    _async_invoke(cloud, {"fail": True})
    cloud.settle()

    # THEN 1 + 1 retry, then the failure record with Lambda's condition
    assert [invocation.succeeded for invocation in cloud.invocations] == [False, False]
    [body] = bodies(cloud, cloud.outputs("Stack")["FailuresUrl"])
    record = json.loads(body)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"


def test_an_event_older_than_the_maximum_age_is_not_retried(launch):
    # Lambda retries about one and then two minutes apart: the second retry would come when
    # the event is three minutes old, past a 100 s maximum event age.
    cloud = launch(_destinations_app(MaximumEventAgeInSeconds=100))

    _async_invoke(cloud, {"fail": True})
    cloud.settle()

    assert [invocation.succeeded for invocation in cloud.invocations] == [False, False]
    [body] = bodies(cloud, cloud.outputs("Stack")["FailuresUrl"])
    assert json.loads(body)["requestContext"]["condition"] == "EventAgeExceeded"


def test_a_destination_record_carries_the_request_id_the_function_saw(launch):
    cloud = launch(_destinations_app())

    _async_invoke(cloud, {"n": 1})
    cloud.settle()

    [body] = bodies(cloud, cloud.outputs("Stack")["SuccessesUrl"])
    [invocation] = cloud.invocations
    assert json.loads(body)["requestContext"]["requestId"] == invocation.request_id


def test_a_failed_event_goes_to_both_the_on_failure_destination_and_the_dead_letter_queue(
    launch,
):
    app = _recorder_app()
    dead_letters = app.queue("DeadLetters")
    app.resources["Recorder"]["Properties"]["DeadLetterConfig"] = {
        "TargetArn": get_att(dead_letters)
    }
    cloud = launch(_destinations_app(app, MaximumRetryAttempts=0))

    _async_invoke(cloud, {"fail": True})
    cloud.settle()

    outputs = cloud.outputs("Stack")
    [record] = bodies(cloud, outputs["FailuresUrl"])
    assert json.loads(record)["requestPayload"] == {"fail": True}
    [dead_letter] = drain(cloud, outputs["DeadLettersUrl"])
    assert json.loads(dead_letter["Body"]) == {"fail": True}
    assert dead_letter["MessageAttributes"]["ErrorMessage"]["StringValue"] == "asked to fail"


def test_an_event_bus_destination_gets_the_record_as_a_lambda_event(launch):
    app = _recorder_app()
    bus = event_bus(app, "InvocationResults")
    seen = app.queue("Seen")
    rule(
        app,
        "Outcomes",
        [target(seen)],
        event_pattern={"source": ["lambda"]},
        bus=bus,
    )
    cloud = launch(_destinations_app(app, on_success=get_att(bus), on_failure=get_att(bus)))

    _async_invoke(cloud, {"n": 1})
    _async_invoke(cloud, {"fail": True})
    cloud.settle()

    events = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["SeenUrl"])]
    by_type = {event["detail-type"]: event for event in events}
    assert set(by_type) == {
        "Lambda Function Invocation Result - Success",
        "Lambda Function Invocation Result - Failure",
    }
    assert by_type["Lambda Function Invocation Result - Success"]["detail"]["requestPayload"] == {
        "n": 1
    }
    failure = by_type["Lambda Function Invocation Result - Failure"]["detail"]
    assert failure["requestContext"]["condition"] == "RetriesExhausted"


def test_a_bucket_on_failure_destination_gets_the_record_as_an_object(launch):
    app = _recorder_app()
    failures = bucket(app, "Failures")
    cloud = launch(_destinations_app(app, on_failure=get_att(failures), MaximumRetryAttempts=0))

    _async_invoke(cloud, {"fail": True})
    cloud.settle()

    s3 = cloud.client("s3")
    name = cloud.outputs("Stack")["FailuresName"]
    [listed] = s3.list_objects_v2(Bucket=name)["Contents"]
    assert listed["Key"].startswith("aws/lambda/")
    record = json.loads(s3.get_object(Bucket=name, Key=listed["Key"])["Body"].read())
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"fail": True}


def test_a_record_whose_destination_is_gone_is_kept_as_discarded(launch):
    app = _recorder_app()
    missing = "arn:aws:sqs:eu-west-1:123456789012:no-such-queue"
    cloud = launch(_destinations_app(app, on_success=missing, on_failure=missing))

    _async_invoke(cloud, {"n": 1})
    cloud.settle()

    [discarded] = cloud.engine.discarded_events
    assert missing in discarded["reason"]
    assert json.loads(discarded["body"])["requestPayload"] == {"n": 1}


def test_a_function_invoking_itself_forever_cannot_make_settle_hang(launch):
    app = App()
    app.function(
        "Recorder",
        "import boto3, json, os\n"
        "def handler(event, context):\n"
        "    boto3.client('lambda').invoke(FunctionName=os.environ['AWS_LAMBDA_FUNCTION_NAME'],"
        " InvocationType='Event', Payload=json.dumps(event))\n",
    )
    cloud = launch(app)

    _async_invoke(cloud, {"n": 1})

    # THEN each delivery round runs what was queued before it, so the rounds are bounded
    with pytest.raises(EngineError, match="still pending"):
        cloud.engine.settle(max_rounds=20)
    assert 15 <= len(cloud.invocations) <= 21


def test_a_synchronous_invoke_from_a_handler_ends_at_the_callers_read_timeout(launch):
    app = App()
    app.function(
        "Slow",
        "import time\n"
        "def handler(event, context):\n"
        "    time.sleep(event['sleep'])\n"
        "    return {'slept': event['sleep']}\n",
    )
    app.function(
        "Caller",
        "import boto3, json, os, time\n"
        "from botocore.config import Config\n"
        "from botocore.exceptions import ReadTimeoutError\n"
        "def handler(event, context):\n"
        "    client = boto3.client('lambda', config=Config(read_timeout=0.2,"
        " retries={'total_max_attempts': 1}))\n"
        "    started = time.monotonic()\n"
        "    try:\n"
        "        response = client.invoke(FunctionName=os.environ['SLOW'],"
        " Payload=json.dumps(event))\n"
        "        answer = json.loads(response['Payload'].read())\n"
        "    except ReadTimeoutError as error:\n"
        "        answer = type(error).__name__\n"
        "    return {'answer': answer, 'waited': time.monotonic() - started}\n",
        environment={"SLOW": ref("Slow")},
    )
    cloud = launch(app)
    caller = cloud.outputs("Stack")["CallerName"]

    # WHEN the callee answers within the caller's 0.2 s read timeout, and then when it does not
    quick = cloud.invoke(caller, {"sleep": 0})
    slow = cloud.invoke(caller, {"sleep": 1.5})

    assert quick.payload["answer"] == {"slept": 0}
    # THEN the caller gets botocore's read timeout after 0.2 s, not the answer after 1.5 s
    assert slow.payload["answer"] == "ReadTimeoutError"
    assert 0.2 <= slow.payload["waited"] < 0.6
    stopped = [i for i in cloud.invocations if i.function.startswith("Stack-Slow")][-1]
    assert stopped.caller_gave_up
    assert stopped.error["errorType"] == "Localcloud.CallerStoppedWaiting"
