"""EventBridge Pipes' rules without a pipe: source settings for the shared pollers, the events a
pipe passes on, bus entries, input templates and the dead-letter record."""

from __future__ import annotations

import base64
import json

from localcloud.rules import pipes
from localcloud.rules.stream_batching import (
    StreamRecord,
    StreamSourceSettings,
    pipe_failure_record,
)

QUEUE = "arn:aws:sqs:eu-west-1:123456789012:inbox"
STREAM = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
TABLE_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/events/stream/2026-12-02"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:target"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:flow"
BUS = "arn:aws:events:eu-west-1:123456789012:event-bus/outbox"
NAMES = pipes.PipeNames(
    pipe_arn="arn:aws:pipes:eu-west-1:123456789012:pipe/outbox",
    pipe_name="outbox",
    source_arn=QUEUE,
    enrichment_arn="",
    target_arn=BUS,
)


def test_an_sqs_source_takes_batches_of_ten_and_its_filter_by_default():
    criteria = {"Filters": [{"Pattern": '{"body": {"kind": ["paid"]}}'}]}

    settings = pipes.source_settings(
        QUEUE, {"FilterCriteria": criteria}, target_arn=BUS, target_parameters=None
    )

    assert settings.batch_size == 10
    assert settings.max_batch_window == 0
    assert settings.filter_criteria == criteria
    assert settings.function_response_types == ()


def test_stream_parameters_become_the_stream_poller_settings():
    parameters = {
        "KinesisStreamParameters": {
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 5,
            "MaximumBatchingWindowInSeconds": 3,
            "MaximumRetryAttempts": 2,
            "MaximumRecordAgeInSeconds": 60,
            "ParallelizationFactor": 2,
            "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
            "DeadLetterConfig": {"Arn": QUEUE},
        }
    }

    settings = StreamSourceSettings.of(
        pipes.source_settings(STREAM, parameters, target_arn=FUNCTION, target_parameters=None)
    )

    assert settings == StreamSourceSettings(
        batch_size=5,
        batching_window_seconds=3,
        parallelization_factor=2,
        maximum_retry_attempts=2,
        maximum_record_age_seconds=60,
        bisect_on_function_error=True,
        reports_batch_item_failures=True,
        on_failure_destination=QUEUE,
    )


def test_a_stream_source_defaults_to_one_record_retried_until_it_expires():
    settings = pipes.source_settings(
        TABLE_STREAM,
        {"DynamoDBStreamParameters": {"StartingPosition": "LATEST"}},
        target_arn=BUS,
        target_parameters=None,
        shard_ends={"shard-1": 41},
    )

    assert (settings.batch_size, settings.max_retry_attempts, settings.max_record_age) == (
        1,
        -1,
        -1,
    )
    assert settings.destination_config is None
    assert settings.localcloud_shard_ends == {"shard-1": 41}


def test_only_a_target_invoked_synchronously_reports_batch_item_failures():
    fire_and_forget = {"LambdaFunctionParameters": {"InvocationType": "FIRE_AND_FORGET"}}

    assert pipes.invocation_type(FUNCTION, None) == "REQUEST_RESPONSE"
    assert pipes.invocation_type(MACHINE, None) == "FIRE_AND_FORGET"
    assert pipes.reports_batch_item_failures(FUNCTION, None)
    assert not pipes.reports_batch_item_failures(FUNCTION, fire_and_forget)
    assert not pipes.reports_batch_item_failures(MACHINE, None)
    assert pipes.reports_batch_item_failures(
        MACHINE, {"StepFunctionStateMachineParameters": {"InvocationType": "REQUEST_RESPONSE"}}
    )


def test_only_an_answer_listing_batch_item_failures_is_a_partial_batch_response():
    reported = {"batchItemFailures": [{"itemIdentifier": "m1"}]}

    assert pipes.partial_batch_response(reported) == reported
    assert pipes.partial_batch_response([{"itemIdentifier": "m1"}]) is None
    assert pipes.partial_batch_response({"received": 2}) is None
    assert pipes.partial_batch_response("done") is None


def test_a_kinesis_record_is_passed_on_with_its_fields_at_the_top_level():
    record = {
        "kinesis": {"partitionKey": "p", "data": "eA==", "sequenceNumber": "1"},
        "eventSource": "aws:kinesis",
        "eventID": "shard:1",
    }
    sqs_record = {"messageId": "m1", "body": "x", "eventSource": "aws:sqs"}

    assert pipes.pipe_events([record, sqs_record]) == [
        {
            "partitionKey": "p",
            "data": "eA==",
            "sequenceNumber": "1",
            "eventSource": "aws:kinesis",
            "eventID": "shard:1",
        },
        sqs_record,
    ]


def test_an_enrichment_answer_is_the_new_batch():
    assert pipes.enriched_events([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    assert pipes.enriched_events({"a": 1}) == [{"a": 1}]
    assert pipes.enriched_events(None) == []
    assert pipes.enriched_events([]) == []


def test_a_bus_entry_names_the_pipe_and_source_kind_unless_told_otherwise():
    event = {"eventSource": "aws:dynamodb", "eventName": "INSERT"}

    assert pipes.bus_entry(event, pipe_name="outbox", bus_parameters=None) == (
        "Pipe outbox",
        "Event from aws:dynamodb",
        event,
    )
    given = {"Source": "orders", "DetailType": "OrderPlaced"}
    assert pipes.bus_entry('{"id": 1}', pipe_name="outbox", bus_parameters=given) == (
        "orders",
        "OrderPlaced",
        {"id": 1},
    )


def test_an_input_template_reads_a_json_body_decoded_and_names_the_pipe():
    event = {"messageId": "m1", "body": '{"id": 7, "lines": [1, 2]}', "eventSource": "aws:sqs"}
    template = (
        '{"id": <$.body.id>, "lines": <$.body.lines>, "message": "<$.messageId>", '
        '"pipe": "<aws.pipes.pipe-name>", "missing": <$.body.nothing>, '
        '"at": "<aws.pipes.event.ingestion-time>"}'
    )

    shaped = pipes.input_template(template, event, NAMES, ingestion_time="2026-12-02T00:00:00Z")

    assert shaped == {
        "id": 7,
        "lines": [1, 2],
        "message": "m1",
        "pipe": "outbox",
        "missing": None,
        "at": "2026-12-02T00:00:00Z",
    }


def test_an_input_template_reads_kinesis_data_decoded_and_may_give_plain_text():
    data = base64.b64encode(json.dumps({"sku": "A-1"}).encode()).decode()
    event = {"data": data, "partitionKey": "p", "eventSource": "aws:kinesis"}

    assert pipes.input_template("<$.data.sku>", event, NAMES, ingestion_time="t") == "A-1"
    assert pipes.input_template("sku: <$.partitionKey>", event, NAMES, ingestion_time="t") == (
        'sku: "p"'
    )


def test_a_pipe_dead_letter_record_describes_the_batch_under_the_pipe_context():
    records = [
        StreamRecord(
            position=n,
            sequence_number=str(n),
            partition_key="p",
            arrival=1_764_633_600.0 + n,
            event_record={},
            size=1,
        )
        for n in (1, 2)
    ]

    record = pipe_failure_record(
        condition="RetryAttemptsExhausted",
        pipe_arn=NAMES.pipe_arn,
        batch_info_key="DDBStreamBatchInfo",
        shard_id="shard-1",
        stream_arn=TABLE_STREAM,
        records=records,
    )

    assert record["context"] == {
        "partnerResourceArn": NAMES.pipe_arn,
        "condition": "RetryAttemptsExhausted",
    }
    assert record["version"] == "1.0"
    assert record["DDBStreamBatchInfo"] == {
        "shardId": "shard-1",
        "startSequenceNumber": "1",
        "endSequenceNumber": "2",
        "approximateArrivalOfFirstRecord": "2025-12-02T00:00:01.000Z",
        "approximateArrivalOfLastRecord": "2025-12-02T00:00:02.000Z",
        "batchSize": 2,
        "streamArn": TABLE_STREAM,
    }
    assert "requestContext" not in record
