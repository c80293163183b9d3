"""The feedback consumer on moto: what the mapping template queued is stored once; a message
that is not feedback goes to the DLQ at once with its reason; a message failing for another
reason is retried by SQS, and dead-lettered with its reason on its last receive."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from api_gateway import contract, feedback_consumer
from tests.functional.api_gateway.conftest import FEEDBACK_TABLE, MAX_RECEIVE_COUNT


def _dead_letters(queue_url: str) -> list[dict]:
    return (
        boto3.client("sqs")
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        .get("Messages", [])
    )


def test_feedback_is_stored_once_and_a_message_that_is_not_feedback_is_dead_lettered(
    api_gateway, sample_event, lambda_context
):
    event = sample_event("sqs_feedback.json")
    [record] = event["Records"]
    broken = {**copy.deepcopy(record), "messageId": "broken-1", "body": '{"rating": 9}'}
    event["Records"] = [record, copy.deepcopy(record), broken]

    response = feedback_consumer.handler(event, lambda_context)

    # Dead-lettered with its reason, so deleted from the queue: not a batch item failure.
    assert response == {"batchItemFailures": []}
    items = boto3.client("dynamodb").scan(TableName=FEEDBACK_TABLE)["Items"]
    sent = json.loads(record["body"])
    assert [(i["feedback_id"]["S"], i["customer"]["S"], i["rating"]["N"]) for i in items] == [
        (sent["feedback_id"], "alice", "5")
    ]
    [dead] = _dead_letters(api_gateway)
    attributes = dead["MessageAttributes"]
    assert dead["Body"] == '{"rating": 9}'
    assert attributes[contract.SOURCE_MESSAGE_ID_ATTRIBUTE]["StringValue"] == "broken-1"
    assert attributes[contract.FAILURE_REASON_ATTRIBUTE]["StringValue"].startswith(
        "InvalidFeedbackError: not a feedback message"
    )


@pytest.mark.parametrize(
    ("receive_count", "retried"),
    [(1, True), (MAX_RECEIVE_COUNT - 1, True), (MAX_RECEIVE_COUNT, False)],
    ids=["first-receive", "before-the-last", "last-receive"],
)
def test_a_storage_failure_is_retried_then_dead_lettered_on_the_last_receive(
    api_gateway, sample_event, lambda_context, receive_count, retried
):
    boto3.client("dynamodb").delete_table(TableName=FEEDBACK_TABLE)
    event = sample_event("sqs_feedback.json")
    [record] = event["Records"]
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)

    if retried:
        # Every record of the batch failed: Powertools fails the invocation, and SQS delivers
        # the batch again after the visibility timeout.
        with pytest.raises(BatchProcessingError):
            feedback_consumer.handler(event, lambda_context)
        assert _dead_letters(api_gateway) == []
    else:
        response = feedback_consumer.handler(event, lambda_context)
        [dead] = _dead_letters(api_gateway)
        reason = dead["MessageAttributes"][contract.FAILURE_REASON_ATTRIBUTE]["StringValue"]
        assert response == {"batchItemFailures": []}
        assert "ResourceNotFoundException" in reason
