"""SQS message move tasks on localcloud (moto lacks them): a DLQ redrive, as SQS runs it."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from localcloud.testing import App, ref
from tests.localcloud.apps import SQS_CONSUMER, bodies, deliveries


def _app(
    *,
    batch_size: int = 10,
    batching_window: int | None = None,
    provisioned_pollers: dict[str, int] | None = None,
) -> App:
    """An inbox (maxReceiveCount 2, then its DLQ) whose consumer reports "poison" as failed."""
    app = App()
    inbox = app.queue("Inbox", visibility_timeout=30, max_receive_count=2)
    table = app.table("Deliveries")
    consumer = app.function(
        "Consumer", SQS_CONSUMER, environment={"TABLE_NAME": ref(table), "MODE": "report"}
    )
    source = app.sqs_source(
        consumer,
        inbox,
        batch_size=batch_size,
        batching_window=batching_window,
        report_failures=True,
    )
    if provisioned_pollers is not None:
        app.resources[source]["Properties"]["ProvisionedPollerConfig"] = provisioned_pollers
    return app


def _arn(cloud, queue_url: str) -> str:
    return cloud.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]


def _dead_letter(cloud, *texts: str) -> dict[str, str]:
    """Send `texts` (each containing "poison") and settle: they end in the DLQ."""
    outputs = cloud.outputs("Stack")
    for text in texts:
        cloud.client("sqs").send_message(QueueUrl=outputs["InboxUrl"], MessageBody=text)
    cloud.settle()
    return outputs


def test_a_redrive_moves_the_dlq_back_to_its_source_where_it_is_processed_once(launch):
    # GIVEN a poison message that failed twice and sits in the DLQ, then the bug is fixed
    cloud = launch(_app())
    outputs = _dead_letter(cloud, "poison-1")
    lambda_client = cloud.client("lambda")
    consumer = next(f["FunctionName"] for f in lambda_client.list_functions()["Functions"])
    environment = lambda_client.get_function_configuration(FunctionName=consumer)["Environment"]
    environment["Variables"]["MODE"] = "succeed"
    lambda_client.update_function_configuration(FunctionName=consumer, Environment=environment)

    # WHEN a move task starts on the DLQ without a destination, and delivery settles
    dlq_arn = _arn(cloud, outputs["InboxDlqUrl"])
    handle = cloud.client("sqs").start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    cloud.settle()

    # THEN the message went back to the inbox, was processed once more, and nothing is left
    assert deliveries(cloud, outputs["DeliveriesName"]) == {"poison-1": 3}
    assert bodies(cloud, outputs["InboxDlqUrl"]) == []
    assert bodies(cloud, outputs["InboxUrl"]) == []
    [task] = cloud.client("sqs").list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert handle
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert task["ApproximateNumberOfMessagesToMove"] == 1
    assert "TaskHandle" not in task  # only a running task has one


def test_a_task_keeps_its_rate_and_can_be_cancelled(launch):
    # GIVEN three messages in the DLQ
    cloud = launch(_app())
    outputs = _dead_letter(cloud, "poison-1", "poison-2", "poison-3")
    sqs = cloud.client("sqs")
    dlq_arn, inbox_arn = _arn(cloud, outputs["InboxDlqUrl"]), _arn(cloud, outputs["InboxUrl"])
    cloud.engine.time_scale = 1

    # WHEN a task moves them to the inbox at one message per second
    handle = sqs.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn=inbox_arn, MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    with cloud.delivery_held():
        moved = [cloud.engine.service("sqs").pump(fast_forward=False)]
        moved.append(cloud.engine.service("sqs").pump(fast_forward=False))
        cloud.engine.clock.advance(1)
        moved.append(cloud.engine.service("sqs").pump(fast_forward=False))

    # THEN one moves at once and the next a second later; a second task is refused meanwhile
    assert moved == [1, 0, 1]
    with pytest.raises(botocore.exceptions.ClientError, match="UnsupportedOperation"):
        sqs.start_message_move_task(SourceArn=dlq_arn)
    [running] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert running["TaskHandle"] == handle
    assert running["Status"] == "RUNNING"
    assert running["DestinationArn"] == inbox_arn
    assert running["MaxNumberOfMessagesPerSecond"] == 1

    # AND cancelling it leaves the last message in the DLQ
    assert sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"] == 2
    assert sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLED"
    assert len(bodies(cloud, outputs["InboxDlqUrl"])) == 1


def test_a_queue_that_is_no_dead_letter_queue_cannot_be_a_source(launch):
    cloud = launch(_app())
    inbox_arn = _arn(cloud, cloud.outputs("Stack")["InboxUrl"])

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        cloud.client("sqs").start_message_move_task(SourceArn=inbox_arn)

    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "Dead Letter Queue" in refused.value.response["Error"]["Message"]


def test_a_batch_of_more_than_ten_from_a_fair_queue_is_one_invocation(launch):
    # GIVEN a mapping of batch size 500 with a 1 s window and provisioned pollers, and 30
    # messages of three tenants sent with a MessageGroupId to the standard queue (fair queues)
    pollers = {"MinimumPollers": 2, "MaximumPollers": 20}
    cloud = launch(_app(batch_size=500, batching_window=1, provisioned_pollers=pollers))
    queue_url = cloud.outputs("Stack")["InboxUrl"]
    for start in range(0, 30, 10):
        cloud.client("sqs").send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": f"m{n}", "MessageBody": f"m{n:03}", "MessageGroupId": f"tenant-{n % 3}"}
                for n in range(start, start + 10)
            ],
        )

    cloud.settle()

    # THEN they arrive in one invocation, and the mapping keeps its provisioned pollers
    assert [invocation.payload["records"] for invocation in cloud.invocations] == [30]
    [mapping] = cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert mapping["BatchSize"] == 500
    assert mapping["ProvisionedPollerConfig"] == pollers


def test_a_task_without_destination_fails_when_several_queues_dead_letter_into_its_source(launch):
    # GIVEN a DLQ that two queues send their failures to, holding one message
    cloud = launch(_app())
    sqs = cloud.client("sqs")
    dlq_url = sqs.create_queue(QueueName="shared-dlq")["QueueUrl"]
    dlq_arn = _arn(cloud, dlq_url)
    for name in ("orders", "refunds"):
        sqs.create_queue(
            QueueName=name,
            Attributes={
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
            },
        )
    sqs.send_message(QueueUrl=dlq_url, MessageBody="failed somewhere")

    # WHEN a task starts without a destination
    sqs.start_message_move_task(SourceArn=dlq_arn)
    cloud.settle()

    # THEN it fails saying why (localcloud does not know each message's source queue), and
    # the message stays where it was
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert task["Status"] == "FAILED"
    assert "give DestinationArn" in task["FailureReason"]
    assert bodies(cloud, dlq_url) == ["failed somewhere"]
