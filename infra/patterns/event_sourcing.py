"""Event sourcing: an account ledger whose only state is an append-only event store in
DynamoDB; projections, snapshots and integration events are derived from it."""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_pipes as pipes
from constructs import Construct

from event_sourcing.contract import (
    API_HANDLER,
    API_SERVICE_NAME,
    ENV_EVENTS_TABLE_NAME,
    ENV_PROJECTION_TABLE_NAME,
    ENV_SNAPSHOT_INTERVAL,
    ENV_SNAPSHOTS_TABLE_NAME,
    INTEGRATION_EVENT_SOURCE,
    KIND_ATTRIBUTE,
    KIND_EVENT,
    PROJECTOR_HANDLER,
    PROJECTOR_SERVICE_NAME,
    PUBLISHER_HANDLER,
    PUBLISHER_SERVICE_NAME,
    REBUILDER_HANDLER,
    REBUILDER_SERVICE_NAME,
    ROUTES,
    STORE_PARTITION_KEY,
    STORE_SORT_KEY,
)
from infra.config import AppConfig
from infra.constructs import (
    AlarmTopic,
    DeadLetterQueue,
    PythonFunction,
    QueueWithDlq,
    Table,
    TableStreamToFunction,
    add_http_api_to_function,
)

PATTERN = "event_sourcing"
#: The `detail-type` of every integration event on the bus.
INTEGRATION_DETAIL_TYPE = "AccountEvent"
#: Only new events leave the store: not heads, not command records, not the same event again
#: (an event is written once and never modified). Lambda's and Pipes' filter syntax alike.
NEW_EVENTS_ONLY = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {KIND_ATTRIBUTE: {"S": [KIND_EVENT]}}},
}


def _versioned_table(scope: Construct, construct_id: str, *, config: AppConfig, **props) -> Table:
    """A table keyed by a string `pk` and a numeric `sk` (a version)."""
    return Table(
        scope,
        construct_id,
        config=config,
        partition_key_name=STORE_PARTITION_KEY,
        sort_key=dynamodb.Attribute(name=STORE_SORT_KEY, type=dynamodb.AttributeType.NUMBER),
        **props,
    )


class EventSourcing(Construct):
    """HTTP API -> ledger function -> event store (DynamoDB, TransactWriteItems) -> its stream
    -> projector -> read model, and -> an EventBridge Pipe -> event bus.

    Defaults:
    - the event store: events at (account id, version), each account's head at version 0,
      command records; its stream (new images) is the only way anything leaves it;
    - snapshots in their own table every `snapshot_interval` (25) events, written in the same
      transaction as the event that makes one due;
    - the projector reads the stream through a `TableStreamToFunction` (new events only, by
      filter; bisect, `projector_retry_attempts` 3, an on-failure queue, alarms), writing the
      read-model table; a rebuild function replays the whole store into a second, empty
      read-model table (`rebuild_table`) to compare with or replace the live one;
    - the outbox: a pipe from the same stream (the same filter; `AUTOMATIC_BISECT`,
      `outbox_retry_attempts` 3, a dead-letter queue with an alarm) through the publisher
      (the enrichment: stored events become integration events in the current schema) to an
      event bus; a rule puts every integration event in a queue (with its DLQ) for a consumer;
    - the HTTP API's `$default` stage throttled to `rate_limit` 50 requests/s (bursts of
      `burst_limit` 100), JSON access logs, an alarm on any 5xx;
    - each function and the pipe may touch only what they need (`grant_*`).

    Attributes: `api`, `stage`, `url`, `events_table`, `snapshots_table`, `projection_table`,
    `rebuild_table`, `api_function`, `projector`, `publisher`, `rebuilder`, `projection`
    (the `TableStreamToFunction`), `bus`, `pipe`, `outbox_dead_letter_queue`,
    `integration_events` (a `QueueWithDlq`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        rate_limit: int = 50,
        burst_limit: int = 100,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.event_sourcing
        self.events_table = _versioned_table(
            self,
            "EventsTable",
            config=config,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        ).table
        self.snapshots_table = _versioned_table(self, "SnapshotsTable", config=config).table
        self.projection_table = Table(
            self, "ProjectionTable", config=config, partition_key_name="account_id"
        ).table
        self.rebuild_table = Table(
            self, "RebuildTable", config=config, partition_key_name="account_id"
        ).table

        # --- write side: the API ------------------------------------------------------------
        self.api_function = PythonFunction(
            self,
            "Api",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=API_HANDLER,
            description="Ledger API: decides commands, appends events, loads state",
            service_name=API_SERVICE_NAME,
            timeout=Duration.seconds(10),
            environment={
                ENV_EVENTS_TABLE_NAME: self.events_table.table_name,
                ENV_SNAPSHOTS_TABLE_NAME: self.snapshots_table.table_name,
                ENV_SNAPSHOT_INTERVAL: str(settings.snapshot_interval),
            },
        )
        self.events_table.grant_read_write_data(self.api_function.function)
        self.snapshots_table.grant_read_write_data(self.api_function.function)
        self._http_api(config, alarms, rate_limit=rate_limit, burst_limit=burst_limit)

        # --- read side: the projection and its rebuild -------------------------------------
        self.projector = PythonFunction(
            self,
            "Projector",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PROJECTOR_HANDLER,
            description="Projects new events into the accounts read model, in order per account",
            service_name=PROJECTOR_SERVICE_NAME,
            timeout=Duration.seconds(30),
            environment={
                ENV_EVENTS_TABLE_NAME: self.events_table.table_name,
                ENV_PROJECTION_TABLE_NAME: self.projection_table.table_name,
            },
        )
        self.events_table.grant_read_data(self.projector.function)
        self.projection_table.grant_read_write_data(self.projector.function)
        self.projection = TableStreamToFunction(
            self,
            "Projection",
            config=config,
            alarms=alarms,
            table=self.events_table,
            function=self.projector.function,
            retry_attempts=settings.projector_retry_attempts,
            filters=[lambda_.FilterCriteria.filter(NEW_EVENTS_ONLY)],
        )
        self.rebuilder = PythonFunction(
            self,
            "Rebuilder",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=REBUILDER_HANDLER,
            description="Replays the whole event store into the rebuild read model",
            service_name=REBUILDER_SERVICE_NAME,
            timeout=Duration.minutes(15),
            memory_size=1024,
            environment={
                ENV_EVENTS_TABLE_NAME: self.events_table.table_name,
                ENV_PROJECTION_TABLE_NAME: self.rebuild_table.table_name,
            },
        )
        self.events_table.grant_read_data(self.rebuilder.function)
        self.rebuild_table.grant_read_write_data(self.rebuilder.function)

        # --- the outbox: stream -> pipe (publisher) -> bus -----------------------------------
        self.publisher = PythonFunction(
            self,
            "Publisher",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=PUBLISHER_HANDLER,
            description="Turns stored events into integration events for the outbox pipe",
            service_name=PUBLISHER_SERVICE_NAME,
            timeout=Duration.seconds(30),
        )
        self.bus = events.EventBus(self, "Bus", description="Integration events of the ledger")
        self.outbox_dead_letter_queue = DeadLetterQueue(
            self, "OutboxDeadLetterQueue", config=config, dead_letters_for="the outbox pipe"
        )
        self.outbox_dead_letter_queue.alarm_on_depth(
            self,
            "OutboxDeadLetterQueueDepthAlarm",
            alarms=alarms,
            description="Stored events the outbox pipe could not publish",
        )
        pipe_role = iam.Role(
            self,
            "OutboxPipeRole",
            assumed_by=iam.ServicePrincipal("pipes.amazonaws.com"),
            description="The outbox pipe: reads the store's stream, enriches, publishes",
        )
        self.events_table.grant_stream_read(pipe_role)
        stack = Stack.of(self)
        publisher_id = stack.resolve(
            stack.get_logical_id(self.publisher.function.node.default_child)
        )
        for rule, reason in (
            (
                "AwsSolutions-IAM5[Resource::*]",
                "grant_stream_read adds dynamodb:ListStreams, which has no resource-level "
                "permissions; reading records is granted on this table's stream only.",
            ),
            (
                f"AwsSolutions-IAM5[Resource::<{publisher_id}.Arn>:*]",
                "grant_invoke lets the pipe invoke the publisher and its versions and aliases "
                "(`:*`), that one function only.",
            ),
        ):
            Validations.of(pipe_role).acknowledge(
                Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason)
            )
        self.publisher.function.grant_invoke(pipe_role)
        self.bus.grant_put_events_to(pipe_role)
        self.outbox_dead_letter_queue.grant_send_messages(pipe_role)
        self.pipe = pipes.CfnPipe(
            self,
            "OutboxPipe",
            role_arn=pipe_role.role_arn,
            description="Transactional outbox: committed events only, to the event bus",
            source=self.events_table.table_stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="TRIM_HORIZON",
                    batch_size=10,
                    maximum_retry_attempts=settings.outbox_retry_attempts,
                    maximum_record_age_in_seconds=3600,
                    on_partial_batch_item_failure="AUTOMATIC_BISECT",
                    dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(
                        arn=self.outbox_dead_letter_queue.queue_arn
                    ),
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps(NEW_EVENTS_ONLY))]
                ),
            ),
            enrichment=self.publisher.function.function_arn,
            target=self.bus.event_bus_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    source=INTEGRATION_EVENT_SOURCE, detail_type=INTEGRATION_DETAIL_TYPE
                )
            ),
        )
        self.pipe.node.add_dependency(pipe_role)
        self.integration_events = QueueWithDlq(
            self, "IntegrationEvents", config=config, alarms=alarms
        )
        events.Rule(
            self,
            "IntegrationEventsRule",
            event_bus=self.bus,
            description="Every integration event of the ledger, to its consumer's queue",
            event_pattern=events.EventPattern(
                source=[INTEGRATION_EVENT_SOURCE], detail_type=[INTEGRATION_DETAIL_TYPE]
            ),
            targets=[
                targets.SqsQueue(
                    self.integration_events.queue,
                    dead_letter_queue=self.integration_events.dead_letter_queue,
                    retry_attempts=8,
                )
            ],
        )

    def _http_api(
        self, config: AppConfig, alarms: AlarmTopic, *, rate_limit: int, burst_limit: int
    ) -> None:
        self.http_api = add_http_api_to_function(
            self,
            config=config,
            alarms=alarms,
            function=self.api_function.function,
            routes=ROUTES,
            description="Accounts ledger API (event sourcing pattern)",
            server_error_alarm_description="The ledger API answered with a 5xx",
            public_because="The sample ledger API is deliberately public so it can be tried with "
            "curl; docs/patterns/event_sourcing.md says to add a JWT authorizer before "
            "serving real accounts.",
            rate_limit=rate_limit,
            burst_limit=burst_limit,
        )
        self.api, self.stage = self.http_api.api, self.http_api.stage
        self.access_log_group = self.http_api.access_log_group

    @property
    def url(self) -> str:
        """The invoke URL of the `$default` stage."""
        return self.stage.url
