"""Invoking a function on localcloud: Lambda's API answers, async invokes, timeouts."""

from __future__ import annotations

import base64
import json

from tests.localcloud.apps import RECORDER, App, bodies, get_att, ref


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


def _destinations_app(**invoke_config) -> App:
    """RECORDER with an EventInvokeConfig (as CDK writes for `on_success`/`on_failure`)."""
    app = _recorder_app()
    successes, failures = app.queue("Successes"), app.queue("Failures")
    app.add(
        "RecorderEventInvokeConfig",
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": ref("Recorder"),
            "Qualifier": "$LATEST",
            "DestinationConfig": {
                "OnSuccess": {"Destination": get_att(successes)},
                "OnFailure": {"Destination": get_att(failures)},
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
