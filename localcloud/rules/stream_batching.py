"""Lambda's rules for stream event sources, as pure functions: a mapping's settings, batches
by size, payload and tumbling window, lanes by partition key, where a failed batch failed, and
the record Lambda sends an on-failure destination. The streams service applies them."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


class Invocation(Protocol):
    """How a function's run ended, as these rules read it (the runner's `Invocation` is one)."""

    payload: Any
    error: dict[str, Any] | None


# Lambda's synchronous invocation payload limit caps a batch whatever its BatchSize.
MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024
# Above this much window state, Lambda ends the window early.
MAX_WINDOW_STATE_BYTES = 1024 * 1024
# Retries back off exponentially from one second; the cap is localcloud's choice (Lambda does
# not document its stream retry backoff).
RETRY_BACKOFF_FIRST_SECONDS = 1.0
RETRY_BACKOFF_MAX_SECONDS = 60.0


@dataclass
class StreamRecord:
    """A record read from a shard, with the event record Lambda sends for it."""

    position: int  # the record's order in its shard
    sequence_number: str
    partition_key: str
    arrival: float  # epoch seconds
    event_record: dict[str, Any]
    size: int
    # The lane's fast-forwarded seconds when the record was read: it ages by what follows.
    skipped_at_read: float = 0.0


@dataclass(frozen=True)
class StreamSourceSettings:
    """The parts of a stream event source mapping that decide how records are delivered."""

    batch_size: int = 100
    batching_window_seconds: float = 0.0
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1  # -1: until the record expires
    maximum_record_age_seconds: int = -1  # -1: the stream's retention
    bisect_on_function_error: bool = False
    reports_batch_item_failures: bool = False
    tumbling_window_seconds: int = 0
    on_failure_destination: str | None = None

    @classmethod
    def of(cls, mapping: Any) -> StreamSourceSettings:
        destination = ((mapping.destination_config or {}).get("OnFailure") or {}).get("Destination")
        return cls(
            batch_size=int(mapping.batch_size or 100),
            batching_window_seconds=float(mapping.max_batch_window or 0),
            parallelization_factor=max(int(mapping.parallelization_factor or 1), 1),
            maximum_retry_attempts=_int(mapping.max_retry_attempts, -1),
            maximum_record_age_seconds=_int(mapping.max_record_age, -1),
            bisect_on_function_error=_flag(mapping.bisect_on_error),
            reports_batch_item_failures="ReportBatchItemFailures"
            in (mapping.function_response_types or []),
            tumbling_window_seconds=_int(mapping.tumbling_window, 0),
            on_failure_destination=destination or None,
        )


def _int(value: Any, default: int) -> int:
    return default if value is None or value == "" else int(value)


def _flag(value: Any) -> bool:
    # CloudFormation may hand booleans over as strings.
    return value is True or str(value).lower() == "true"


ALL_FAILED = 0


def first_failed_index(
    invocation: Invocation, records: list[StreamRecord], settings: StreamSourceSettings
) -> int | None:
    """Where a batch failed: None when it succeeded, else the index of its first failed record.

    An error fails the whole batch (0), and so does a tumbling-window response without
    `state`. With `ReportBatchItemFailures`, an empty or null list is success; the lowest
    reported sequence number is where Lambda checkpoints before; an identifier that is
    missing, empty or not in the batch fails the whole batch.
    """
    if invocation.error is not None:
        return ALL_FAILED
    response = invocation.payload
    if settings.tumbling_window_seconds and not (
        isinstance(response, dict) and "state" in response
    ):
        return ALL_FAILED
    if not settings.reports_batch_item_failures or response is None:
        return None
    if not isinstance(response, dict):
        return ALL_FAILED
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return ALL_FAILED
    index_of = {record.sequence_number: index for index, record in enumerate(records)}
    failed = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in index_of:
            return ALL_FAILED
        failed.append(index_of[identifier])
    return min(failed)


def failure_record(
    *,
    condition: str,
    function_arn: str,
    request_id: str,
    invoke_count: int,
    last_invocation: Invocation | None,
    batch_info_key: str,
    shard_id: str,
    stream_arn: str,
    records: list[StreamRecord],
) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination for discarded records.

    Records that aged out before any invocation have no response, so no responseContext.
    """
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
    }
    if last_invocation is not None:
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if last_invocation.error is not None:
            response_context["functionError"] = "Unhandled"
        record["responseContext"] = response_context
    record["version"] = "1.0"
    record["timestamp"] = iso_timestamp(time.time())
    record[batch_info_key] = _batch_info(shard_id, stream_arn, records)
    return record


def pipe_failure_record(
    *,
    condition: str,
    pipe_arn: str,
    batch_info_key: str,
    shard_id: str,
    stream_arn: str,
    records: list[StreamRecord],
) -> dict[str, Any]:
    """What EventBridge Pipes sends to a stream source's dead-letter queue for records it gives
    up: the same batch description as Lambda's, under a `context` naming the pipe."""
    return {
        "context": {"partnerResourceArn": pipe_arn, "condition": condition},
        "version": "1.0",
        "timestamp": iso_timestamp(time.time()),
        batch_info_key: _batch_info(shard_id, stream_arn, records),
    }


def _batch_info(shard_id: str, stream_arn: str, records: list[StreamRecord]) -> dict[str, Any]:
    return {
        "shardId": shard_id,
        "startSequenceNumber": records[0].sequence_number,
        "endSequenceNumber": records[-1].sequence_number,
        "approximateArrivalOfFirstRecord": iso_timestamp(records[0].arrival),
        "approximateArrivalOfLastRecord": iso_timestamp(records[-1].arrival),
        "batchSize": len(records),
        "streamArn": stream_arn,
    }


def iso_timestamp(epoch: float, *, milliseconds: bool = True) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    if not milliseconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def lane_of(partition_key: str, lanes: int) -> int:
    """The lane (of `ParallelizationFactor`) a partition key's records always go to."""
    if lanes == 1:
        return 0
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest()[:8], "big") % lanes  # noqa: S324 - a hash for spreading keys, not security


def window_of(record: StreamRecord, seconds: int) -> tuple[float, float]:
    """The tumbling window a record belongs to, by its arrival (windows align to the epoch)."""
    start = record.arrival - record.arrival % seconds
    return (start, start + seconds)
