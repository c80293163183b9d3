"""Kinesis and DynamoDB Streams -> Lambda on localcloud keep Lambda's rules for stream sources."""

from __future__ import annotations

import base64
import calendar
import json
import time
from collections import defaultdict
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.kinesis.models import kinesis_backends

from localcloud.testing import App, get_att
from tests.localcloud.apps import drain
from tests.localcloud.stream_apps import (
    STREAM_CONSUMER,
    kinesis_stream,
    on_failure,
    stream_source,
    stream_table,
)

# Explicit hash keys that put a record on the first or the second shard of a 2-shard stream.
FIRST_SHARD, SECOND_SHARD = "0", str(2**127)


def _kinesis_app(
    *, mode: str = "succeed", shard_count: int = 1, destination: bool = False, **settings: Any
) -> App:
    """A stream consumed by STREAM_CONSUMER in `mode`; with `destination`, a Failures queue."""
    app = App()
    kinesis_stream(app, "Events", shard_count=shard_count)
    app.function("Consumer", STREAM_CONSUMER, environment={"MODE": mode})
    if destination:
        app.queue("Failures")
        settings["DestinationConfig"] = on_failure(queue="Failures")
    stream_source(app, "Consumer", get_att("Events"), **settings)
    return app


def _put(cloud: Any, *texts: str, explicit_hash_key: str | None = None, key: str = "k") -> None:
    kinesis = cloud.client("kinesis")
    stream = cloud.outputs("Stack")["EventsName"]
    for text in texts:
        extra = {"ExplicitHashKey": explicit_hash_key} if explicit_hash_key else {}
        kinesis.put_record(StreamName=stream, Data=text.encode(), PartitionKey=key, **extra)


def _attempts(cloud: Any, function: str = "Consumer") -> list[tuple[list[str], bool]]:
    """What each invocation of a STREAM_CONSUMER function was handed, and whether it succeeded."""
    name = cloud.outputs("Stack")[f"{function}Name"]
    attempts = []
    for invocation in cloud.invocations:
        if invocation.function != name:
            continue
        if invocation.succeeded:
            attempts.append((invocation.payload["seen"], True))
        else:
            attempts.append((json.loads(invocation.error["errorMessage"]), False))
    return attempts


def _processed(cloud: Any, function: str = "Consumer") -> list[str]:
    return [data for seen, ok in _attempts(cloud, function) if ok for data in seen]


def _failure_records(cloud: Any, queue_output: str = "FailuresUrl") -> list[dict[str, Any]]:
    messages = drain(cloud, cloud.outputs("Stack")[queue_output])
    return [json.loads(message["Body"]) for message in messages]


def _backdate(cloud: Any, seconds: float) -> None:
    """Make every record now in the stream look as if it arrived `seconds` earlier."""
    engine = cloud.engine
    stream_name = cloud.outputs("Stack")["EventsName"]
    stream = kinesis_backends[engine.account_id][engine.region].streams[stream_name]
    for shard in stream.shards.values():
        for record in shard.records.values():
            record.created_at -= seconds


# -- batching and order --------------------------------------------------------------------


def test_each_shard_is_delivered_in_order_in_batches_of_the_batch_size(launch):
    cloud = launch(_kinesis_app(shard_count=2, batch_size=3))

    first = [f"a{n}" for n in range(7)]
    second = [f"b{n}" for n in range(5)]
    for a, b in zip(first, [*second, None, None], strict=True):
        _put(cloud, a, explicit_hash_key=FIRST_SHARD)
        if b:
            _put(cloud, b, explicit_hash_key=SECOND_SHARD)
    cloud.settle()

    # THEN every batch holds at most 3 records of one shard, and each shard's records
    # arrive once each, in the order they were put
    by_shard: dict[str, list[list[str]]] = defaultdict(list)
    for invocation in cloud.invocations:
        records = invocation.payload["records"]
        shards = {record["eventID"].split(":")[0] for record in records}
        assert len(shards) == 1
        by_shard[shards.pop()].append(invocation.payload["seen"])
    assert by_shard == {
        "shardId-000000000000": [first[0:3], first[3:6], first[6:]],
        "shardId-000000000001": [second[0:3], second[3:]],
    }


def test_a_kinesis_record_has_the_shape_lambda_sends(launch):
    cloud = launch(_kinesis_app())
    outputs = cloud.outputs("Stack")

    _put(cloud, "hello", key="customer-1")
    before = time.time()
    cloud.settle()

    [record] = cloud.invocations[0].payload["records"]
    sequence_number = record["kinesis"]["sequenceNumber"]
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "customer-1",
            "sequenceNumber": sequence_number,
            "data": "aGVsbG8=",
            "approximateArrivalTimestamp": record["kinesis"]["approximateArrivalTimestamp"],
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": cloud.client("lambda").get_function(
            FunctionName=outputs["ConsumerName"]
        )["Configuration"]["Role"],
        "awsRegion": cloud.region,
        "eventSourceARN": outputs["EventsArn"],
    }
    # Kinesis keeps the arrival time to the millisecond, which may round it past `before`.
    assert before - 5 < record["kinesis"]["approximateArrivalTimestamp"] <= before + 0.001


def test_a_batching_window_holds_a_partial_batch_until_it_ends(launch):
    cloud = launch(_kinesis_app(batch_size=100, MaximumBatchingWindowInSeconds=10))
    cloud.engine.time_scale = 0.05  # the 10 s window lasts 0.5 s

    _put(cloud, "first", "second")
    cloud.engine.pump(fast_forward=False)

    # THEN nothing is delivered inside the window...
    assert cloud.invocations == []

    time.sleep(0.6)
    cloud.engine.pump(fast_forward=False)

    # ...and both records arrive together once it has passed
    assert _attempts(cloud) == [(["first", "second"], True)]


def test_starting_position_latest_skips_records_put_before_the_mapping(launch):
    app = App()
    kinesis_stream(app, "Events")
    app.function("Latest", STREAM_CONSUMER)
    app.function("Everything", STREAM_CONSUMER)
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    # GIVEN a record already in the stream when the mappings are created
    _put(cloud, "before")
    for function, position in (("Latest", "LATEST"), ("Everything", "TRIM_HORIZON")):
        cloud.client("lambda").create_event_source_mapping(
            FunctionName=outputs[f"{function}Name"],
            EventSourceArn=outputs["EventsArn"],
            StartingPosition=position,
        )
    _put(cloud, "after")
    cloud.settle()

    # THEN LATEST sees only what came after its creation; TRIM_HORIZON sees everything
    assert _processed(cloud, "Latest") == ["after"]
    assert _processed(cloud, "Everything") == ["before", "after"]


def test_starting_position_at_timestamp_starts_with_the_first_record_at_that_time(launch):
    app = App()
    kinesis_stream(app, "Events")
    app.function("Consumer", STREAM_CONSUMER)
    cloud = launch(app)
    outputs = cloud.outputs("Stack")

    _put(cloud, "old")
    _backdate(cloud, 600)
    _put(cloud, "recent")
    cloud.client("lambda").create_event_source_mapping(
        FunctionName=outputs["ConsumerName"],
        EventSourceArn=outputs["EventsArn"],
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=time.time() - 300,
    )
    cloud.settle()

    assert _processed(cloud) == ["recent"]


def test_a_parallelization_factor_keeps_each_partition_key_in_order(launch):
    cloud = launch(_kinesis_app(batch_size=100, ParallelizationFactor=4))
    keys = [f"key-{n}" for n in range(7)]
    sent = {key: [f"{key}/{n}" for n in range(5)] for key in keys}

    for n in range(5):
        for key in keys:
            _put(cloud, sent[key][n], key=key)
    cloud.settle()

    # THEN the shard's records went out in several concurrent batches, a partition key's
    # records always in the same one, in the order they were put
    batches = [seen for seen, _ in _attempts(cloud)]
    assert 1 < len(batches) <= 4
    for key in keys:
        holding = [seen for seen in batches if any(data.startswith(f"{key}/") for data in seen)]
        assert len(holding) == 1
        assert [data for data in holding[0] if data.startswith(f"{key}/")] == sent[key]


def test_a_raised_parallelization_factor_spreads_records_already_read_over_the_new_lanes(
    launch,
):
    cloud = launch(_kinesis_app(batch_size=100, MaximumBatchingWindowInSeconds=300))
    lambda_client = cloud.client("lambda")
    [mapping] = lambda_client.list_event_source_mappings()["EventSourceMappings"]
    cloud.engine.time_scale = 1  # the batching window lasts its 300 s
    keys = [f"key-{n}" for n in range(7)]
    sent = {key: [f"{key}/{n}" for n in range(3)] for key in keys}

    # GIVEN records the poller has read and holds for the batching window
    for n in range(3):
        for key in keys:
            _put(cloud, sent[key][n], key=key)
    cloud.engine.pump(fast_forward=False)
    assert cloud.invocations == []
    # WHEN the mapping's ParallelizationFactor is raised
    lambda_client.update_event_source_mapping(UUID=mapping["UUID"], ParallelizationFactor=4)
    cloud.settle()

    # THEN the shard's records went out in concurrent batches, each key's in one, in order
    batches = [seen for seen, _ in _attempts(cloud)]
    assert 1 < len(batches) <= 4
    for key in keys:
        holding = [seen for seen in batches if any(data.startswith(f"{key}/") for data in seen)]
        assert len(holding) == 1
        assert [data for data in holding[0] if data.startswith(f"{key}/")] == sent[key]


# -- errors --------------------------------------------------------------------------------


def test_a_poison_record_is_isolated_by_bisection_and_sent_to_the_destination(launch):
    cloud = launch(
        _kinesis_app(
            mode="raise",
            batch_size=8,
            destination=True,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=1,
        )
    )
    outputs = cloud.outputs("Stack")
    sent = ["r0", "r1", "r2", "r3", "r4", "poison", "r6", "r7"]

    _put(cloud, *sent)
    cloud.settle()

    # THEN the failing batch was split until the poison record stood alone, retried once...
    assert _attempts(cloud) == [
        (sent, False),
        (sent[:4], True),
        (sent[4:], False),
        (["r4", "poison"], False),
        (["r4"], True),
        (["poison"], False),
        (["poison"], False),
        (["r6", "r7"], True),
    ]
    # ...every other record was processed once, in order...
    assert _processed(cloud) == [data for data in sent if data != "poison"]
    # ...and the poison record's failure record is in the destination queue
    [failure] = _failure_records(cloud)
    poison_sequence_number = str(sent.index("poison") + 1)
    last_invocation = cloud.invocations[-2]
    assert failure["requestContext"] == {
        "requestId": last_invocation.request_id,
        "functionArn": cloud.engine.function(outputs["ConsumerName"]).function_arn,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 5,
    }
    assert failure["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert failure["version"] == "1.0"
    assert failure["timestamp"].endswith("Z")
    info = failure["KinesisBatchInfo"]
    assert info == {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": poison_sequence_number,
        "endSequenceNumber": poison_sequence_number,
        "approximateArrivalOfFirstRecord": info["approximateArrivalOfFirstRecord"],
        "approximateArrivalOfLastRecord": info["approximateArrivalOfFirstRecord"],
        "batchSize": 1,
        "streamArn": outputs["EventsArn"],
    }
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")


def test_a_mapping_on_a_stream_consumer_reads_the_stream_through_it(launch):
    # GIVEN an enhanced fan-out consumer from the template, the function's mapping reading
    # through it, and a destination for what it gives up
    app = App()
    kinesis_stream(app, "Events")
    app.add(
        "Fanout",
        "AWS::Kinesis::StreamConsumer",
        {"ConsumerName": "consumer-fanout", "StreamARN": get_att("Events")},
    )
    app.output("FanoutArn", get_att("Fanout", "ConsumerARN"))
    app.function("Consumer", STREAM_CONSUMER, environment={"MODE": "raise"})
    app.queue("Failures")
    stream_source(
        app,
        "Consumer",
        get_att("Fanout", "ConsumerARN"),
        batch_size=2,
        MaximumRetryAttempts=0,
        DestinationConfig=on_failure(queue="Failures"),
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    kinesis = cloud.client("kinesis")

    _put(cloud, "a", "b", "poison", "d")
    cloud.settle()

    # THEN the consumer is registered on the stream, as RegisterStreamConsumer would have it
    (consumer,) = kinesis.list_stream_consumers(StreamARN=outputs["EventsArn"])["Consumers"]
    assert consumer["ConsumerName"] == "consumer-fanout"
    assert consumer["ConsumerARN"] == outputs["FanoutArn"]
    # AND its mapping delivered the stream's records in order, naming the stream
    assert _attempts(cloud) == [(["a", "b"], True), (["poison", "d"], False)]
    records = cloud.invocations[0].payload["records"]
    assert {record["eventSourceARN"] for record in records} == {outputs["EventsArn"]}
    (mapping,) = cloud.client("lambda").list_event_source_mappings(
        FunctionName=outputs["ConsumerName"]
    )["EventSourceMappings"]
    assert mapping["EventSourceArn"] == outputs["FanoutArn"]
    # AND what it gave up reached the destination, naming the stream
    (failure,) = _failure_records(cloud)
    assert failure["KinesisBatchInfo"]["streamArn"] == outputs["EventsArn"]
    assert failure["KinesisBatchInfo"]["batchSize"] == 2

    # WHEN the consumer is deregistered THEN nothing more reaches the function through it
    kinesis.deregister_stream_consumer(ConsumerARN=outputs["FanoutArn"])
    _put(cloud, "late")
    cloud.settle()
    assert _attempts(cloud)[-1] == (["poison", "d"], False)
    # AND a new mapping on a consumer the stream does not have is refused
    with pytest.raises(ClientError) as refused:
        cloud.client("lambda").create_event_source_mapping(
            FunctionName=outputs["ConsumerName"],
            EventSourceArn=outputs["FanoutArn"],
            StartingPosition="TRIM_HORIZON",
        )
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_exhausted_retries_send_the_whole_batch_to_the_destination_and_the_shard_moves_on(
    launch,
):
    cloud = launch(
        _kinesis_app(mode="raise", batch_size=3, destination=True, MaximumRetryAttempts=2)
    )

    _put(cloud, "a", "poison", "c", "d")
    cloud.settle()

    # THEN the batch was tried once and retried twice, then given up; the next one went on
    assert _attempts(cloud) == [(["a", "poison", "c"], False)] * 3 + [(["d"], True)]
    [failure] = _failure_records(cloud)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["KinesisBatchInfo"]["batchSize"] == 3
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == "1"
    assert failure["KinesisBatchInfo"]["endSequenceNumber"] == "3"


def test_a_record_older_than_the_maximum_age_goes_to_the_destination_uninvoked(launch):
    cloud = launch(_kinesis_app(destination=True, MaximumRecordAgeInSeconds=60))

    # GIVEN a record that arrived two minutes ago, and a fresh one
    _put(cloud, "stale")
    _backdate(cloud, 120)
    _put(cloud, "fresh")
    cloud.settle()

    # THEN only the fresh record reached the function; the stale one is in the destination
    assert _attempts(cloud) == [(["fresh"], True)]
    [failure] = _failure_records(cloud)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in failure
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == "1"


def test_under_the_defaults_a_poison_record_is_retried_until_it_expires(launch):
    cloud = launch(_kinesis_app(mode="raise", destination=True))

    _put(cloud, "poison", "behind-it")
    cloud.settle()

    # THEN settling took the retries' doubling backoff (1 s, 2 s, 4 s...) as elapsed: the batch
    # was retried until its records outlived the stream's 24-hour retention (16 retries wait
    # 2**16 - 1 s < 24 h, 17 retries 2**17 - 1 s > 24 h), then went to the destination...
    [failure] = _failure_records(cloud)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == len(cloud.invocations) == 17
    assert failure["KinesisBatchInfo"]["batchSize"] == 2

    # ...and the shard moved on: a new record is delivered
    _put(cloud, "after")
    cloud.settle()
    assert _attempts(cloud)[-1] == (["after"], True)


def test_a_partial_batch_response_checkpoints_before_the_failed_record(launch):
    cloud = launch(
        _kinesis_app(mode="report-once", FunctionResponseTypes=["ReportBatchItemFailures"])
    )

    _put(cloud, "a", "poison-b", "c", "d")
    cloud.settle()

    # THEN "a" was checkpointed; the retry started at the reported record
    assert _attempts(cloud) == [(["a", "poison-b", "c", "d"], True), (["poison-b", "c", "d"], True)]


def test_an_unknown_item_identifier_fails_the_whole_batch(launch):
    cloud = launch(
        _kinesis_app(
            mode="report-malformed",
            FunctionResponseTypes=["ReportBatchItemFailures"],
            MaximumRetryAttempts=1,
        )
    )

    _put(cloud, "a", "poison", "c")
    cloud.settle()

    # THEN the whole batch was retried, then discarded (no destination), and logged as such
    assert _attempts(cloud) == [(["a", "poison", "c"], True)] * 2
    [discarded] = cloud.engine.discarded_events
    assert discarded["condition"] == "RetryAttemptsExhausted"
    assert [record["kinesis"]["sequenceNumber"] for record in discarded["records"]] == [
        "1",
        "2",
        "3",
    ]


# -- tumbling windows ----------------------------------------------------------------------


def test_a_tumbling_window_carries_its_state_to_its_final_invocation(launch):
    cloud = launch(_kinesis_app(mode="window", batch_size=2, TumblingWindowInSeconds=60))
    outputs = cloud.outputs("Stack")

    # GIVEN three records that arrived in one minute-long window, two in the next
    _put(cloud, "w1-a", "w1-b", "w1-c")
    _backdate(cloud, time.time() % 60 + 30)  # into the minute before the current one
    _put(cloud, "w2-a", "w2-b")
    cloud.settle()

    # THEN each window's invocations pass the state along, the final one gets it all, and the
    # next window starts empty
    received = [invocation.payload["received"] for invocation in cloud.invocations]
    summary = [
        (
            [_data(record) for record in event["Records"]],
            event["state"],
            event["isFinalInvokeForWindow"],
        )
        for event in received
    ]
    assert summary == [
        (["w1-a", "w1-b"], {}, False),
        (["w1-c"], {"count": 2}, False),
        ([], {"count": 3}, True),
        (["w2-a", "w2-b"], {}, False),
        ([], {"count": 2}, True),
    ]
    first, second = received[0], received[3]
    assert _seconds_between(first["window"]["start"], first["window"]["end"]) == 60
    assert _seconds_between(first["window"]["end"], second["window"]["start"]) == 0
    assert first["shardId"] == "shardId-000000000000"
    assert first["eventSourceARN"] == outputs["EventsArn"]
    assert first["isWindowTerminatedEarly"] is False


def test_a_window_state_over_one_megabyte_ends_the_window_early(launch):
    app = _kinesis_app(mode="window", batch_size=1, TumblingWindowInSeconds=900)
    app.resources["Consumer"]["Properties"]["Environment"]["Variables"]["PAD_BYTES"] = str(
        1024 * 1024
    )
    cloud = launch(app)

    _put(cloud, "a", "b")
    cloud.settle()

    # THEN a state over 1 MB ended the window early (a final invocation with that state), and
    # the same window went on with a fresh state, up to its real end
    summary = [
        (
            [_data(record) for record in event["Records"]],
            event["state"].get("count"),
            event["isFinalInvokeForWindow"],
            event["isWindowTerminatedEarly"],
        )
        for event in (invocation.payload["received"] for invocation in cloud.invocations)
    ]
    assert summary == [
        (["a"], None, False, False),
        ([], 1, True, True),
        (["b"], None, False, False),
        ([], 1, True, True),
        ([], None, True, False),
    ]
    windows = {
        invocation.payload["received"]["window"]["start"] for invocation in cloud.invocations
    }
    assert len(windows) == 1


def test_a_failing_final_window_invocation_is_retried_until_the_window_expires(launch):
    app = _kinesis_app(mode="window", TumblingWindowInSeconds=60)
    app.resources["Consumer"]["Properties"]["Environment"]["Variables"]["FAIL_FINAL"] = "1"
    cloud = launch(app)

    _put(cloud, "a", "b")
    cloud.engine.settle(max_rounds=1000)

    # THEN with no retry limit (the default), the final invocation was retried with backoff
    # until the window outlived the stream's 24-hour retention (2**17 - 1 s of backoff), then
    # its state was given up and logged...
    assert _attempts(cloud) == [(["a", "b"], True)] + [([], False)] * 17
    [discarded] = cloud.engine.discarded_events
    assert discarded["condition"] == "RecordAgeExceeded"
    assert discarded["window_state"] == {"count": 2}

    # ...and the shard moved on: a new record is delivered
    _put(cloud, "after")
    cloud.engine.settle(max_rounds=1000)
    assert "after" in _processed(cloud)


def test_a_partial_batch_response_in_a_window_keeps_the_state_it_returned(launch):
    cloud = launch(
        _kinesis_app(
            mode="window-report-once",
            TumblingWindowInSeconds=60,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
    )

    _put(cloud, "a", "poison-b", "c")
    cloud.settle()

    # THEN the retry from the reported record starts from the state that covered "a", so the
    # final invocation's state counts every record of the window once
    summary = [
        (
            [_data(record) for record in event["Records"]],
            event["state"],
            event["isFinalInvokeForWindow"],
        )
        for event in (invocation.payload["received"] for invocation in cloud.invocations)
    ]
    assert summary == [
        (["a", "poison-b", "c"], {}, False),
        (["poison-b", "c"], {"processed": ["a"]}, False),
        ([], {"processed": ["a", "poison-b", "c"]}, True),
    ]


def test_a_window_response_without_state_is_a_failed_invocation(launch):
    cloud = launch(_kinesis_app(mode="succeed", TumblingWindowInSeconds=60, MaximumRetryAttempts=0))

    _put(cloud, "a")
    cloud.settle()

    # THEN the batch failed (no state) and, out of retries, was discarded
    assert [condition["condition"] for condition in cloud.engine.discarded_events] == [
        "RetryAttemptsExhausted",
        "RetryAttemptsExhausted",
    ]


def _data(record: dict[str, Any]) -> str:
    return base64.b64decode(record["kinesis"]["data"]).decode()


def _seconds_between(start: str, end: str) -> float:
    def parse(moment: str) -> float:
        return calendar.timegm(time.strptime(moment, "%Y-%m-%dT%H:%M:%SZ"))

    return parse(end) - parse(start)


# -- DynamoDB Streams ----------------------------------------------------------------------


def _table_app(*, mode: str = "succeed", **settings: Any) -> App:
    app = App()
    stream_table(app, "Orders", view_type="NEW_AND_OLD_IMAGES")
    app.function("Consumer", STREAM_CONSUMER, environment={"MODE": mode})
    stream_source(app, "Consumer", get_att("Orders", "StreamArn"), **settings)
    return app


def test_dynamodb_changes_arrive_as_insert_modify_remove_with_both_images(launch):
    cloud = launch(_table_app())
    outputs = cloud.outputs("Stack")
    dynamodb = cloud.client("dynamodb")
    table = outputs["OrdersName"]

    dynamodb.put_item(TableName=table, Item={"id": {"S": "o1"}, "total": {"N": "10"}})
    dynamodb.put_item(TableName=table, Item={"id": {"S": "o1"}, "total": {"N": "12"}})
    dynamodb.delete_item(TableName=table, Key={"id": {"S": "o1"}})
    cloud.settle()

    [invocation] = cloud.invocations
    assert invocation.payload["seen"] == ["INSERT:o1", "MODIFY:o1", "REMOVE:o1"]
    insert, modify, remove = invocation.payload["records"]
    for record in (insert, modify, remove):
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == cloud.region
        assert record["eventSourceARN"] == outputs["OrdersStreamArn"]
        assert record["dynamodb"]["Keys"] == {"id": {"S": "o1"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
        assert record["dynamodb"]["SizeBytes"] > 0
    assert insert["dynamodb"]["NewImage"] == {"id": {"S": "o1"}, "total": {"N": "10"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"] == {"id": {"S": "o1"}, "total": {"N": "10"}}
    assert modify["dynamodb"]["NewImage"] == {"id": {"S": "o1"}, "total": {"N": "12"}}
    assert remove["dynamodb"]["OldImage"] == {"id": {"S": "o1"}, "total": {"N": "12"}}
    assert "NewImage" not in remove["dynamodb"]
    sequence_numbers = [
        int(record["dynamodb"]["SequenceNumber"]) for record in (insert, modify, remove)
    ]
    assert sequence_numbers == sorted(sequence_numbers)
    assert len({record["eventID"] for record in (insert, modify, remove)}) == 3


def test_a_failed_dynamodb_batch_goes_to_an_sns_on_failure_destination(launch):
    app = _table_app(mode="raise", MaximumRetryAttempts=0)
    app.topic("Failures")
    app.queue("FailureInbox")
    app.subscription("FailureInboxSubscription", "Failures", queue="FailureInbox")
    app.resources["ConsumerOrdersSource"]["Properties"]["DestinationConfig"] = on_failure(
        topic="Failures"
    )
    cloud = launch(app)
    outputs = cloud.outputs("Stack")
    dynamodb = cloud.client("dynamodb")

    dynamodb.put_item(TableName=outputs["OrdersName"], Item={"id": {"S": "poison"}})
    cloud.settle()

    # THEN the one attempt failed, and the topic delivered the failure record
    assert _attempts(cloud) == [(["INSERT:poison"], False)]
    [message] = drain(cloud, outputs["FailureInboxUrl"])
    failure = json.loads(json.loads(message["Body"])["Message"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    info = failure["DDBStreamBatchInfo"]
    assert info["streamArn"] == outputs["OrdersStreamArn"]
    assert info["batchSize"] == 1
    assert info["shardId"].startswith("shardId-")
