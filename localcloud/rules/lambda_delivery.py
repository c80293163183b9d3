"""Lambda's delivery rules, as pure functions: which SQS messages go back, what events look like.

Kept free of moto and of threads so each rule is tested on its own; the engine applies them.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


class Invocation(Protocol):
    """How a function's run ended, as these rules read it (the runner's `Invocation` is one)."""

    payload: Any
    error: dict[str, Any] | None


# Lambda's async invocation: two retries by default, about one then two minutes apart, for
# an event at most six hours old.
DEFAULT_ASYNC_RETRIES = 2
ASYNC_RETRY_DELAYS_SECONDS = (60.0, 120.0)
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class SqsSourceSettings:
    """The parts of an SQS event source mapping that decide how a batch ends."""

    batch_size: int = 10
    batching_window_seconds: float = 0
    reports_batch_item_failures: bool = False


def failed_message_ids(
    invocation: Invocation, settings: SqsSourceSettings, batch: set[str]
) -> set[str]:
    """Which messages go back to the queue, by Lambda's rules for SQS sources.

    An error or timeout returns the whole batch. With `ReportBatchItemFailures`, the listed
    ids return; an empty or null list means success; an id that is missing, empty or not in
    the batch makes Lambda treat the whole batch as failed. Without it, the response is ignored.
    """
    if invocation.error is not None:
        return batch
    if not settings.reports_batch_item_failures:
        return set()
    response = invocation.payload
    if response is None:
        return set()
    if not isinstance(response, dict):
        return batch
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return batch
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return batch
        failed.add(identifier)
    return failed


def sqs_record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    """The event record Lambda builds for one received SQS message (a moto `Message`)."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": message.sender_id,
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if message.group_id is not None:
        # A FIFO queue's message, or a fair queue's (a standard queue given a message group):
        # only FIFO messages have a sequence number and a deduplication id.
        attributes["MessageGroupId"] = message.group_id
        if message.sequence_number is not None:
            attributes["SequenceNumber"] = str(message.sequence_number)
        if message.deduplication_id is not None:
            attributes["MessageDeduplicationId"] = message.deduplication_id
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {
            name: _sqs_message_attribute(value)
            for name, value in message.message_attributes.items()
        },
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _sqs_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """One message attribute as Lambda hands it over: only the value the attribute has, a
    binary one base64-encoded (moto keeps it decoded)."""
    attribute: dict[str, Any] = {}
    if value.get("StringValue") is not None:
        attribute["stringValue"] = value["StringValue"]
    binary = value.get("BinaryValue")
    if binary is not None:
        attribute["binaryValue"] = (
            base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
        )
    attribute.update(stringListValues=[], binaryListValues=[], dataType=value["DataType"])
    return attribute


def sns_lambda_event(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """The event SNS sends to a subscribed function (one record per notification)."""
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": "1",
                    "Timestamp": _iso_now(),
                    "Signature": "",
                    "SigningCertUrl": "",
                    "MessageId": message_id,
                    "Message": message,
                    "MessageAttributes": {
                        name: {"Type": value["Type"], "Value": str(value["Value"])}
                        for name, value in (message_attributes or {}).items()
                    },
                    "Type": "Notification",
                    "UnsubscribeUrl": "",
                    "TopicArn": topic_arn,
                    "Subject": subject,
                },
            }
        ]
    }


def async_invocation_record(
    *,
    function_arn: str,
    request_id: str,
    event: Any,
    attempts: int,
    invocation: Invocation,
    condition: str,
) -> dict[str, Any]:
    """What a destination of an async invocation receives.

    `condition` is "Success" (on-success destination), or "RetriesExhausted" or
    "EventAgeExceeded" (on-failure destination).
    """
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if invocation.error is not None:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": _iso_now(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": invocation.error if invocation.error is not None else invocation.payload,
    }


def dead_letter_message_attributes(request_id: str, invocation: Invocation) -> dict[str, Any]:
    """The attributes Lambda puts on an event it sends to a function's dead-letter queue."""
    error = invocation.error or {}
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {
            "DataType": "String",
            "StringValue": str(error.get("errorMessage", ""))[:1024],
        },
    }


def new_request_id() -> str:
    return str(uuid.uuid4())


def _iso_now() -> str:
    return datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
