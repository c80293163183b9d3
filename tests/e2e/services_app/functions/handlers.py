"""The services app's functions: each records what reached it on a queue the test reads."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3

POISON = "poison"


def _record(kind: str, value: Any) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=os.environ["SEEN_QUEUE_URL"],
        MessageBody=json.dumps({"kind": kind, "value": value}),
    )


def authorize(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """TOKEN authorizer: "allow" is allowed, "deny" denied; anything else is Unauthorized."""
    token = event["authorizationToken"]
    if token not in ("allow", "deny"):
        # API Gateway answers 401 when the authorizer fails with exactly this message.
        raise Exception("Unauthorized")
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if token == "allow" else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"tier": "gold"},
    }


def greet(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """Lambda proxy: answers with who the authorizer said the caller is."""
    authorizer = event["requestContext"]["authorizer"]
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"principal": authorizer["principalId"], "tier": authorizer["tier"]}),
    }


def consume_stream(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """Tumbling-window consumer: fails a batch holding the poison record, else counts records.

    The whole batch is checked before anything is recorded, so a failed batch leaves no trace
    and only the records of successful batches are reported.
    """
    values = [base64.b64decode(record["kinesis"]["data"]).decode() for record in event["Records"]]
    if POISON in values:
        raise ValueError("a poison record is in the batch")
    for value in values:
        _record("stream", value)
    state = dict(event.get("state") or {})
    state["count"] = int(state.get("count", 0)) + len(values)
    if event.get("isFinalInvokeForWindow"):
        _record("window", state["count"])
    return {"state": state}


def review_order(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """The state machine's task: large orders wait for a review, the others are approved."""
    amount = int(event["amount"])
    return {"order_id": event["order_id"], "verdict": "review" if amount >= 100 else "approve"}


def on_object_created(event: dict[str, Any], _context: Any) -> None:
    for record in event["Records"]:
        _record("object", record["s3"]["object"]["key"])
