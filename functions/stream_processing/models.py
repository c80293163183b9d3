"""The stream-processing data shapes: readings (validated with pydantic), window state and the
aggregates logic computes and the adapters store."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from stream_processing.contract import REJECTED_RECORD_KIND

#: A reading's key is its Kinesis partition key: Kinesis takes 1 to 256 Unicode characters.
ReadingKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
#: DynamoDB numbers hold 38 significant digits; readings are far smaller and never NaN.
ReadingValue = Annotated[
    Decimal, Field(ge=Decimal("-1e15"), le=Decimal("1e15"), decimal_places=6, allow_inf_nan=False)
]


class Reading(BaseModel):
    """One event on the stream: a key (a page, a sensor) and a numeric value.

    Unknown fields are ignored (tolerant reader), so producers can add fields first.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    key: ReadingKey
    value: ReadingValue

    def to_data(self) -> bytes:
        """The record data put on the stream: compact JSON, the value a JSON number."""
        return f'{{"key":{json.dumps(self.key)},"value":{format(self.value, "f")}}}'.encode()


class PutRequest(BaseModel):
    """The producer's direct-invoke input: `{"readings": [...], "request_id": "..."}`.

    `request_id` is optional; with one, invoking again with the same id (a caller's retry
    after a timeout) answers the first invoke's summary and puts nothing again.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    readings: Annotated[list[Reading], Field(min_length=1, max_length=10_000)]
    request_id: Annotated[
        str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)
    ] = None


# --- the aggregator's window state ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Aggregate:
    """count, sum, min and max of one key's readings in one window (or one part of it).

    `first_sequence_number` is the shard and sequence number of the first reading folded in:
    replaying the same records yields the same one, which is how a replayed window is told
    apart from new readings when it is written.
    """

    count: int
    total: Decimal
    minimum: Decimal
    maximum: Decimal
    first_sequence_number: str

    @classmethod
    def of(cls, value: Decimal, *, sequence_number: str) -> Aggregate:
        return cls(
            count=1,
            total=value,
            minimum=value,
            maximum=value,
            first_sequence_number=sequence_number,
        )

    def add(self, value: Decimal) -> Aggregate:
        return replace(
            self,
            count=self.count + 1,
            total=self.total + value,
            minimum=min(self.minimum, value),
            maximum=max(self.maximum, value),
        )

    def to_state(self) -> dict[str, Any]:
        # Decimals as strings: the state travels as JSON, and a float would round the sum.
        return {
            "count": self.count,
            "sum": str(self.total),
            "min": str(self.minimum),
            "max": str(self.maximum),
            "first": self.first_sequence_number,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Aggregate:
        return cls(
            count=int(state["count"]),
            total=Decimal(state["sum"]),
            minimum=Decimal(state["min"]),
            maximum=Decimal(state["max"]),
            first_sequence_number=str(state["first"]),
        )


@dataclass(frozen=True, kw_only=True)
class WindowState:
    """What the aggregator carries from one invocation of a window to the next (`state`).

    Lambda hands it back on the next invocation of the same window and shard; it must stay
    under 1 MB, or Lambda ends the window early (`isWindowTerminatedEarly`).
    """

    aggregates: Mapping[str, Aggregate] = field(default_factory=dict)
    rejected: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "aggregates": {key: aggregate.to_state() for key, aggregate in self.aggregates.items()},
            "rejected": self.rejected,
        }

    @classmethod
    def from_json(cls, state: Any) -> WindowState:
        """The state Lambda passed; an empty one (`{}`) at a window's first invocation."""
        if not state:
            return cls()
        return cls(
            aggregates={
                key: Aggregate.from_state(value)
                for key, value in (state.get("aggregates") or {}).items()
            },
            rejected=int(state.get("rejected", 0)),
        )


@dataclass(frozen=True, kw_only=True)
class Window:
    """The tumbling window an invocation belongs to, as Lambda names it."""

    start: str
    end: str
    shard_id: str
    final: bool
    terminated_early: bool

    @classmethod
    def of_event(cls, event: Mapping[str, Any]) -> Window:
        window = event.get("window") or {}
        return cls(
            start=str(window.get("start", "")),
            end=str(window.get("end", "")),
            shard_id=str(event.get("shardId", "")),
            final=bool(event.get("isFinalInvokeForWindow", False)),
            terminated_early=bool(event.get("isWindowTerminatedEarly", False)),
        )


@dataclass(frozen=True, kw_only=True)
class RejectedRecord:
    """A record the aggregator cannot read, and why: sent to the on-failure queue as is."""

    reason: str
    shard_id: str
    sequence_number: str
    partition_key: str
    data: str  # base64, as the stream holds it
    event_source_arn: str

    def to_message(self) -> dict[str, Any]:
        return {
            "kind": REJECTED_RECORD_KIND,
            "reason": self.reason,
            "shardId": self.shard_id,
            "sequenceNumber": self.sequence_number,
            "partitionKey": self.partition_key,
            "data": self.data,
            "eventSourceARN": self.event_source_arn,
        }


# --- what the aggregates table holds ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StoredAggregate:
    """One item of the aggregates table: a key's totals in a window, and what is in them.

    `parts` are the `first_sequence_number`s of the window parts already added (one, unless
    Lambda ended the window early); `version` guards the read-modify-write.
    """

    key: str
    window_start: str
    window_end: str
    count: int
    total: Decimal
    minimum: Decimal
    maximum: Decimal
    parts: frozenset[str]
    alerted: bool = False
    version: int = 0


@dataclass(frozen=True, kw_only=True)
class Alert:
    """The message published when a key's window crosses the alert threshold."""

    key: str
    window_start: str
    window_end: str
    maximum: Decimal
    threshold: Decimal
    count: int

    @property
    def alert_id(self) -> str:
        """The same for every publication of one alert: subscribers deduplicate on it."""
        return f"{self.key}@{self.window_start}"

    def to_message(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "key": self.key,
            "window": {"start": self.window_start, "end": self.window_end},
            "max": str(self.maximum),
            "threshold": str(self.threshold),
            "count": self.count,
        }


@dataclass(frozen=True, kw_only=True)
class PutOutcome:
    """What one PutRecords call returned: the indexes Kinesis did not take, with its codes."""

    failed: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PutSummary:
    """The producer's answer: readings put, PutRecords calls made, readings not put."""

    put: int
    calls: int
    not_put: Sequence[Mapping[str, Any]] = ()

    def to_response(self) -> dict[str, Any]:
        return {
            "put_count": self.put,
            "put_records_calls": self.calls,
            "failed_count": len(self.not_put),
            "failed": list(self.not_put),
        }
