"""Kinesis and DynamoDB Streams event sources, delivered with Lambda's rules.

moto keeps the streams (Kinesis shards, a table's stream shard); this service is the poller of
every stream source (`SOURCES`): for each `Subscription` (a Lambda event source mapping, or a
Pipe) it reads and delivers with Lambda's rules (a pipe's records given up go to its
dead-letter queue in the Pipes record shape):

- one lane per shard (`ParallelizationFactor` lanes, partition keys hashed onto them), one
  batch in flight per lane, so the records of a partition key are delivered in order;
- batches of up to `BatchSize` records (and at most Lambda's 6 MB payload), held for
  `MaximumBatchingWindowInSeconds` while not full; the starting position (TRIM_HORIZON,
  LATEST as of the mapping's creation, AT_TIMESTAMP);
- a failed batch is retried, with backoff, until `MaximumRetryAttempts` or the record's
  maximum age (`MaximumRecordAgeInSeconds`, else the stream's retention) is reached;
  `BisectBatchOnFunctionError` splits it first (splitting does not count as a retry);
  `ReportBatchItemFailures` checkpoints before the lowest failed sequence number;
- what is given up goes to the `DestinationConfig.OnFailure` queue or topic as Lambda's
  failure record (KinesisBatchInfo / DDBStreamBatchInfo), or is logged as discarded;
- tumbling windows (`TumblingWindowInSeconds`): state carried between a window's
  invocations (also from a partial batch response), a final invocation when the window ends,
  retried like a batch and, with no retry limit, until the window is older than the maximum
  record age;
- a changed `ParallelizationFactor` applies once none of the shard's lanes has a batch in
  flight or a tumbling window open;
- `FilterCriteria` (`localcloud.rules.filter_criteria`): a record no filter matches is
  dropped as it is read, so it never joins a batch and the checkpoint moves past it;
  criteria Lambda refuses fail `CreateEventSourceMapping` and `UpdateEventSourceMapping`;
- enhanced fan-out: a mapping whose source is a stream consumer's ARN (registered with
  `RegisterStreamConsumer`, or from the template's `AWS::Kinesis::StreamConsumer`, which
  moto's CloudFormation skips and this service creates) reads its stream's shards with the
  same rules; the records and failure records name the stream. A consumer deregistered
  (or deleted with its stack) stops the mapping's delivery.

Time: waits (batching window, retry backoff) are scaled by the engine's `time_scale`; under
`fast_forward` each wait counts as elapsed, and the backoff a failing batch skips still ages
the records waiting in its lane, so a batch retried forever under the defaults ends when its
records expire (the stream's retention), and the records behind it may expire too, as on AWS.
Settling also lets the backoff keep doubling past its cap, so that takes a few dozen
invocations rather than thousands. A tumbling window's end is taken as reached once its
records are delivered.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends

from localcloud.core.cloudformation import OwnedResource
from localcloud.core.event_sources import Subscription
from localcloud.core.hooks import Hook
from localcloud.core.runner import Invocation
from localcloud.core.service import Service
from localcloud.rules import lambda_delivery
from localcloud.rules.filter_criteria import (
    FilterCriteriaError,
    filter_patterns,
    record_passes,
    source_kind,
)
from localcloud.rules.stream_batching import (
    MAX_BATCH_PAYLOAD_BYTES,
    MAX_WINDOW_STATE_BYTES,
    RETRY_BACKOFF_FIRST_SECONDS,
    RETRY_BACKOFF_MAX_SECONDS,
    StreamRecord,
    StreamSourceSettings,
    failure_record,
    first_failed_index,
    iso_timestamp,
    lane_of,
    pipe_failure_record,
    window_of,
)

logger = logging.getLogger("localcloud")

# DynamoDB Streams keeps a record 24 hours: the age at which Lambda gives up by default.
DYNAMODB_STREAM_RETENTION_SECONDS = 24 * 3600
DEFAULT_KINESIS_RETENTION_HOURS = 24


# -- records and the shards they are read from ----------------------------------------------


class _KinesisShards:
    """The shards of a Kinesis stream (moto's `Stream`), read as Lambda reads them."""

    batch_info_key = "KinesisBatchInfo"

    def __init__(self, source_arn: str, stream: Any, invoke_identity_arn: str) -> None:
        self.source_arn = source_arn
        self.region = source_arn.split(":")[3]
        self.stream = stream
        self.invoke_identity_arn = invoke_identity_arn

    @property
    def retention_seconds(self) -> float:
        return float(self.stream.retention_period_hours or DEFAULT_KINESIS_RETENTION_HOURS) * 3600

    def shard_ids(self) -> list[str]:
        return list(self.stream.shards)

    def last_position(self, shard_id: str) -> int:
        records = self.stream.shards[shard_id].records
        return next(reversed(records), 0)

    def first_position(self) -> int:
        return 0  # moto numbers a shard's records from 1

    def position_before(self, shard_id: str, timestamp: float) -> int:
        """The position after which records arrived at or after `timestamp`."""
        before = 0
        for position, record in self.stream.shards[shard_id].records.items():
            if record.created_at >= timestamp:
                break
            before = position
        return before

    def read(self, shard_id: str, after: int) -> list[StreamRecord]:
        records = self.stream.shards[shard_id].records
        read = []
        # moto numbers a shard's records 1, 2, 3...: reading by number skips what was read.
        for position in range(after + 1, self.last_position(shard_id) + 1):
            record = records.get(position)
            if record is not None:
                read.append(self._record(shard_id, record))
        return read

    def _record(self, shard_id: str, record: Any) -> StreamRecord:
        sequence_number = str(record.sequence_number)
        event_record = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record.partition_key,
                "sequenceNumber": sequence_number,
                "data": record.data,
                "approximateArrivalTimestamp": round(record.created_at, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.invoke_identity_arn,
            "awsRegion": self.region,
            "eventSourceARN": self.source_arn,
        }
        return StreamRecord(
            position=int(record.sequence_number),
            sequence_number=sequence_number,
            partition_key=record.partition_key,
            arrival=record.created_at,
            event_record=event_record,
            size=len(record.data) + 512,
        )


class _DynamoDbShards:
    """A table's stream (moto keeps one shard per table), read as Lambda reads it."""

    batch_info_key = "DDBStreamBatchInfo"
    retention_seconds = float(DYNAMODB_STREAM_RETENTION_SECONDS)

    def __init__(self, source_arn: str, table: Any) -> None:
        self.source_arn = source_arn
        self.region = source_arn.split(":")[3]
        self.shard = table.stream_shard
        self.key_names = [table.hash_key_attr, table.range_key_attr]

    def shard_ids(self) -> list[str]:
        return [self.shard.id]

    def last_position(self, shard_id: str) -> int:
        return self.shard.starting_sequence_number + len(self.shard.items) - 1

    def position_before(self, shard_id: str, timestamp: float) -> int:
        before = self.shard.starting_sequence_number - 1
        for index, item in enumerate(self.shard.items):
            if _epoch(item.record["dynamodb"]["ApproximateCreationDateTime"]) >= timestamp:
                break
            before = self.shard.starting_sequence_number + index
        return before

    def first_position(self) -> int:
        return self.shard.starting_sequence_number - 1

    def read(self, shard_id: str, after: int) -> list[StreamRecord]:
        first = max(after + 1 - self.shard.starting_sequence_number, 0)
        return [self._record(item.record) for item in self.shard.items[first:]]

    def _record(self, record: dict[str, Any]) -> StreamRecord:
        change = record["dynamodb"]
        arrival = _epoch(change["ApproximateCreationDateTime"])
        dynamodb = {"ApproximateCreationDateTime": int(arrival)}
        dynamodb.update(
            (name, change[name])
            for name in ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes")
            if name in change
        )
        dynamodb["StreamViewType"] = change["StreamViewType"]
        event_record = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": dynamodb,
            "eventSourceARN": self.source_arn,
        }
        return StreamRecord(
            position=int(change["SequenceNumber"]),
            sequence_number=change["SequenceNumber"],
            # The item's key decides its lane, as a partition key does for Kinesis.
            partition_key=json.dumps(change["Keys"], sort_keys=True),
            arrival=arrival,
            event_record=event_record,
            size=int(change.get("SizeBytes", 0)) + 256,
        )


def _is_consumer_arn(arn: str) -> bool:
    """A Kinesis stream consumer's ARN: `arn:aws:kinesis:...:stream/<name>/consumer/<name>...`."""
    return ":kinesis:" in arn and "/consumer/" in arn


def _kinesis_stream_of(arn: str) -> Any:
    """moto's stream that a stream ARN or one of its consumers' ARNs names; None if it is gone."""
    region, account = arn.split(":")[3:5]
    stream_arn = arn.split("/consumer/", 1)[0]
    for stream in kinesis_backends[account][region].streams.values():
        if stream.arn == stream_arn:
            if _is_consumer_arn(arn) and stream.get_consumer_by_arn(arn) is None:
                return None  # the consumer was deregistered: nothing reaches its mappings
            return stream
    return None


def _epoch(moment: datetime) -> float:
    # moto stamps stream records with naive UTC datetimes.
    return moment.replace(tzinfo=UTC).timestamp() if moment.tzinfo is None else moment.timestamp()


def _shards_of(arn: str, invoke_identity_arn: str) -> _KinesisShards | _DynamoDbShards | None:
    """The shards of the stream with this ARN, or None when it no longer exists."""
    region, account = arn.split(":")[3:5]
    if ":kinesis:" in arn:
        stream = _kinesis_stream_of(arn)
        if stream is None:
            return None
        return _KinesisShards(stream.arn, stream, invoke_identity_arn)
    table_name, _, label = arn.split(":", 5)[5].removeprefix("table/").partition("/stream/")
    table = dynamodb_backends[account][region].tables.get(table_name)
    if table is None or table.stream_shard is None or table.latest_stream_label != label:
        return None  # the table, or this stream of it, is gone: there is nothing to read
    return _DynamoDbShards(arn, table)


def _shard_ends(arn: str) -> dict[str, int]:
    """Where each shard of the stream with this ARN ends now (empty when it is gone)."""
    shards = _shards_of(arn, "")
    if shards is None:
        return {}
    return {shard_id: shards.last_position(shard_id) for shard_id in shards.shard_ids()}


# -- the settings of a mapping -------------------------------------------------------------


# -- how an invocation ends a batch --------------------------------------------------------


# -- moto hooks ----------------------------------------------------------------------------


def _check_filter_criteria(event_source_arn: str, filter_criteria: Any) -> None:
    """Refuse FilterCriteria as Lambda does, before the mapping is created or changed."""
    try:
        filter_patterns(filter_criteria, source_kind(event_source_arn))
    except FilterCriteriaError as error:
        raise InvalidParameterValueException(str(error)) from None


def _mapping_remembers_shard_ends(original: Callable[..., Any]) -> Callable[..., Any]:
    # LATEST means "records put after the mapping was created"; the poller may first look at
    # a mapping later, so the end of each shard is noted when moto creates it. Its
    # FilterCriteria are checked first, as Lambda checks them (for every kind of source).
    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        _check_filter_criteria(spec.get("EventSourceArn", ""), spec.get("FilterCriteria"))
        if _is_consumer_arn(spec.get("EventSourceArn", "")):
            mapping = _consumer_mapping(self, spec)
        else:
            mapping = original(self, spec)
        arn = mapping.event_source_arn
        if ":kinesis:" in arn or ":dynamodb:" in arn:
            mapping.localcloud_shard_ends = _shard_ends(arn)
        return mapping

    return create_event_source_mapping


def _consumer_mapping(backend: Any, spec: dict[str, Any]) -> Any:
    """A mapping on a stream consumer (enhanced fan-out), which moto refuses as an unknown
    source: checked and stored as moto stores a mapping on the stream itself."""
    for required in ("EventSourceArn", "FunctionName"):
        if not spec.get(required):
            raise InvalidParameterValueException(f"Missing {required}")
    if _kinesis_stream_of(spec["EventSourceArn"]) is None:
        raise LambdaClientError("ResourceNotFoundException", "Invalid EventSourceArn")
    function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    spec.update(
        RegionName=backend.region_name,
        AccountId=backend.account_id,
        FunctionArn=function.function_arn,
    )
    mapping = lambda_models.EventSourceMapping(spec)
    backend._event_source_mappings[mapping.uuid] = mapping
    return mapping


class KinesisStreamConsumer(OwnedResource):
    """`AWS::Kinesis::StreamConsumer` (moto's CloudFormation skips it), registered in moto's
    Kinesis backend as `RegisterStreamConsumer` would: `Ref` and `ConsumerARN` give its ARN."""

    resource_type = "AWS::Kinesis::StreamConsumer"
    attributes = (
        "ConsumerARN",
        "ConsumerName",
        "ConsumerStatus",
        "ConsumerCreationTimestamp",
        "StreamARN",
    )

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> KinesisStreamConsumer:
        props = cloudformation_json["Properties"]
        stream_arn = props["StreamARN"]
        backend = kinesis_backends[account_id][stream_arn.split(":")[3]]
        consumer = backend.register_stream_consumer(stream_arn, props["ConsumerName"])
        return cls(consumer.consumer_arn, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        consumer = self._consumer()
        values = {
            "ConsumerARN": self.physical_id,
            "ConsumerName": self.properties["ConsumerName"],
            "StreamARN": self.properties["StreamARN"],
            "ConsumerStatus": "ACTIVE",
            "ConsumerCreationTimestamp": consumer.created if consumer is not None else "",
        }
        if attribute_name in values:
            return values[attribute_name]
        return super().get_cfn_attribute(attribute_name)

    def _consumer(self) -> Any:
        stream = _kinesis_stream_of(self.physical_id)
        return stream.get_consumer_by_arn(self.physical_id) if stream is not None else None

    def delete(self, account_id: str, region_name: str) -> None:
        backend = kinesis_backends[account_id][self.physical_id.split(":")[3]]
        backend.deregister_stream_consumer(
            stream_arn="", consumer_name="", consumer_arn=self.physical_id
        )


def _mapping_update_checks_filter_criteria(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_event_source_mapping(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
        mapping = self.get_event_source_mapping(uuid)
        if mapping is not None and "FilterCriteria" in spec:
            _check_filter_criteria(mapping.event_source_arn, spec["FilterCriteria"])
        return original(self, uuid, spec)

    return update_event_source_mapping


# -- the poller ----------------------------------------------------------------------------


@dataclass
class _Batch:
    """Records on their way to the function, kept across retries until they are done with."""

    records: list[StreamRecord]
    window: tuple[float, float] | None = None
    final_for_window: bool = False
    terminated_early: bool = False
    retries: int = 0
    invoke_count: int = 0
    due: float = 0.0  # monotonic time of the next attempt
    backoff_seconds: float = 0.0  # the wait before the next attempt, unscaled
    failed_at: float = 0.0  # epoch seconds of the last failed attempt
    last_invocation: Invocation | None = None
    # A final invocation has no records: it ages from its window's end, as the lane's
    # fast-forwarded seconds grow past those it had when it was made.
    skipped_at_creation: float = 0.0


@dataclass
class _Lane:
    """One in-order stream of batches within a shard (a shard has ParallelizationFactor)."""

    pending: deque[StreamRecord] = field(default_factory=deque)
    first_pending_seen: float = 0.0  # monotonic; starts the batching window
    batches: deque[_Batch] = field(default_factory=deque)  # in flight, the first one next
    window: tuple[float, float] | None = None  # the open tumbling window
    window_state: Any = field(default_factory=dict)
    window_full: bool = False  # its state outgrew the limit: end it early
    # Backoff the clock did not show (scaled or fast-forwarded): it still ages the records
    # waiting in the lane, as the full wait would on AWS.
    skipped_seconds: float = 0.0


@dataclass
class _Shard:
    read_after: int  # the last position read from the shard into the lanes
    lanes: list[_Lane]


@dataclass
class _Source:
    """The poller's state for one mapping: where each shard was read to, and its lanes."""

    shards: dict[str, _Shard] = field(default_factory=dict)


class StreamEventSources(Service):
    """Kinesis and DynamoDB Streams event sources, delivered with Lambda's rules."""

    NAME = "streams"
    SOURCES = ("kinesis", "dynamodb")
    MODELS = (KinesisStreamConsumer,)

    HOOKS = (
        Hook(
            lambda_models.LambdaBackend,
            "create_event_source_mapping",
            _mapping_remembers_shard_ends,
            why="A stream mapping starts where its shards end at creation",
            parameters=("self", "spec"),
        ),
        Hook(
            lambda_models.LambdaBackend,
            "update_event_source_mapping",
            _mapping_update_checks_filter_criteria,
            why="FilterCriteria are refused on update as on create",
            parameters=("self", "uuid", "spec"),
        ),
    )

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._sources: dict[str, _Source] = {}

    def shard_ends(self, source_arn: str) -> dict[str, int]:
        """Where each shard of the stream ends now, for a subscription starting at LATEST."""
        return _shard_ends(source_arn)

    def poll(self, subscription: Subscription, *, fast_forward: bool) -> int:
        """One round of Lambda's stream poller for one subscription: every shard's lanes."""
        mapping = subscription.settings
        shards = _shards_of(subscription.source_arn, subscription.identity_arn)
        if shards is None:
            return 0
        settings = StreamSourceSettings.of(mapping)
        kind = source_kind(subscription.source_arn)
        patterns = filter_patterns(mapping.filter_criteria, kind)
        source = self._sources.setdefault(subscription.key, _Source())
        done = 0
        for shard_id in shards.shard_ids():
            shard = source.shards.get(shard_id)
            if shard is None:
                shard = source.shards[shard_id] = _Shard(
                    read_after=_starting_position(mapping, shards, shard_id),
                    lanes=[_Lane() for _ in range(settings.parallelization_factor)],
                )
            if len(shard.lanes) != settings.parallelization_factor:
                _relane(shard, settings.parallelization_factor)
            self._read(shards, shard_id, shard, patterns, kind)
            lanes = _Delivery(self, subscription, shards, shard_id, settings, fast_forward)
            for lane in shard.lanes:
                done += lanes.advance(lane)
        return done

    def _read(
        self,
        shards: _KinesisShards | _DynamoDbShards,
        shard_id: str,
        shard: _Shard,
        patterns: list[dict[str, Any]],
        kind: str,
    ) -> None:
        records = shards.read(shard_id, shard.read_after)
        if not records:
            return
        # The checkpoint moves past every record read, those the filters drop included.
        shard.read_after = records[-1].position
        now = self.engine.clock.monotonic()
        for record in records:
            if not record_passes(patterns, record.event_record, kind):
                continue
            lane = shard.lanes[lane_of(record.partition_key, len(shard.lanes))]
            if not lane.pending:
                lane.first_pending_seen = now
            record.skipped_at_read = lane.skipped_seconds
            lane.pending.append(record)


def _relane(shard: _Shard, lanes: int) -> None:
    """Spread a shard over a new ParallelizationFactor's lanes, once none has work in flight.

    The records read but not yet batched go back in shard order and are hashed onto the new
    lanes, so each partition key's records stay in order in one lane. While a batch is in
    flight or a tumbling window is open, the old lanes carry on until they are done.
    """
    if any(lane.batches or lane.window is not None for lane in shard.lanes):
        return
    waiting = [lane for lane in shard.lanes if lane.pending]
    records = []
    for lane in waiting:
        for record in lane.pending:
            # Keep the record's age: the new lanes start with no fast-forwarded seconds.
            record.skipped_at_read -= lane.skipped_seconds
            records.append(record)
    records.sort(key=lambda record: record.position)
    seen = min((lane.first_pending_seen for lane in waiting), default=0.0)
    shard.lanes = [_Lane() for _ in range(lanes)]
    for record in records:
        lane = shard.lanes[lane_of(record.partition_key, lanes)]
        if not lane.pending:
            lane.first_pending_seen = seen
        lane.pending.append(record)


def _starting_position(
    mapping: Any, shards: _KinesisShards | _DynamoDbShards, shard_id: str
) -> int:
    """The position after which a new mapping starts reading a shard."""
    trim_horizon = shards.first_position()
    if mapping.starting_position == "LATEST":
        at_creation = getattr(mapping, "localcloud_shard_ends", {})
        return at_creation.get(shard_id, trim_horizon)
    if mapping.starting_position == "AT_TIMESTAMP" and mapping.starting_position_timestamp:
        timestamp = mapping.starting_position_timestamp
        if isinstance(timestamp, datetime):
            timestamp = timestamp.timestamp()
        return shards.position_before(shard_id, float(timestamp))
    return trim_horizon


@dataclass
class _Delivery:
    """Delivers one lane's next batch of one mapping, applying the mapping's settings."""

    source: StreamEventSources
    subscription: Subscription
    shards: _KinesisShards | _DynamoDbShards
    shard_id: str
    settings: StreamSourceSettings
    fast_forward: bool

    @property
    def engine(self) -> Any:
        return self.source.engine

    def advance(self, lane: _Lane) -> int:
        """Deliver the lane's next batch if it is due; returns the work done (0 or 1)."""
        batch = lane.batches[0] if lane.batches else self._next_batch(lane)
        if batch is None:
            return 0
        if batch.due > self.engine.clock.monotonic() and not self.fast_forward:
            return 0
        if batch.backoff_seconds:
            waited = self.engine.clock.time() - batch.failed_at
            lane.skipped_seconds += max(batch.backoff_seconds - waited, 0.0)
            batch.backoff_seconds = 0.0
        if not lane.batches:
            lane.batches.append(batch)
        if self._discard_expired(lane, batch):
            lane.batches.popleft()
            return 1
        self._deliver(lane, batch)
        return 1

    def _next_batch(self, lane: _Lane) -> _Batch | None:
        settings = self.settings
        window_seconds = settings.tumbling_window_seconds
        if window_seconds and lane.window is not None:
            if lane.pending:
                ends_here = window_of(lane.pending[0], window_seconds) != lane.window
            else:
                # Settling takes the window's end as reached once its records are delivered.
                ends_here = self.fast_forward or self.engine.clock.time() >= lane.window[1]
            if ends_here or lane.window_full:
                return _Batch(
                    records=[],
                    window=lane.window,
                    final_for_window=True,
                    terminated_early=lane.window_full,
                    skipped_at_creation=lane.skipped_seconds,
                )
        if not lane.pending:
            return None
        window = window_of(lane.pending[0], window_seconds) if window_seconds else None
        records: list[StreamRecord] = []
        size = 0
        for record in lane.pending:
            if len(records) == settings.batch_size:
                break
            if window is not None and window_of(record, window_seconds) != window:
                break
            if records and size + record.size > MAX_BATCH_PAYLOAD_BYTES:
                break
            records.append(record)
            size += record.size
        complete = len(records) < len(lane.pending) or len(records) == settings.batch_size
        waited = self.engine.clock.monotonic() - lane.first_pending_seen
        window_over = waited >= settings.batching_window_seconds * self.engine.time_scale
        if not (complete or window_over or self.fast_forward):
            return None
        for _ in records:
            lane.pending.popleft()
        lane.first_pending_seen = self.engine.clock.monotonic()
        if window is not None:
            lane.window = window
        return _Batch(records=records, window=window)

    def _discard_expired(self, lane: _Lane, batch: _Batch) -> bool:
        """Records past the maximum age go to the destination without being delivered.

        A window's final invocation, retried while it fails, holds the shard until the
        window is as old as the maximum age; then its state is given up. Returns whether
        nothing of the batch is left to deliver.
        """
        limit = self.settings.maximum_record_age_seconds
        if limit < 0:
            limit = self.shards.retention_seconds
        now = self.engine.clock.time() + lane.skipped_seconds
        if batch.final_for_window and batch.window is not None:
            if now - batch.skipped_at_creation - batch.window[1] < limit:
                return False
            self._discard_window_state(lane, batch, "RecordAgeExceeded")
            return True
        expired = 0
        for record in batch.records:
            if now - record.skipped_at_read - record.arrival < limit:
                break
            expired += 1
        if expired:
            self._give_up(batch, batch.records[:expired], "RecordAgeExceeded")
            batch.records = batch.records[expired:]
        return not batch.records

    def _deliver(self, lane: _Lane, batch: _Batch) -> None:
        event: dict[str, Any] = {"Records": [record.event_record for record in batch.records]}
        if batch.window is not None:
            event.update(self._window_fields(lane, batch))
        invocation = self.subscription.consume(event, f"{self._source_name()} {self.shard_id}")
        batch.invoke_count += 1
        batch.last_invocation = invocation
        failed_at = first_failed_index(invocation, batch.records, self.settings)
        if failed_at is None:
            self._succeeded(lane, batch, invocation)
            return
        if failed_at > 0:
            # Lambda checkpoints before the lowest failed record and retries from it; in a
            # tumbling window, the state returned covers the records checkpointed.
            batch.records = batch.records[failed_at:]
            if batch.window is not None:
                self._keep_window_state(lane, invocation)
        elif (
            invocation.error is not None
            and self.settings.bisect_on_function_error
            and len(batch.records) > 1
        ):
            # Splitting does not count as a retry: each half keeps the batch's retry count.
            middle = len(batch.records) // 2
            lane.batches.popleft()
            for half in (batch.records[middle:], batch.records[:middle]):
                lane.batches.appendleft(
                    _Batch(
                        records=half,
                        window=batch.window,
                        retries=batch.retries,
                        invoke_count=batch.invoke_count,
                        last_invocation=invocation,
                    )
                )
            return
        batch.retries += 1
        maximum = self.settings.maximum_retry_attempts
        if 0 <= maximum < batch.retries:
            lane.batches.popleft()
            if batch.records:
                self._give_up(batch, batch.records, "RetryAttemptsExhausted")
            else:
                self._discard_window_state(lane, batch, "RetryAttemptsExhausted")
            return
        backoff = RETRY_BACKOFF_FIRST_SECONDS * 2.0 ** min(batch.retries - 1, 64)
        # Settling keeps doubling past the cap: a batch retried until its records expire (a
        # year, with a long retention) then ends in a few dozen invocations, not thousands.
        batch.backoff_seconds = (
            backoff if self.fast_forward else min(backoff, RETRY_BACKOFF_MAX_SECONDS)
        )
        batch.failed_at = self.engine.clock.time()
        batch.due = self.engine.clock.monotonic() + batch.backoff_seconds * self.engine.time_scale

    def _succeeded(self, lane: _Lane, batch: _Batch, invocation: Invocation) -> None:
        lane.batches.popleft()
        if batch.window is None:
            return
        if batch.final_for_window:
            lane.window_state = {}
            lane.window_full = False
            if not batch.terminated_early:
                lane.window = None
            return
        self._keep_window_state(lane, invocation)

    @staticmethod
    def _keep_window_state(lane: _Lane, invocation: Invocation) -> None:
        lane.window_state = invocation.payload["state"]
        state_size = len(json.dumps(lane.window_state, default=str))
        lane.window_full = state_size > MAX_WINDOW_STATE_BYTES

    def _window_fields(self, lane: _Lane, batch: _Batch) -> dict[str, Any]:
        start, end = batch.window or (0.0, 0.0)
        return {
            "window": {
                "start": iso_timestamp(start, milliseconds=False),
                "end": iso_timestamp(end, milliseconds=False),
            },
            "state": lane.window_state if lane.window == batch.window else {},
            "shardId": self.shard_id,
            "eventSourceARN": self.shards.source_arn,
            "isFinalInvokeForWindow": batch.final_for_window,
            "isWindowTerminatedEarly": batch.terminated_early,
        }

    def _give_up(self, batch: _Batch, records: list[StreamRecord], condition: str) -> None:
        """Send records Lambda stops retrying to the on-failure destination, else log them."""
        last = batch.last_invocation
        if self.subscription.pipe_arn is not None:
            record = pipe_failure_record(
                condition=condition,
                pipe_arn=self.subscription.pipe_arn,
                batch_info_key=self.shards.batch_info_key,
                shard_id=self.shard_id,
                stream_arn=self.shards.source_arn,
                records=records,
            )
        else:
            record = failure_record(
                condition=condition,
                function_arn=self.subscription.consumer_arn,
                request_id=last.request_id
                if last is not None
                else lambda_delivery.new_request_id(),
                invoke_count=batch.invoke_count,
                last_invocation=last,
                batch_info_key=self.shards.batch_info_key,
                shard_id=self.shard_id,
                stream_arn=self.shards.source_arn,
                records=records,
            )
        destination = self.settings.on_failure_destination
        if destination:
            self.engine.send_to_target(destination, lambda_delivery.dumps(record), {})
            return
        logger.warning(
            "%s: %d records of %s (%s) failed (%s) and the mapping has no on-failure "
            "destination: Lambda discards them",
            self.subscription.consumer_name,
            len(records),
            self.shard_id,
            self.subscription.source_arn,
            condition,
        )
        self.engine.discarded_events.append(
            {
                "function": self.subscription.consumer_name,
                "event_source_arn": self.subscription.source_arn,
                "condition": condition,
                "failure_record": record,
                "records": [stream_record.event_record for stream_record in records],
            }
        )

    def _discard_window_state(self, lane: _Lane, batch: _Batch, condition: str) -> None:
        # A window's final invocation is retried within the mapping's limits like any batch;
        # past them, the window's state is all there is to give up.
        logger.warning(
            "%s: the final invocation of tumbling window %s failed %d times (%s); its state "
            "is discarded",
            self.subscription.consumer_name,
            batch.window,
            batch.invoke_count,
            condition,
        )
        self.engine.discarded_events.append(
            {
                "function": self.subscription.consumer_name,
                "event_source_arn": self.subscription.source_arn,
                "condition": condition,
                "window_state": lane.window_state,
            }
        )
        lane.window_state = {}
        lane.window_full = False
        if not batch.terminated_early:
            lane.window = None

    def _source_name(self) -> str:
        return "Kinesis" if isinstance(self.shards, _KinesisShards) else "DynamoDB stream"
