"""Templates for the EventBridge Pipes tests: a pipe as CloudFormation writes `AWS::Pipes::Pipe`,
and the functions a pipe enriches with or delivers to."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from localcloud.testing import App, get_att, ref

PIPE_TARGET = textwrap.dedent(
    '''
    """Forwards each batch a pipe hands it (a JSON list) to RESULTS_QUEUE_URL, then answers as
    MODE says: "succeed" (echoing the batch); "raise"; "report-poison": report each SQS message
    whose body holds "poison" as a batchItemFailure, the first time it is seen."""
    import json
    import os

    import boto3

    _reported = set()


    def handler(event, context):
        boto3.client("sqs").send_message(
            QueueUrl=os.environ["RESULTS_QUEUE_URL"], MessageBody=json.dumps(event)
        )
        mode = os.environ.get("MODE", "succeed")
        if mode == "raise":
            raise ValueError("the target failed")
        if mode == "report-poison":
            fresh = [
                item["messageId"]
                for item in event
                if "poison" in item["body"] and item["messageId"] not in _reported
            ]
            _reported.update(fresh)
            return {"batchItemFailures": [{"itemIdentifier": item} for item in fresh]}
        return event  # an answer without batchItemFailures is success
    '''
)

ENRICHER = textwrap.dedent(
    '''
    """Turns each event of a batch into {"order": <its payload>, "key": <its partitionKey>}: an
    SQS message's body, a Kinesis record's decoded data."""
    import base64


    def handler(event, context):
        payloads = [
            base64.b64decode(item["data"]).decode() if "data" in item else item["body"]
            for item in event
        ]
        keys = [item.get("partitionKey") for item in event]
        return [{"order": payload, "key": key} for payload, key in zip(payloads, keys)]
    '''
)


def pipe(
    app: App,
    logical_id: str,
    *,
    source: dict[str, Any],
    target: dict[str, Any],
    source_parameters: dict[str, Any] | None = None,
    target_parameters: dict[str, Any] | None = None,
    enrichment: dict[str, Any] | None = None,
    desired_state: str | None = None,
) -> str:
    """An `AWS::Pipes::Pipe` from `source` to `target` (ARNs, e.g. GetAtts), as CDK's `CfnPipe`
    writes it; outputs `<id>Name` and `<id>Arn`."""
    role = app.role(f"{logical_id}Role", "pipes.amazonaws.com")
    properties: dict[str, Any] = {"RoleArn": get_att(role), "Source": source, "Target": target}
    if source_parameters is not None:
        properties["SourceParameters"] = source_parameters
    if target_parameters is not None:
        properties["TargetParameters"] = target_parameters
    if enrichment is not None:
        properties["Enrichment"] = enrichment
    if desired_state is not None:
        properties["DesiredState"] = desired_state
    app.output(f"{logical_id}Name", ref(logical_id))
    app.output(f"{logical_id}Arn", get_att(logical_id))
    return app.add(logical_id, "AWS::Pipes::Pipe", properties)


def state_machine(app: App, logical_id: str, states: dict[str, Any], *, express: bool) -> str:
    """A state machine of `states` (starting at the first), as CDK writes it; outputs
    `<id>Arn`."""
    role = app.role(f"{logical_id}Role", "states.amazonaws.com")
    app.output(f"{logical_id}Arn", ref(logical_id))
    definition = {"StartAt": next(iter(states)), "States": states}
    return app.add(
        logical_id,
        "AWS::StepFunctions::StateMachine",
        {
            "DefinitionString": json.dumps(definition),
            "RoleArn": get_att(role),
            "StateMachineType": "EXPRESS" if express else "STANDARD",
        },
    )
