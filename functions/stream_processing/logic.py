"""The stream-processing rules, pure (no boto3): validate and put readings 500 per call,
retrying the entries Kinesis did not take; fold readings into a window's state; write a
window's aggregates once, however often it is replayed; decide the alerts."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from pydantic import ValidationError
from shared.batches import chunks
from shared.validation import describe_validation_error, parse_request

from stream_processing.contract import MAX_RECORDS_PER_PUT
from stream_processing.errors import (
    InvalidPutRequestError,
    MalformedRecordError,
    PutRecordsRefusedError,
)
from stream_processing.models import (
    Aggregate,
    Alert,
    PutOutcome,
    PutRequest,
    PutSummary,
    Reading,
    StoredAggregate,
    Window,
    WindowState,
)

#: How many times the producer puts a reading Kinesis did not take (throttled shard, internal
#: failure) before it reports it as not put: the first attempt and two retries.
PUT_ATTEMPTS = 3


# --- producer ----------------------------------------------------------------------------


PutBatch = Callable[[Sequence[Reading]], PutOutcome]


def parse_put_request(payload: object) -> PutRequest:
    """A producer invoke's request, every reading validated before any is put.

    Raises `InvalidPutRequestError` naming each bad reading's index and field, e.g.
    `readings[2].value: Input should be a valid decimal`.
    """
    return parse_request(
        PutRequest,
        payload,
        error=InvalidPutRequestError,
        request="put request",
        shape='{"readings": [...]}',
    )


def put_all(
    readings: Sequence[Reading],
    put_batch: PutBatch,
    *,
    backoff: Callable[[int], None],
    attempts: int = PUT_ATTEMPTS,
) -> PutSummary:
    """Put `readings` 500 per PutRecords call; put again what Kinesis did not take.

    A PutRecords call succeeds while rejecting some entries (`FailedRecordCount`), so each
    call's failed entries are put again, after `backoff(attempt)`, up to `attempts` times in
    all, before the next 500 readings go: a retried reading lands after the readings of its
    call that were taken, but before the next call's. Readings still not taken are returned
    (with Kinesis's last error code), not raised. A call Kinesis refuses as a whole raises
    `PutRecordsRefusedError`, naming how many readings are already on the stream.
    """
    put = 0
    calls = 0
    not_put: list[dict[str, object]] = []
    for first_index, chunk in _indexed_chunks(readings):
        pending = list(range(len(chunk)))
        codes: dict[int, str] = {}
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                backoff(attempt - 1)
            try:
                outcome = put_batch([chunk[index] for index in pending])
            except PutRecordsRefusedError as error:
                raise PutRecordsRefusedError(
                    f"Kinesis refused PutRecords for readings[{first_index}..] ({error.code}: "
                    f"{error}); {put} reading(s) before them are on the stream",
                    code=error.code,
                ) from error
            calls += 1
            put += len(pending) - len(outcome.failed)
            codes = {pending[position]: code for position, code in outcome.failed.items()}
            pending = sorted(codes)
            if not pending:
                break
        not_put.extend(
            {"index": first_index + index, "key": chunk[index].key, "code": codes[index]}
            for index in pending
        )
    return PutSummary(put=put, calls=calls, not_put=not_put)


def _indexed_chunks(readings: Sequence[Reading]) -> Iterator[tuple[int, list[Reading]]]:
    for number, chunk in enumerate(chunks(readings, MAX_RECORDS_PER_PUT)):
        yield number * MAX_RECORDS_PER_PUT, chunk


# --- aggregator: reading records and folding them into the window's state --------------------


def read_reading(data: str) -> Reading:
    """The reading a Kinesis record's base64 `data` holds; `MalformedRecordError` says why not."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedRecordError(f"data is not base64: {error}") from None
    try:
        return Reading.model_validate_json(raw)
    except ValidationError as error:
        raise MalformedRecordError(f"not a reading: {describe_validation_error(error)}") from None


def part_id(shard_id: str, sequence_number: str) -> str:
    """Names the part of a window a key's aggregate covers, by its first record."""
    return f"{shard_id}/{sequence_number}"


def fold_reading(state: WindowState, reading: Reading, *, part: str) -> WindowState:
    """`state` with `reading` counted in its key's aggregate (`part` names a new one's start)."""
    current = state.aggregates.get(reading.key)
    updated = (
        Aggregate.of(reading.value, sequence_number=part)
        if current is None
        else current.add(reading.value)
    )
    return replace(state, aggregates={**state.aggregates, reading.key: updated})


def fold_rejected(state: WindowState) -> WindowState:
    return replace(state, rejected=state.rejected + 1)


# --- aggregator: writing a window's aggregates once ---------------------------------------


class AggregateStore(Protocol):
    """Where window aggregates are kept (the adapters' aggregates table is one)."""

    def get(self, key: str, window_start: str) -> StoredAggregate | None: ...

    def put(self, aggregate: StoredAggregate, *, expected_version: int | None) -> None: ...

    def mark_alerted(self, aggregate: StoredAggregate) -> None: ...


@dataclass(frozen=True, kw_only=True)
class WindowWritten:
    """What writing one window's state did: items written, parts already there, alerts sent."""

    written: int = 0
    replayed: int = 0
    alerts: tuple[Alert, ...] = ()


def merge_part(
    stored: StoredAggregate | None, *, key: str, window: Window, part: Aggregate
) -> tuple[StoredAggregate, bool]:
    """The item after adding `part` of `key`'s window, and whether that changed it.

    A part already in the item (a replay) leaves it as it is: `(stored, False)`.
    """
    if stored is None:
        new = StoredAggregate(
            key=key,
            window_start=window.start,
            window_end=window.end,
            count=part.count,
            total=part.total,
            minimum=part.minimum,
            maximum=part.maximum,
            parts=frozenset({part.first_sequence_number}),
            version=1,
        )
        return new, True
    if part.first_sequence_number in stored.parts:
        return stored, False
    merged = replace(
        stored,
        count=stored.count + part.count,
        total=stored.total + part.total,
        minimum=min(stored.minimum, part.minimum),
        maximum=max(stored.maximum, part.maximum),
        parts=stored.parts | {part.first_sequence_number},
        version=stored.version + 1,
    )
    return merged, True


def alert_for(aggregate: StoredAggregate, threshold: Decimal) -> Alert | None:
    """The alert a window's aggregate raises: its maximum reached `threshold`, not yet alerted."""
    if aggregate.alerted or aggregate.maximum < threshold:
        return None
    return Alert(
        key=aggregate.key,
        window_start=aggregate.window_start,
        window_end=aggregate.window_end,
        maximum=aggregate.maximum,
        threshold=threshold,
        count=aggregate.count,
    )


def write_window(
    window: Window,
    state: WindowState,
    *,
    store: AggregateStore,
    publish: Callable[[Alert], None],
    threshold: Decimal,
) -> WindowWritten:
    """Add each key's aggregate of `state` to the store, once, and publish the alerts due.

    Safe to repeat: a part already in an item is not added again (a retried final invocation,
    a replayed stream), and an alert is marked sent only after it is published, so a failure
    between the two publishes it again on the retry (at least once; its `alert_id` is the same).
    """
    written = replayed = 0
    alerts: list[Alert] = []
    for key, part in sorted(state.aggregates.items()):
        stored = store.get(key, window.start)
        current, changed = merge_part(stored, key=key, window=window, part=part)
        if changed:
            store.put(current, expected_version=stored.version if stored else None)
            written += 1
        else:
            replayed += 1
        alert = alert_for(current, threshold)
        if alert is not None:
            publish(alert)
            store.mark_alerted(current)
            alerts.append(alert)
    return WindowWritten(written=written, replayed=replayed, alerts=tuple(alerts))
