"""EventBridge Pipes on localcloud: SQS, Kinesis and DynamoDB Streams sources read by the shared
pollers, filters, enrichment, targets (bus, queue, function, state machine), retries and the
dead-letter queue, stop and start."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from localcloud.core.assembly import load_assembly
from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import bodies, drain
from tests.localcloud.notification_apps import event_bus, rule, state_machine, target
from tests.localcloud.pipe_apps import ENRICHER, PIPE_TARGET, pipe
from tests.localcloud.pipe_apps import state_machine as express_machine
from tests.localcloud.stream_apps import filter_criteria, kinesis_stream, stream_table


def _send(cloud, queue: str, *texts: str) -> None:
    url = cloud.outputs("Stack")[f"{queue}Url"]
    for text in texts:
        cloud.client("sqs").send_message(QueueUrl=url, MessageBody=text)


def _batches(cloud, queue: str = "Results") -> list[list]:
    """What PIPE_TARGET was handed, one list per invocation, in order of arrival."""
    return [json.loads(m["Body"]) for m in drain(cloud, cloud.outputs("Stack")[f"{queue}Url"])]


def _target_function(app: App, *, mode: str = "succeed") -> str:
    results = app.queue("Results")
    return app.function(
        "Target", PIPE_TARGET, environment={"RESULTS_QUEUE_URL": ref(results), "MODE": mode}
    )


def _queue_arn(cloud, queue: str) -> str:
    return cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.outputs("Stack")[f"{queue}Url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]


def _put_records(cloud, *texts: str) -> None:
    kinesis = cloud.client("kinesis")
    name = cloud.outputs("Stack")["StreamName"]
    for text in texts:
        kinesis.put_record(StreamName=name, Data=text.encode(), PartitionKey="p")


def test_a_pipe_in_a_template_deploys_running_and_answers_the_pipes_api(launch):
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    pipe(app, "Pipe", source=get_att("Inbox"), target=get_att("Outbox"))
    cloud = launch(app)

    outputs = cloud.outputs("Stack")
    described = cloud.client("pipes").describe_pipe(Name=outputs["PipeName"])

    assert described["Arn"] == outputs["PipeArn"]
    assert (described["DesiredState"], described["CurrentState"]) == ("RUNNING", "RUNNING")
    assert described["Source"] == _queue_arn(cloud, "Inbox")
    assert described["Target"] == _queue_arn(cloud, "Outbox")


def test_an_sqs_source_puts_each_message_on_a_bus_with_the_pipe_detail_type_and_source(launch):
    # GIVEN a pipe from a queue to a custom bus, and a rule on the bus forwarding to a queue
    app = App()
    app.queue("Inbox")
    seen = app.queue("Seen")
    bus = event_bus(app, "Bus")
    rule(
        app,
        "Outbox",
        [target(seen)],
        event_pattern={"source": ["orders.outbox"]},
        bus=bus,
    )
    pipe(
        app,
        "Pipe",
        source=get_att("Inbox"),
        target=get_att(bus),
        target_parameters={
            "EventBridgeEventBusParameters": {
                "DetailType": "OrderPlaced",
                "Source": "orders.outbox",
            }
        },
    )
    cloud = launch(app)

    _send(cloud, "Inbox", '{"order": 1}', '{"order": 2}')
    cloud.settle()

    # THEN each message is one event on the bus, the SQS record as its detail
    events = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["SeenUrl"])]
    assert sorted(event["detail"]["body"] for event in events) == ['{"order": 1}', '{"order": 2}']
    assert {(event["detail-type"], event["source"]) for event in events} == {
        ("OrderPlaced", "orders.outbox")
    }
    assert {event["detail"]["eventSource"] for event in events} == {"aws:sqs"}
    assert drain(cloud, cloud.outputs("Stack")["InboxUrl"]) == []


def test_a_filter_drops_and_deletes_the_messages_it_does_not_match(launch):
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    pipe(
        app,
        "Pipe",
        source=get_att("Inbox"),
        target=get_att("Outbox"),
        source_parameters={"FilterCriteria": filter_criteria({"body": {"kind": ["paid"]}})},
    )
    cloud = launch(app)

    _send(cloud, "Inbox", '{"kind": "paid", "n": 1}', '{"kind": "draft", "n": 2}', "plain")
    cloud.settle()

    # THEN only the matching message reaches the queue target (as its SQS record), and the
    # others are gone from the source, not waiting to be received again
    outbox = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["OutboxUrl"])]
    assert [record["body"] for record in outbox] == ['{"kind": "paid", "n": 1}']
    sqs = cloud.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=cloud.outputs("Stack")["InboxUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_filter_lambda_refuses_is_refused_by_create_pipe(launch):
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    cloud = launch(app)
    queue_arn = _queue_arn(cloud, "Inbox")

    with pytest.raises(ClientError) as refused:
        cloud.client("pipes").create_pipe(
            Name="bad",
            RoleArn="arn:aws:iam::123456789012:role/pipe",
            Source=queue_arn,
            Target=queue_arn,
            SourceParameters={"FilterCriteria": {"Filters": [{"Pattern": "not json"}]}},
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_a_dynamodb_stream_reaches_a_function_in_batches_of_the_pipe_batch_size(launch):
    app = App()
    table = stream_table(app, "Events")
    function = _target_function(app)
    pipe(
        app,
        "Pipe",
        source=get_att(table, "StreamArn"),
        target=get_att(function),
        source_parameters={
            "DynamoDBStreamParameters": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 2}
        },
    )
    cloud = launch(app)

    dynamodb = cloud.client("dynamodb")
    for n in range(3):
        dynamodb.put_item(
            TableName=cloud.outputs("Stack")["EventsName"], Item={"id": {"S": f"e{n}"}}
        )
    cloud.settle()

    # THEN the function gets the records as a JSON list, two then one, in order
    batches = _batches(cloud)
    assert [[r["dynamodb"]["Keys"]["id"]["S"] for r in batch] for batch in batches] == [
        ["e0", "e1"],
        ["e2"],
    ]
    assert batches[0][0]["eventName"] == "INSERT"
    assert batches[0][0]["eventSource"] == "aws:dynamodb"


def test_an_enrichment_answer_is_what_reaches_the_target(launch):
    # GIVEN Kinesis -> enrichment -> queue
    app = App()
    stream = kinesis_stream(app, "Stream")
    enricher = app.function("Enricher", ENRICHER)
    app.queue("Outbox")
    pipe(
        app,
        "Pipe",
        source=get_att(stream),
        target=get_att("Outbox"),
        enrichment=get_att(enricher),
        source_parameters={
            "KinesisStreamParameters": {"StartingPosition": "TRIM_HORIZON", "BatchSize": 10}
        },
    )
    cloud = launch(app)

    _put_records(cloud, "o-1", "o-2")
    cloud.settle()

    # THEN the enricher saw the records with Kinesis' fields at the top level, and the queue
    # got one message per event of its answer
    outbox = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["OutboxUrl"])]
    assert outbox == [{"order": "o-1", "key": "p"}, {"order": "o-2", "key": "p"}]
    assert [invocation.trigger for invocation in cloud.invocations] == [
        f"Pipe {cloud.outputs('Stack')['PipeName']}"
    ]


def test_a_state_machine_target_starts_one_execution_with_the_batch(launch):
    app = App()
    app.queue("Inbox")
    machine = state_machine(app, "Machine")
    pipe(app, "Pipe", source=get_att("Inbox"), target=ref(machine))
    cloud = launch(app)

    _send(cloud, "Inbox", "a", "b")
    cloud.settle()

    sfn = cloud.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=cloud.outputs("Stack")["MachineArn"])[
        "executions"
    ]
    assert len(executions) == 1
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert sorted(record["body"] for record in json.loads(described["input"])) == ["a", "b"]


def test_a_failing_target_is_retried_then_the_stream_batch_goes_to_the_pipe_dlq(launch):
    app = App()
    stream = kinesis_stream(app, "Stream")
    function = _target_function(app, mode="raise")
    dead_letters = app.queue("DeadLetters")
    pipe(
        app,
        "Pipe",
        source=get_att(stream),
        target=get_att(function),
        source_parameters={
            "KinesisStreamParameters": {
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": 10,
                "MaximumRetryAttempts": 2,
                "DeadLetterConfig": {"Arn": get_att(dead_letters)},
            }
        },
    )
    cloud = launch(app)

    _put_records(cloud, "x", "y")
    cloud.settle()

    # THEN the first attempt and two retries reached the target, and the DLQ holds the
    # Pipes record describing the batch
    assert len(_batches(cloud)) == 3
    [dead] = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["DeadLettersUrl"])]
    assert dead["context"] == {
        "partnerResourceArn": cloud.outputs("Stack")["PipeArn"],
        "condition": "RetryAttemptsExhausted",
    }
    assert dead["KinesisBatchInfo"]["batchSize"] == 2
    assert dead["KinesisBatchInfo"]["streamArn"] == cloud.outputs("Stack")["StreamArn"]


def test_a_failing_target_returns_sqs_messages_to_the_source_queue_and_its_redrive(launch):
    app = App()
    app.queue("Inbox", max_receive_count=2)
    function = _target_function(app, mode="raise")
    pipe(app, "Pipe", source=get_att("Inbox"), target=get_att(function))
    cloud = launch(app)

    _send(cloud, "Inbox", "doomed")
    cloud.settle()

    # THEN it was tried maxReceiveCount times, then moved to the source queue's DLQ
    assert len(_batches(cloud)) == 2
    assert bodies(cloud, cloud.outputs("Stack")["InboxDlqUrl"]) == ["doomed"]


def test_batch_item_failures_from_a_function_target_return_only_those_messages(launch):
    app = App()
    app.queue("Inbox")
    function = _target_function(app, mode="report-poison")
    pipe(app, "Pipe", source=get_att("Inbox"), target=get_att(function))
    cloud = launch(app)

    _send(cloud, "Inbox", "good", "poison")
    cloud.settle()

    # THEN the second batch holds only the reported message
    batches = _batches(cloud)
    assert [sorted(record["body"] for record in batch) for batch in batches] == [
        ["good", "poison"],
        ["poison"],
    ]


def test_a_stopped_pipe_delivers_nothing_and_resumes_when_started(launch):
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    pipe(app, "Pipe", source=get_att("Inbox"), target=get_att("Outbox"), desired_state="STOPPED")
    cloud = launch(app)
    pipes = cloud.client("pipes")
    name = cloud.outputs("Stack")["PipeName"]
    outbox = cloud.outputs("Stack")["OutboxUrl"]

    _send(cloud, "Inbox", "held")
    cloud.settle()
    assert drain(cloud, outbox) == []

    pipes.start_pipe(Name=name)
    cloud.settle()
    assert [json.loads(b)["body"] for b in bodies(cloud, outbox)] == ["held"]

    pipes.stop_pipe(Name=name)
    _send(cloud, "Inbox", "later")
    cloud.settle()
    assert drain(cloud, outbox) == []


def test_a_pipe_created_through_the_api_starts_at_latest_and_delivers(launch):
    app = App()
    kinesis_stream(app, "Stream")
    app.queue("Outbox")
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    outbox_arn = _queue_arn(cloud, "Outbox")

    _put_records(cloud, "before")
    cloud.client("pipes").create_pipe(
        Name="api-pipe",
        RoleArn="arn:aws:iam::123456789012:role/pipe",
        Source=outputs["StreamArn"],
        Target=outbox_arn,
        SourceParameters={"KinesisStreamParameters": {"StartingPosition": "LATEST"}},
    )
    _put_records(cloud, "after")
    cloud.settle()

    # THEN only what was put after the pipe was created reaches the target
    delivered = [json.loads(body) for body in bodies(cloud, outputs["OutboxUrl"])]
    assert [base64.b64decode(event["data"]) for event in delivered] == [b"after"]


def test_a_target_input_template_reshapes_each_event_reading_a_json_body_decoded(launch):
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    pipe(
        app,
        "Pipe",
        source=get_att("Inbox"),
        target=get_att("Outbox"),
        target_parameters={
            "InputTemplate": '{"order": <$.body.id>, "pipe": "<aws.pipes.pipe-name>"}'
        },
    )
    cloud = launch(app)

    _send(cloud, "Inbox", '{"id": 7}')
    cloud.settle()

    outbox = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["OutboxUrl"])]
    assert outbox == [{"order": 7, "pipe": cloud.outputs("Stack")["PipeName"]}]


def _queue_pipe_app(**settings) -> App:
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    pipe(app, "Pipe", source=get_att("Inbox"), target=get_att("Outbox"), **settings)
    return app


def test_a_redeployed_pipe_is_updated_in_place_and_a_stopped_state_holds_its_source(
    launch, tmp_path
):
    cloud = launch(_queue_pipe_app())
    outputs = cloud.outputs("Stack")

    # WHEN the template's pipe is stopped and given a target template, and deployed again
    cloud.stacks = load_assembly(
        _queue_pipe_app(
            desired_state="STOPPED", target_parameters={"InputTemplate": '"<$.body>"'}
        ).write(tmp_path / "cdk.out.2")
    )
    cloud.deploy("Stack")
    _send(cloud, "Inbox", "held")
    cloud.settle()

    # THEN it is the same pipe, now stopped, and delivers with its new settings once started
    assert cloud.outputs("Stack")["PipeArn"] == outputs["PipeArn"]
    assert drain(cloud, outputs["OutboxUrl"]) == []
    cloud.client("pipes").start_pipe(Name=outputs["PipeName"])
    cloud.settle()
    assert bodies(cloud, outputs["OutboxUrl"]) == ["held"]


def test_an_express_state_machine_enrichment_output_is_what_reaches_the_target(launch):
    app = App()
    app.queue("Inbox")
    app.queue("Outbox")
    each_order = {
        "Type": "Map",
        "Iterator": {
            "StartAt": "Order",
            "States": {"Order": {"Type": "Pass", "Parameters": {"order.$": "$.body"}, "End": True}},
        },
        "End": True,
    }
    machine = express_machine(app, "Enricher", {"EachOrder": each_order}, express=True)
    pipe(app, "Pipe", source=get_att("Inbox"), target=get_att("Outbox"), enrichment=ref(machine))
    cloud = launch(app)

    _send(cloud, "Inbox", "o-1", "o-2")
    cloud.settle()

    # THEN one execution enriched the batch, and its output is what the queue received
    outbox = [json.loads(body) for body in bodies(cloud, cloud.outputs("Stack")["OutboxUrl"])]
    assert outbox == [{"order": "o-1"}, {"order": "o-2"}]
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=cloud.outputs("Stack")["EnricherArn"]
    )["executions"]
    assert [execution["status"] for execution in executions] == ["SUCCEEDED"]


def test_a_failed_request_response_state_machine_target_fails_the_batch(launch):
    app = App()
    app.queue("Inbox", max_receive_count=1)
    failing = {"Type": "Fail", "Error": "Rejected", "Cause": "no"}
    machine = express_machine(app, "Machine", {"Reject": failing}, express=True)
    pipe(
        app,
        "Pipe",
        source=get_att("Inbox"),
        target=ref(machine),
        target_parameters={
            "StepFunctionStateMachineParameters": {"InvocationType": "REQUEST_RESPONSE"}
        },
    )
    cloud = launch(app)

    _send(cloud, "Inbox", "refused")
    cloud.settle()

    # THEN the execution failed (as the machine says), and the message went to the DLQ
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=cloud.outputs("Stack")["MachineArn"]
    )["executions"]
    assert [execution["status"] for execution in executions] == ["FAILED"]
    assert bodies(cloud, cloud.outputs("Stack")["InboxDlqUrl"]) == ["refused"]
