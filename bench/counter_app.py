"""The app the SQS delivery benchmarks deploy: a queue with a DLQ feeding a counting function."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from localcloud.core.assembly import write_assembly
from localcloud.testing import python_function, service_role

STACK = "LocalcloudBench"


# Lambda refuses a batch size over 10 for an SQS source without a batching window.
BATCHING_WINDOW_SECONDS = 1


# Counts records into a module global, which lives as long as the function's warm sandbox;
# a {"report": true} event reads the count back.
COUNTER_HANDLER = """\
processed = 0


def handler(event, context):
    global processed
    if event.get("report"):
        return {"processed": processed}
    processed += len(event["Records"])
    return {"batchItemFailures": []}
"""


def write_counter_assembly(root: Path, *, batch_size: int) -> None:
    """A one-stack cloud assembly, as `cdk synth` writes it: queue + DLQ -> counter function."""
    asset_hash = hashlib.sha256(COUNTER_HANDLER.encode()).hexdigest()

    event_source: dict[str, Any] = {
        "BatchSize": batch_size,
        "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
        "FunctionName": {"Ref": "Consumer"},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    if batch_size > 10:
        event_source["MaximumBatchingWindowInSeconds"] = BATCHING_WINDOW_SECONDS
    template = {
        "Resources": {
            "DeadLetterQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"MessageRetentionPeriod": 1209600},
            },
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                        "maxReceiveCount": 5,
                    },
                    "VisibilityTimeout": 180,
                },
            },
            "ConsumerRole": service_role("lambda.amazonaws.com"),
            "Consumer": python_function("counter.handler", asset_hash, role="ConsumerRole"),
            "ConsumerSqsEventSource": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": event_source,
            },
        },
        "Outputs": {
            "QueueUrl": {"Value": {"Ref": "Queue"}},
            "DeadLetterQueueUrl": {"Value": {"Ref": "DeadLetterQueue"}},
            "FunctionName": {"Value": {"Ref": "Consumer"}},
        },
    }
    write_assembly(root, STACK, template, {asset_hash: {"counter.py": COUNTER_HANDLER}})
