"""EventBridge Pipes' rules, as pure functions: a pipe's source settings in the shape the shared
event-source pollers read, the events a pipe hands its enrichment and target, and what goes on
a bus.

A pipe reads its source with the same pollers as Lambda's event source mappings
(`localcloud.core.event_sources`), so its `SourceParameters` are turned into the attributes
those pollers read from a mapping (`PipeSourceSettings`):

- SQS (`SqsQueueParameters`): `BatchSize` (10 by default) and `MaximumBatchingWindowInSeconds`;
  a failed batch returns to the queue and the queue's own redrive policy is its dead-letter
  queue, as on AWS.
- Kinesis and DynamoDB Streams (`KinesisStreamParameters`, `DynamoDBStreamParameters`):
  `BatchSize` (1 by default, as CDK documents it), the batching window, `StartingPosition`
  (and `StartingPositionTimestamp`), `MaximumRetryAttempts` and `MaximumRecordAgeInSeconds`
  (-1, the default, retries until the record leaves the stream), `ParallelizationFactor`,
  `OnPartialBatchItemFailure: AUTOMATIC_BISECT`, and `DeadLetterConfig.Arn`.
- `FilterCriteria`, with Lambda's filtering rules (`localcloud.rules.filter_criteria`).

A target invoked synchronously (`REQUEST_RESPONSE`: a Lambda function's default, or a state
machine's Express execution) may answer with `batchItemFailures`, which the poller applies as
Lambda's partial batch response; any other answer is success (`partial_batch_response`).

The events a pipe passes on are its records as a JSON list (not Lambda's `{"Records": ...}`);
a Kinesis record's fields are at the top level of its event (`data`, `partitionKey`...), not
under `kinesis`.

An `InputTemplate` (of the enrichment or of the target) reshapes each event
(`input_template`): JSON paths written inline (`<$.body.orderId>`) and the reserved
`<aws.pipes.*>` variables, substituted as EventBridge's input transformers substitute
(`localcloud.rules.input_transformers`); a JSON SQS `body` and a JSON Kinesis `data` are read
decoded (Pipes' implicit body parsing).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from localcloud.rules.event_patterns import MISSING
from localcloud.rules.input_transformers import json_path, substitute

SQS_DEFAULT_BATCH_SIZE = 10
STREAM_DEFAULT_BATCH_SIZE = 1

_STREAM_PARAMETERS = {"kinesis": "KinesisStreamParameters", "dynamodb": "DynamoDBStreamParameters"}


@dataclass(frozen=True)
class PipeSourceSettings:
    """A pipe's source parameters under the names the pollers read from a Lambda event source
    mapping (moto's `EventSourceMapping` attributes)."""

    batch_size: int
    max_batch_window: float = 0
    filter_criteria: dict[str, Any] | None = None
    function_response_types: tuple[str, ...] = ()
    destination_config: dict[str, Any] | None = None
    starting_position: str = "TRIM_HORIZON"
    starting_position_timestamp: float | None = None
    parallelization_factor: int = 1
    max_retry_attempts: int = -1
    max_record_age: int = -1
    bisect_on_error: bool = False
    tumbling_window: int = 0
    localcloud_shard_ends: dict[str, int] = field(default_factory=dict)


def source_kind(source_arn: str) -> str:
    """ "sqs", "kinesis" or "dynamodb", from the source's ARN; "" for a source not emulated."""
    service = source_arn.split(":")[2] if source_arn.count(":") >= 5 else ""
    return service if service in ("sqs", "kinesis", "dynamodb") else ""


def source_settings(
    source_arn: str,
    source_parameters: dict[str, Any] | None,
    *,
    target_arn: str,
    target_parameters: dict[str, Any] | None,
    shard_ends: dict[str, int] | None = None,
) -> PipeSourceSettings:
    """The settings a poller applies for a pipe (see the module docstring)."""
    parameters = source_parameters or {}
    response_types = (
        ("ReportBatchItemFailures",)
        if reports_batch_item_failures(target_arn, target_parameters)
        else ()
    )
    kind = source_kind(source_arn)
    if kind == "sqs":
        sqs = parameters.get("SqsQueueParameters") or {}
        return PipeSourceSettings(
            batch_size=_int(sqs.get("BatchSize"), SQS_DEFAULT_BATCH_SIZE),
            max_batch_window=_int(sqs.get("MaximumBatchingWindowInSeconds"), 0),
            filter_criteria=parameters.get("FilterCriteria"),
            function_response_types=response_types,
        )
    stream = parameters.get(_STREAM_PARAMETERS.get(kind, "")) or {}
    dead_letter = (stream.get("DeadLetterConfig") or {}).get("Arn")
    timestamp = stream.get("StartingPositionTimestamp")
    return PipeSourceSettings(
        batch_size=_int(stream.get("BatchSize"), STREAM_DEFAULT_BATCH_SIZE),
        max_batch_window=_int(stream.get("MaximumBatchingWindowInSeconds"), 0),
        filter_criteria=parameters.get("FilterCriteria"),
        function_response_types=response_types,
        destination_config={"OnFailure": {"Destination": dead_letter}} if dead_letter else None,
        starting_position=stream.get("StartingPosition") or "LATEST",
        starting_position_timestamp=float(timestamp) if timestamp not in (None, "") else None,
        parallelization_factor=max(_int(stream.get("ParallelizationFactor"), 1), 1),
        max_retry_attempts=_int(stream.get("MaximumRetryAttempts"), -1),
        max_record_age=_int(stream.get("MaximumRecordAgeInSeconds"), -1),
        bisect_on_error=stream.get("OnPartialBatchItemFailure") == "AUTOMATIC_BISECT",
        localcloud_shard_ends=dict(shard_ends or {}),
    )


def invocation_type(target_arn: str, target_parameters: dict[str, Any] | None) -> str:
    """How a function or state machine target is invoked: `REQUEST_RESPONSE` (a function's
    default) or `FIRE_AND_FORGET` (a state machine's, the only one a Standard workflow has)."""
    parameters = target_parameters or {}
    if ":lambda:" in target_arn:
        chosen = (parameters.get("LambdaFunctionParameters") or {}).get("InvocationType")
        return chosen or "REQUEST_RESPONSE"
    if ":states:" in target_arn:
        chosen = (parameters.get("StepFunctionStateMachineParameters") or {}).get("InvocationType")
        return chosen or "FIRE_AND_FORGET"
    return "FIRE_AND_FORGET"


def reports_batch_item_failures(target_arn: str, target_parameters: dict[str, Any] | None) -> bool:
    """Whether the target's answer can list `batchItemFailures`: a function or a state machine
    invoked synchronously."""
    return (":lambda:" in target_arn or ":states:" in target_arn) and (
        invocation_type(target_arn, target_parameters) == "REQUEST_RESPONSE"
    )


def partial_batch_response(answer: Any) -> Any:
    """What the pollers read from a synchronous target's answer: an object holding
    `batchItemFailures` (then Lambda's partial batch rules apply to it), else nothing, so any
    other answer a target gives means success."""
    if isinstance(answer, dict) and "batchItemFailures" in answer:
        return answer
    return None


def pipe_events(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events a pipe passes on for the records a poller read (Lambda's record shapes)."""
    events = []
    for record in records:
        if isinstance(record.get("kinesis"), dict):
            flat = {name: value for name, value in record.items() if name != "kinesis"}
            events.append({**record["kinesis"], **flat})
        else:
            events.append(dict(record))
    return events


def enriched_events(result: Any) -> list[Any]:
    """What an enrichment's answer leaves for the target: a list is the new batch, nothing
    (null or an empty list) leaves nothing to send, anything else is one event."""
    if result is None:
        return []
    if isinstance(result, list):
        return result
    return [result]


def bus_entry(
    event: Any, *, pipe_name: str, bus_parameters: dict[str, Any] | None
) -> tuple[str, str, Any]:
    """The source, detail type and detail of the bus event a pipe puts for one event.

    Without `Source` and `DetailType`, EventBridge names the pipe (`Pipe <name>`) and the
    source's kind (`Event from aws:sqs`); a JSON text event is its decoded value.
    """
    parameters = bus_parameters or {}
    detail = event
    if isinstance(event, str):
        try:
            detail = json.loads(event)
        except ValueError:
            detail = event
    origin = event.get("eventSource") if isinstance(event, dict) else None
    source = parameters.get("Source") or f"Pipe {pipe_name}"
    detail_type = parameters.get("DetailType") or f"Event from {origin or 'pipe'}"
    return source, detail_type, detail


def message_body(event: Any) -> str:
    """The text a queue or topic target receives for one event."""
    return event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))


_INLINE_PATH = re.compile(r"<(\$[^<>\s]*)>")


@dataclass(frozen=True)
class PipeNames:
    """What a pipe's reserved template variables name."""

    pipe_arn: str
    pipe_name: str
    source_arn: str
    enrichment_arn: str
    target_arn: str


def input_template(template: str, event: Any, names: PipeNames, *, ingestion_time: str) -> Any:
    """One event reshaped by an `InputTemplate`: the value its text holds when that is JSON
    (an object, a list, a quoted string...), else the text itself."""
    parsed = implicitly_parsed(event)
    values: dict[str, Any] = {
        path: json_path(parsed, path) for path in _INLINE_PATH.findall(template)
    }
    values.update(
        {
            "aws.pipes.pipe-arn": names.pipe_arn,
            "aws.pipes.pipe-name": names.pipe_name,
            "aws.pipes.source-arn": names.source_arn,
            "aws.pipes.enrichment-arn": names.enrichment_arn or MISSING,
            "aws.pipes.target-arn": names.target_arn,
            "aws.pipes.event.ingestion-time": ingestion_time,
            "aws.pipes.event": event,
            "aws.pipes.event.json": parsed,
        }
    )
    text = substitute(template, values)
    try:
        return json.loads(text)
    except ValueError:
        return text


def implicitly_parsed(event: Any) -> Any:
    """The event as a template's paths read it: a JSON SQS `body` and a base64 Kinesis `data`
    holding JSON are decoded; anything else is as it is."""
    if not isinstance(event, dict):
        return event
    parsed = dict(event)
    if isinstance(event.get("body"), str):
        parsed["body"] = _json_or(event["body"], event["body"])
    if isinstance(event.get("data"), str) and event.get("eventSource") == "aws:kinesis":
        try:
            decoded = base64.b64decode(event["data"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return parsed
        parsed["data"] = _json_or(decoded, event["data"])
    return parsed


def _json_or(text: str, otherwise: Any) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return otherwise
    return value if isinstance(value, dict | list) else otherwise


def _int(value: Any, default: int) -> int:
    return default if value is None or value == "" else int(value)
