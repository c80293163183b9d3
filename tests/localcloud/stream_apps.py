"""Templates for the stream event source tests: Kinesis streams, tables with streams, mappings.

Each builder adds resources to an `App` as CDK would write them, and an output for what a
test reads back (`<id>Name`, `<id>Arn`, `<id>StreamArn`).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from localcloud.testing import App, get_att, ref

STREAM_CONSUMER = textwrap.dedent(
    '''
    """Returns what each batch held (`seen`); fails as MODE says.

    A record reads as its Kinesis data, or as "EVENT:id" for a DynamoDB change. MODE:
    "succeed"; "raise" when a record holds "poison"; "report-once": report the poisoned records
    as batchItemFailures the first time each is seen; "report-malformed": report an identifier
    not in the batch; "window": count the window's records in `state` (padded with PAD_BYTES
    bytes after a batch of records, to outgrow Lambda's limit on window state), and raise on
    the window's final invocation when FAIL_FINAL is set; "window-report-once": list in
    `state` the records processed up to the first poisoned one not reported before, and report
    that one as a batchItemFailure.
    """
    import base64
    import json
    import os

    _reported = set()


    def _read(record):
        if "kinesis" in record:
            return base64.b64decode(record["kinesis"]["data"]).decode()
        return f"{record['eventName']}:{record['dynamodb']['Keys']['id']['S']}"


    def _sequence_number(record):
        if "kinesis" in record:
            return record["kinesis"]["sequenceNumber"]
        return record["dynamodb"]["SequenceNumber"]


    def handler(event, context):
        seen = [_read(record) for record in event["Records"]]
        mode = os.environ.get("MODE", "succeed")
        poisoned = [
            record for record, data in zip(event["Records"], seen) if "poison" in data
        ]
        if poisoned and mode == "raise":
            raise ValueError(json.dumps(seen))
        if mode == "report-once":
            fresh = [r for r in poisoned if _read(r) not in _reported]
            _reported.update(_read(r) for r in fresh)
            failures = [{"itemIdentifier": _sequence_number(r)} for r in fresh]
            return {"seen": seen, "batchItemFailures": failures}
        if poisoned and mode == "report-malformed":
            return {"seen": seen, "batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}
        if mode == "window":
            if event["isFinalInvokeForWindow"] and os.environ.get("FAIL_FINAL"):
                raise ValueError(json.dumps(seen))
            state = dict(event["state"])
            state["count"] = state.get("count", 0) + len(seen)
            if seen and os.environ.get("PAD_BYTES"):
                state["padding"] = "x" * int(os.environ["PAD_BYTES"])
            return {"seen": seen, "state": state, "received": event}
        if mode == "window-report-once":
            processed, failures = [], []
            for record, data in zip(event["Records"], seen):
                if "poison" in data and data not in _reported:
                    _reported.add(data)
                    failures = [{"itemIdentifier": _sequence_number(record)}]
                    break
                processed.append(data)
            state = dict(event["state"])
            state["processed"] = state.get("processed", []) + processed
            return {"seen": seen, "state": state, "batchItemFailures": failures, "received": event}
        return {"seen": seen, "records": event["Records"]}
    '''
)


def kinesis_stream(app: App, logical_id: str, *, shard_count: int = 1) -> str:
    """A provisioned Kinesis stream; outputs `<id>Name` and `<id>Arn`."""
    app.output(f"{logical_id}Name", ref(logical_id))
    app.output(f"{logical_id}Arn", get_att(logical_id))
    return app.add(
        logical_id,
        "AWS::Kinesis::Stream",
        {"ShardCount": shard_count, "RetentionPeriodHours": 24},
    )


def stream_table(app: App, logical_id: str, *, view_type: str = "NEW_AND_OLD_IMAGES") -> str:
    """A table keyed by the string `id` with a stream; outputs `<id>Name`, `<id>StreamArn`."""
    app.output(f"{logical_id}Name", ref(logical_id))
    app.output(f"{logical_id}StreamArn", get_att(logical_id, "StreamArn"))
    return app.add(
        logical_id,
        "AWS::DynamoDB::Table",
        {
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamViewType": view_type},
        },
    )


def stream_source(
    app: App,
    function: str,
    source_arn: dict[str, Any],
    *,
    starting_position: str = "TRIM_HORIZON",
    batch_size: int = 100,
    **settings: Any,
) -> str:
    """An event source mapping from a stream (`source_arn`, a GetAtt) to `function`.

    `settings` are further CloudFormation properties, e.g. `MaximumRetryAttempts=2`.
    """
    logical_id = f"{function}{source_arn['Fn::GetAtt'][0]}Source"
    properties = {
        "BatchSize": batch_size,
        "EventSourceArn": source_arn,
        "FunctionName": ref(function),
        "StartingPosition": starting_position,
        **settings,
    }
    return app.add(logical_id, "AWS::Lambda::EventSourceMapping", properties)


def on_failure(*, queue: str | None = None, topic: str | None = None) -> dict[str, Any]:
    """A mapping's DestinationConfig sending failure records to a queue or a topic."""
    destination = get_att(queue) if queue is not None else ref(topic or "")
    return {"OnFailure": {"Destination": destination}}


def filter_criteria(*patterns: dict[str, Any]) -> dict[str, Any]:
    """A mapping's FilterCriteria, one filter per pattern, each written as its JSON text."""
    return {"Filters": [{"Pattern": json.dumps(pattern)} for pattern in patterns]}
