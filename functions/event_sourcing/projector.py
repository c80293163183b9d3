"""Projector handler: the event store's stream in, the accounts read model out; idempotent and
in order per account, whatever the stream redelivers or reorders."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_sourcing import adapters, logic
from event_sourcing.settings import projector_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def event_of_record(raw_record: dict[str, Any]) -> Any:
    """The stored event a stream record's new image holds (DynamoDB JSON)."""
    return adapters.stored_event(adapters.from_attributes(raw_record["dynamodb"]["NewImage"]))


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> str:
    """Project one event. A redelivered event changes nothing; one whose predecessors have not
    been projected yet brings them along from the store. Raising (the read model moved under
    it, the store unreachable) fails this record, and Lambda hands it over again."""
    settings = projector_settings()
    event = event_of_record(record.raw_event)
    store = adapters.event_store(settings.events_table_name, "")
    read_model = adapters.read_model(settings.projection_table_name)
    current = read_model.get(event.account_id)
    projected = logic.project(
        current,
        event,
        lambda first, last: list(store.events_between(event.account_id, first, last)),
    )
    if projected is None:
        metrics.add_metric(name="EventsAlreadyProjected", unit=MetricUnit.Count, value=1)
        return "already projected"
    read_model.put(projected, replacing_version=current.version)
    metrics.add_metric(
        name="EventsProjected", unit=MetricUnit.Count, value=projected.version - current.version
    )
    return "projected"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A DynamoDB Streams batch in; `{"batchItemFailures": [...]}` out."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
