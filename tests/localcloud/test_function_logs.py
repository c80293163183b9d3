"""A function's logs on localcloud: where Lambda writes them, in what streams, in what shape,
and how they are searched."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

import localcloud
from localcloud.core.assembly import load_assembly
from localcloud.testing import App, ref

ORDERS = textwrap.dedent(
    '''
    """Logs one JSON line per event at the level it names; an event {"fail": ...} raises."""
    import json


    def place(order):
        if order.get("fail"):
            raise ValueError(f"order {order['fail']} declined")
        return order


    def handler(event, context):
        print(json.dumps({"level": event.get("level", "INFO"), "message": "placing"}))
        place(event)
        return {
            "request_id": context.aws_request_id,
            "log_group": context.log_group_name,
            "log_stream": context.log_stream_name,
        }
    '''
)


def _orders_app(*, json_logs: bool = False) -> App:
    app = App()
    app.function("Orders", ORDERS)
    if json_logs:
        app.add(
            "OrdersLogGroup",
            "AWS::Logs::LogGroup",
            {"LogGroupName": "/shop/orders", "RetentionInDays": 7},
        )
        app.resources["Orders"]["Properties"]["LoggingConfig"] = {
            "LogFormat": "JSON",
            "LogGroup": ref("OrdersLogGroup"),
            "ApplicationLogLevel": "INFO",
            "SystemLogLevel": "INFO",
        }
    return app


def _events(cloud: Any, group: str, **search: Any) -> list[dict[str, Any]]:
    return cloud.client("logs").filter_log_events(logGroupName=group, **search)["events"]


def _messages(cloud: Any, group: str, **search: Any) -> list[str]:
    return [event["message"] for event in _events(cloud, group, **search)]


def test_an_unhandled_error_is_logged_with_its_traceback_in_the_function_log_group(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]

    failed = cloud.invoke(name, {"fail": "o-1"})

    # THEN the log group holds Lambda's error record, as one event, between START and END
    messages = _messages(cloud, f"/aws/lambda/{name}")
    [error] = [message for message in messages if message.startswith("[ERROR]")]
    lines = error.split("\n")
    assert lines[0] == "[ERROR] ValueError: order o-1 declined"
    assert lines[1] == "Traceback (most recent call last):"
    # ...its frames indented as Lambda's runtime indents them (no-break spaces)
    frames = [line.replace("\u00a0", " ") for line in lines[2:]]
    assert frames == "".join(failed.error["stackTrace"]).splitlines()
    assert [line.rsplit(", in ", 1)[1] for line in frames if line.startswith("  File")] == [
        "handler",
        "place",
    ]
    assert "    raise ValueError(f\"order {order['fail']} declined\")" in frames
    assert messages.index(error) < next(
        index for index, message in enumerate(messages) if message.startswith("END RequestId")
    )


def test_the_error_and_the_log_show_only_the_handlers_frames(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]

    response = cloud.client("lambda").invoke(FunctionName=name, Payload=json.dumps({"fail": "o-2"}))

    error = json.loads(response["Payload"].read())
    frames = error["stackTrace"]
    assert [frame.split("\n")[0].rsplit(", in ", 1)[1] for frame in frames] == ["handler", "place"]
    assert all("orders.py" in frame for frame in frames)
    localcloud_dir = str(Path(localcloud.__file__).parent)
    logged = "\n".join(_messages(cloud, f"/aws/lambda/{name}"))
    assert localcloud_dir not in "".join(frames)
    assert localcloud_dir not in logged


def test_a_json_format_function_logs_structured_records_in_its_own_log_group(launch):
    cloud = launch(_orders_app(json_logs=True))
    name = cloud.outputs("Stack")["OrdersName"]

    failed = cloud.invoke(name, {"fail": "o-3", "level": "WARN"})

    records = [json.loads(message) for message in _messages(cloud, "/shop/orders")]
    assert [record.get("type", record.get("level")) for record in records] == [
        "platform.start",
        "WARN",
        "ERROR",
        "platform.runtimeDone",
        "platform.report",
    ]
    error = records[2]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "order o-3 declined"
    assert error["requestId"] == failed.request_id
    assert error["stackTrace"] == failed.error["stackTrace"]
    assert records[4]["record"]["status"] == "error"
    assert not cloud.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")[
        "logGroups"
    ]


def test_warm_invocations_share_their_environments_stream_and_a_cold_start_opens_a_new_one(
    launch,
):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]
    group = f"/aws/lambda/{name}"

    first = cloud.invoke(name, {}).payload
    second = cloud.invoke(name, {}).payload
    # WHEN a configuration change makes Lambda start a new environment
    cloud.client("lambda").update_function_configuration(
        FunctionName=name, Environment={"Variables": {"COLOUR": "red"}}
    )
    third = cloud.invoke(name, {}).payload

    streams = [
        stream["logStreamName"]
        for stream in cloud.client("logs").describe_log_streams(logGroupName=group)["logStreams"]
    ]
    assert first["log_stream"] == second["log_stream"] != third["log_stream"]
    assert sorted(streams) == sorted([first["log_stream"], third["log_stream"]])
    assert first["log_stream"].split("/")[3].startswith("[$LATEST]")
    starts = _messages(cloud, group, logStreamNames=[first["log_stream"]], filterPattern="START")
    assert len(starts) == 2


def test_the_invoke_response_names_the_invocations_request_id(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]

    response = cloud.client("lambda").invoke(FunctionName=name, Payload=json.dumps({}))

    request_id = response["ResponseMetadata"]["RequestId"]
    assert json.loads(response["Payload"].read())["request_id"] == request_id
    assert f"START RequestId: {request_id} Version: $LATEST" in _messages(
        cloud, f"/aws/lambda/{name}"
    )


def test_an_event_invoke_response_names_the_request_id_the_invocation_runs_with(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]

    response = cloud.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({})
    )
    cloud.settle()

    assert [invocation.payload["request_id"] for invocation in cloud.invocations] == [
        response["ResponseMetadata"]["RequestId"]
    ]


@pytest.mark.parametrize(
    ("pattern", "levels"),
    [
        ('{ $.level = "ERROR" }', ["ERROR"]),
        ('{ $.level = "ERROR" || $.level = "WARN" }', ["WARN", "ERROR"]),
        ('{ $.level != "INFO" }', ["WARN", "ERROR"]),
    ],
)
def test_filter_log_events_searches_json_logs_with_json_patterns(launch, pattern, levels):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]
    for level in ("INFO", "WARN", "ERROR"):
        cloud.invoke(name, {"level": level})

    found = _messages(cloud, f"/aws/lambda/{name}", filterPattern=pattern)

    assert [json.loads(message)["level"] for message in found] == levels


def test_filter_log_events_refuses_a_malformed_pattern(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]
    cloud.invoke(name, {})

    with pytest.raises(cloud.client("logs").exceptions.InvalidParameterException):
        _events(cloud, f"/aws/lambda/{name}", filterPattern='{ $.level = "ERROR"')


POWERTOOLS_LAYER = (
    "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:7"
)


def test_a_layer_version_of_the_stack_is_referenced_by_its_arn(launch):
    # GIVEN a function with the public Powertools layer and a layer version of its own stack
    app = _orders_app()
    code = app.resources["Orders"]["Properties"]["Code"]
    app.add(
        "Dependencies",
        "AWS::Lambda::LayerVersion",
        {"Content": {"S3Bucket": code["S3Bucket"], "S3Key": f"{app.asset_hash}.zip"}},
    )
    app.resources["Orders"]["Properties"]["Layers"] = [POWERTOOLS_LAYER, ref("Dependencies")]

    # WHEN it is deployed THEN the function lists both layers by ARN, the stack's as a version
    cloud = launch(app)
    name = cloud.outputs("Stack")["OrdersName"]
    config = cloud.client("lambda").get_function_configuration(FunctionName=name)
    public, own = (layer["Arn"] for layer in config["Layers"])
    assert public == POWERTOOLS_LAYER
    assert own.startswith("arn:aws:lambda:eu-west-1:123456789012:layer:")
    assert own.endswith(":1")


def test_the_function_configuration_reports_what_the_template_declares(launch):
    app = _orders_app(json_logs=True)
    app.add("OrdersDlq", "AWS::SQS::Queue", {})
    app.resources["Orders"]["Properties"].update(
        {
            "Architectures": ["arm64"],
            "Layers": [POWERTOOLS_LAYER],
            "TracingConfig": {"Mode": "Active"},
            "EphemeralStorage": {"Size": 1024},
            "MemorySize": 512,
            "Timeout": 20,
            "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "orders"}},
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["OrdersDlq", "Arn"]}},
        }
    )
    cloud = launch(app)
    name = cloud.outputs("Stack")["OrdersName"]

    config = cloud.client("lambda").get_function_configuration(FunctionName=name)

    assert config["Architectures"] == ["arm64"]
    assert [layer["Arn"] for layer in config["Layers"]] == [POWERTOOLS_LAYER]
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": "/shop/orders",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
    }
    assert config["EphemeralStorage"] == {"Size": 1024}
    assert (config["MemorySize"], config["Timeout"]) == (512, 20)
    assert config["Environment"] == {"Variables": {"POWERTOOLS_SERVICE_NAME": "orders"}}
    sqs = cloud.client("sqs")
    [queue_url] = sqs.list_queues()["QueueUrls"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    assert config["DeadLetterConfig"] == {"TargetArn": queue_arn["Attributes"]["QueueArn"]}


def test_a_text_format_function_reports_lambdas_default_logging_config(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]

    config = cloud.client("lambda").get_function_configuration(FunctionName=name)

    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert config["TracingConfig"] == {"Mode": "PassThrough"}
    assert "DeadLetterConfig" not in config


def test_update_function_configuration_applies_tracing_and_logging(launch):
    cloud = launch(_orders_app())
    name = cloud.outputs("Stack")["OrdersName"]
    functions = cloud.client("lambda")

    functions.update_function_configuration(
        FunctionName=name,
        TracingConfig={"Mode": "Active"},
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN"},
    )
    config = functions.get_function_configuration(FunctionName=name)
    cloud.invoke(name, {"level": "WARN"})

    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["LoggingConfig"]["LogFormat"] == "JSON"
    assert config["LoggingConfig"]["ApplicationLogLevel"] == "WARN"
    records = [json.loads(message) for message in _messages(cloud, f"/aws/lambda/{name}")]
    assert [record.get("type", record.get("level")) for record in records][:2] == [
        "platform.start",
        "WARN",
    ]


ALERTS = textwrap.dedent(
    '''
    """Answers with the messages of the CloudWatch Logs subscription event it is given."""
    import base64
    import gzip
    import json


    def handler(event, context):
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        return [log_event["message"] for log_event in data["logEvents"]]
    '''
)


def test_a_subscription_filter_sends_only_the_events_its_pattern_matches(launch):
    app = _orders_app()
    app.function("Alerts", ALERTS)
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    alerts = cloud.client("lambda").get_function(FunctionName=outputs["AlertsName"])
    cloud.client("logs").create_log_group(logGroupName=f"/aws/lambda/{outputs['OrdersName']}")
    cloud.client("logs").put_subscription_filter(
        logGroupName=f"/aws/lambda/{outputs['OrdersName']}",
        filterName="errors",
        filterPattern='{ $.level = "ERROR" }',
        destinationArn=alerts["Configuration"]["FunctionArn"],
    )

    cloud.invoke(outputs["OrdersName"], {"level": "INFO"})
    cloud.invoke(outputs["OrdersName"], {"level": "ERROR"})

    alerted = [
        invocation.payload
        for invocation in cloud.invocations
        if invocation.function == outputs["AlertsName"]
    ]
    assert [[json.loads(message)["level"] for message in batch] for batch in alerted] == [["ERROR"]]


def test_a_json_format_function_logs_only_application_lines_at_or_above_its_level(launch):
    app = _orders_app(json_logs=True)
    app.resources["Orders"]["Properties"]["LoggingConfig"]["ApplicationLogLevel"] = "WARN"
    cloud = launch(app)
    name = cloud.outputs("Stack")["OrdersName"]

    for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        cloud.invoke(name, {"level": level})

    logged = _messages(cloud, "/shop/orders", filterPattern="{ $.message = placing }")
    assert [json.loads(message)["level"] for message in logged] == ["WARNING", "ERROR"]


def test_a_redeployed_function_reports_the_settings_the_new_template_declares(launch, tmp_path):
    declared = _orders_app(json_logs=True)
    declared.resources["Orders"]["Properties"].update(
        {
            "Architectures": ["arm64"],
            "Layers": [POWERTOOLS_LAYER],
            "TracingConfig": {"Mode": "Active"},
            "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "orders"}},
        }
    )
    cloud = launch(declared)
    name = cloud.outputs("Stack")["OrdersName"]

    # WHEN the next template drops those settings and the stack is deployed again
    cloud.stacks = load_assembly(_orders_app().write(tmp_path / "cdk.out.2"))
    cloud.deploy("Stack")

    # THEN the function is back to Lambda's defaults, as CloudFormation leaves it
    config = cloud.client("lambda").get_function_configuration(FunctionName=name)
    assert config["Architectures"] == ["x86_64"]
    assert config.get("Layers", []) == []
    assert config["TracingConfig"] == {"Mode": "PassThrough"}
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert config.get("Environment", {}).get("Variables", {}) == {}


def test_a_log_groups_template_arn_ends_as_cloudformation_gives_it(launch):
    app = _orders_app(json_logs=True)
    app.output("OrdersLogGroupArn", {"Fn::GetAtt": ["OrdersLogGroup", "Arn"]})
    cloud = launch(app)

    arn = cloud.outputs("Stack")["OrdersLogGroupArn"]

    assert arn.startswith("arn:aws:logs:")
    assert arn.endswith(":log-group:/shop/orders:*")


def test_a_system_log_level_above_info_leaves_the_platform_records_out(launch):
    app = _orders_app(json_logs=True)
    app.resources["Orders"]["Properties"]["LoggingConfig"]["SystemLogLevel"] = "WARN"
    cloud = launch(app)

    cloud.invoke(cloud.outputs("Stack")["OrdersName"], {"level": "INFO"})

    records = [json.loads(message) for message in _messages(cloud, "/shop/orders")]
    assert [record.get("type", record.get("level")) for record in records] == ["INFO"]
