"""Thin deployable stacks: each instantiates one pattern, its alarm topic, and its outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from api_gateway import contract as api_gateway_contract
from batching import contract as batching_contract
from etl import contract as etl_contract
from event_sourcing import contract as event_sourcing_contract
from infra import registry
from infra.config import AppConfig
from infra.constructs import AlarmTopic
from infra.patterns.api_gateway import ApiGateway
from infra.patterns.batching import Batching
from infra.patterns.etl import Etl
from infra.patterns.event_sourcing import EventSourcing
from infra.patterns.orchestration import Orchestration
from infra.patterns.peer_to_peer import PeerToPeer
from infra.patterns.pub_sub import PubSub
from infra.patterns.request_response import RequestResponse
from infra.patterns.stream_processing import StreamProcessing
from orchestration import contract as orchestration_contract
from peer_to_peer import contract as peer_to_peer_contract
from pub_sub import contract as pub_sub_contract
from request_response import contract as request_response_contract
from stream_processing import contract as stream_processing_contract


@dataclass(frozen=True)
class Output:
    """A stack output's value, and what it is for when its name does not say."""

    value: str
    description: str | None = None


class PatternStack(Stack):
    """One pattern's stack: its alarm topic, the pattern, and the outputs its registry entry lists.

    A subclass names its pattern (`pattern_name`, its registry name) and builds it in `build`,
    returning its outputs; a stack whose outputs differ from the registry's fails at synth.
    """

    pattern_name: ClassVar[str]
    #: Creates the pattern and returns its outputs but the alarm topic's, by output name.
    build: Callable[..., dict[str, Output]]

    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        self.alarms = AlarmTopic(self, "Alarms", config=config)
        outputs = {
            **self.build(config=config, alarms=self.alarms),
            registry.OUTPUT_ALARM_TOPIC_ARN: Output(self.alarms.topic.topic_arn),
        }
        expected = registry.pattern(self.pattern_name).outputs
        if sorted(outputs) != sorted(expected):
            raise ValueError(
                f"{construct_id} outputs {sorted(outputs)}; the registry lists {sorted(expected)}"
            )
        for name in expected:
            CfnOutput(self, name, value=outputs[name].value, description=outputs[name].description)


class RequestResponseStack(PatternStack):
    """`cdk deploy RequestResponse`: HTTP API -> Lambda -> DynamoDB."""

    pattern_name = "request_response"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = RequestResponse(self, "RequestResponse", config=config, alarms=alarms)
        return {
            request_response_contract.OUTPUT_API_URL: Output(
                self.pattern.url, "Invoke URL of the API"
            ),
            request_response_contract.OUTPUT_ITEMS_TABLE_NAME: Output(
                self.pattern.items_table.table_name
            ),
        }


class PubSubStack(PatternStack):
    """`cdk deploy PubSub`: publisher -> SNS topic -> filtered SQS queues -> consumers."""

    pattern_name = "pub_sub"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = PubSub(self, "PubSub", config=config, alarms=alarms)
        outputs = {
            pub_sub_contract.OUTPUT_TOPIC_ARN: Output(self.pattern.topic.topic_arn),
            pub_sub_contract.OUTPUT_PUBLISHER_FUNCTION_NAME: Output(
                self.pattern.publisher.function.function_name
            ),
            pub_sub_contract.OUTPUT_LEDGER_TABLE_NAME: Output(self.pattern.ledger_table.table_name),
        }
        for name, pipeline in self.pattern.pipelines.items():
            outputs[pub_sub_contract.output_queue_url(name)] = Output(
                pipeline.inbox.queue.queue_url, f"Inbox of the {name} subscriber"
            )
            outputs[pub_sub_contract.output_dead_letter_queue_url(name)] = Output(
                pipeline.inbox.dead_letter_queue.queue_url,
                f"Dead-letter queue of the {name} subscriber",
            )
        return outputs


class BatchingStack(PatternStack):
    """`cdk deploy Batching`: producer -> SQS -> writer in large batches -> DynamoDB."""

    pattern_name = "batching"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = Batching(self, "Batching", config=config, alarms=alarms)
        return {
            batching_contract.OUTPUT_PRODUCER_FUNCTION_NAME: Output(
                self.pattern.producer.function.function_name
            ),
            batching_contract.OUTPUT_WRITER_FUNCTION_NAME: Output(
                self.pattern.writer.function.function_name
            ),
            batching_contract.OUTPUT_QUEUE_URL: Output(
                self.pattern.inbox.queue.queue_url, "Work queue the writer reads in batches"
            ),
            batching_contract.OUTPUT_DEAD_LETTER_QUEUE_URL: Output(
                self.pattern.inbox.dead_letter_queue.queue_url,
                "Failed items, each with its failure_reason attribute; redrive it to the "
                "work queue with StartMessageMoveTask",
            ),
            batching_contract.OUTPUT_ITEMS_TABLE_NAME: Output(self.pattern.items_table.table_name),
        }


class StreamProcessingStack(PatternStack):
    """`cdk deploy StreamProcessing`: producer -> Kinesis -> windowed aggregator -> DynamoDB."""

    pattern_name = "stream_processing"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = StreamProcessing(
            self,
            "StreamProcessing",
            config=config,
            alarms=alarms,
            parallelization_factor=config.stream_processing.parallelization_factor,
            enhanced_fan_out=config.stream_processing.enhanced_fan_out,
        )
        pattern = self.pattern
        return {
            stream_processing_contract.OUTPUT_STREAM_NAME: Output(pattern.stream.stream_name),
            stream_processing_contract.OUTPUT_PRODUCER_FUNCTION_NAME: Output(
                pattern.producer.function.function_name
            ),
            stream_processing_contract.OUTPUT_AGGREGATOR_FUNCTION_NAME: Output(
                pattern.aggregator.function.function_name
            ),
            stream_processing_contract.OUTPUT_AGGREGATES_TABLE_NAME: Output(
                pattern.aggregates_table.table_name
            ),
            stream_processing_contract.OUTPUT_ALERT_TOPIC_ARN: Output(
                pattern.alert_topic.topic_arn
            ),
            stream_processing_contract.OUTPUT_ALERTS_QUEUE_URL: Output(
                pattern.alerts.queue.queue_url, "Subscribed to the alert topic (raw delivery)"
            ),
            stream_processing_contract.OUTPUT_ON_FAILURE_QUEUE_URL: Output(
                pattern.source.dead_letter_queue.queue_url,
                "Batches given up on and records rejected as malformed, with their reason",
            ),
        }


class PeerToPeerStack(PatternStack):
    """`cdk deploy PeerToPeer`: services calling each other through Cloud Map, guarded."""

    pattern_name = "peer_to_peer"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = PeerToPeer(
            self, "PeerToPeer", config=config, alarms=alarms, settings=config.peer_to_peer
        )
        pattern = self.pattern
        outputs = {
            peer_to_peer_contract.output_function_name(service): Output(
                function.function.function_name
            )
            for service, function in pattern.functions.items()
        }
        outputs.update(
            {
                peer_to_peer_contract.output_table_name(service): Output(table.table_name)
                for service, table in pattern.tables.items()
            }
        )
        outputs[peer_to_peer_contract.OUTPUT_BREAKER_TABLE_NAME] = Output(
            pattern.breaker_table.table_name, "One item per peer's circuit (Powertools' layout)"
        )
        outputs[peer_to_peer_contract.OUTPUT_NAMESPACE_NAME] = Output(
            pattern.namespace.namespace_name,
            "The Cloud Map namespace the services find each other in",
        )
        return outputs


class ApiGatewayStack(PatternStack):
    """`cdk deploy ApiGateway`: one REST API -> two Lambda services and a queue (storage-first)."""

    pattern_name = "api_gateway"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = ApiGateway(self, "ApiGateway", config=config, alarms=alarms)
        pattern = self.pattern
        outputs = {
            api_gateway_contract.OUTPUT_API_URL: Output(pattern.url, "Invoke URL of the API"),
            api_gateway_contract.OUTPUT_JWKS_PARAMETER_NAME: Output(
                pattern.jwks_parameter.parameter_name,
                "SSM parameter with the token issuer's public keys (JWKS) the authorizer trusts",
            ),
            api_gateway_contract.OUTPUT_ORDERS_TABLE_NAME: Output(pattern.orders_table.table_name),
            api_gateway_contract.OUTPUT_FEEDBACK_TABLE_NAME: Output(
                pattern.feedback_table.table_name
            ),
            api_gateway_contract.OUTPUT_FEEDBACK_QUEUE_URL: Output(
                pattern.feedback.queue.queue_url, "Feedback the API queued (storage-first)"
            ),
            api_gateway_contract.OUTPUT_FEEDBACK_DEAD_LETTER_QUEUE_URL: Output(
                pattern.feedback.dead_letter_queue.queue_url,
                "Feedback messages the consumer failed on every receive",
            ),
        }
        for tier, key in pattern.api_keys.items():
            outputs[api_gateway_contract.output_api_key_id(tier)] = Output(
                key.key_id, f"API key of the {tier.value} usage plan (its value is in API Gateway)"
            )
        return outputs


class OrchestrationStack(PatternStack):
    """`cdk deploy Orchestration`: one order saga on Step Functions and on a durable function."""

    pattern_name = "orchestration"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = Orchestration(self, "Orchestration", config=config, alarms=alarms)
        pattern = self.pattern
        return {
            orchestration_contract.OUTPUT_API_URL: Output(pattern.url, "Invoke URL of the API"),
            orchestration_contract.OUTPUT_TABLE_NAME: Output(
                pattern.table.table_name, "Orders, their steps' records, and stock per SKU"
            ),
            orchestration_contract.OUTPUT_STATE_MACHINE_ARN: Output(
                pattern.state_machine.state_machine_arn, "The saga on Step Functions"
            ),
            orchestration_contract.OUTPUT_DURABLE_FUNCTION_NAME: Output(
                pattern.durable.function.function_name, "The saga as a Lambda durable function"
            ),
            orchestration_contract.OUTPUT_STEPS_FUNCTION_NAME: Output(
                pattern.steps.function.function_name, "Runs the state machine's steps"
            ),
            orchestration_contract.OUTPUT_EVENT_BUS_NAME: Output(
                pattern.bus.event_bus_name, "Put OrderPlaced events here to place orders"
            ),
            orchestration_contract.OUTPUT_EVENTS_DEAD_LETTER_QUEUE_URL: Output(
                pattern.events_dead_letter_queue.queue_url,
                "OrderPlaced events that could not be delivered or placed, with the error",
            ),
        }


class EventSourcingStack(PatternStack):
    """`cdk deploy EventSourcing`: HTTP API -> event store -> projections and an outbox."""

    pattern_name = "event_sourcing"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = EventSourcing(self, "EventSourcing", config=config, alarms=alarms)
        pattern = self.pattern
        return {
            event_sourcing_contract.OUTPUT_API_URL: Output(pattern.url, "Invoke URL of the API"),
            event_sourcing_contract.OUTPUT_EVENTS_TABLE_NAME: Output(
                pattern.events_table.table_name, "The event store"
            ),
            event_sourcing_contract.OUTPUT_SNAPSHOTS_TABLE_NAME: Output(
                pattern.snapshots_table.table_name
            ),
            event_sourcing_contract.OUTPUT_PROJECTION_TABLE_NAME: Output(
                pattern.projection_table.table_name, "The accounts read model"
            ),
            event_sourcing_contract.OUTPUT_REBUILD_TABLE_NAME: Output(
                pattern.rebuild_table.table_name, "Where the rebuilder replays the store"
            ),
            event_sourcing_contract.OUTPUT_REBUILDER_FUNCTION_NAME: Output(
                pattern.rebuilder.function.function_name
            ),
            event_sourcing_contract.OUTPUT_EVENT_BUS_NAME: Output(pattern.bus.event_bus_name),
            event_sourcing_contract.OUTPUT_INTEGRATION_EVENTS_QUEUE_URL: Output(
                pattern.integration_events.queue.queue_url,
                "Every integration event the outbox published",
            ),
            event_sourcing_contract.OUTPUT_PROJECTOR_ON_FAILURE_QUEUE_URL: Output(
                pattern.projection.dead_letter_queue.queue_url
            ),
            event_sourcing_contract.OUTPUT_OUTBOX_DEAD_LETTER_QUEUE_URL: Output(
                pattern.outbox_dead_letter_queue.queue_url
            ),
        }


class EtlStack(PatternStack):
    """`cdk deploy Etl`: landed CSV and JSON Lines -> Step Functions -> Iceberg table in Glue."""

    pattern_name = "etl"

    def build(self, *, config: AppConfig, alarms: AlarmTopic) -> dict[str, Output]:
        self.pattern = Etl(self, "Etl", config=config, alarms=alarms)
        pattern = self.pattern
        return {
            etl_contract.OUTPUT_DATA_BUCKET_NAME: Output(
                pattern.bucket.bucket_name,
                f"Drop source files under {etl_contract.LANDING_PREFIX}; quarantined rows are "
                f"under {etl_contract.QUARANTINE_PREFIX}<run id>/",
            ),
            etl_contract.OUTPUT_STATE_MACHINE_ARN: Output(
                pattern.state_machine.state_machine_arn, "One execution per ETL run"
            ),
            etl_contract.OUTPUT_GLUE_DATABASE_NAME: Output(pattern.database_name),
            etl_contract.OUTPUT_TABLE_NAME: Output(
                pattern.table_name, "The Iceberg table in the Glue database (query it in Athena)"
            ),
            etl_contract.OUTPUT_TRANSFORM_FUNCTION_NAME: Output(
                pattern.transform.function.function_name
            ),
            etl_contract.OUTPUT_LOAD_FUNCTION_NAME: Output(pattern.load.function.function_name),
            etl_contract.OUTPUT_TRIGGER_DEAD_LETTER_QUEUE_URL: Output(
                pattern.trigger_dead_letter_queue.queue_url,
                "Landing events and schedules EventBridge could not turn into a run",
            ),
        }
