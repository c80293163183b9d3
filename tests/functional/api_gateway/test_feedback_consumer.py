"""The feedback consumer on moto: what the mapping template queued is stored once; a message
that is not feedback is reported as a batch item failure (SQS retries it, then dead-letters it)."""

from __future__ import annotations

import copy
import json

import boto3

from api_gateway import feedback_consumer
from tests.functional.api_gateway.conftest import FEEDBACK_TABLE


def test_feedback_is_stored_once_and_a_broken_message_is_reported(
    api_gateway, sample_event, lambda_context
):
    event = sample_event("sqs_feedback.json")
    [record] = event["Records"]
    broken = {**copy.deepcopy(record), "messageId": "broken-1", "body": '{"rating": 9}'}
    event["Records"] = [record, copy.deepcopy(record), broken]

    response = feedback_consumer.handler(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "broken-1"}]}
    items = boto3.client("dynamodb").scan(TableName=FEEDBACK_TABLE)["Items"]
    sent = json.loads(record["body"])
    assert [(i["feedback_id"]["S"], i["customer"]["S"], i["rating"]["N"]) for i in items] == [
        (sent["feedback_id"], "alice", "5")
    ]
