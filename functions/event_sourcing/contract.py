"""Names the event-sourcing stack, its functions, the demo and the tests share: each is written
here only.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `event_sourcing/`.
"""

from __future__ import annotations

# Handlers, as Lambda resolves them from the asset root.
API_HANDLER = "event_sourcing.api.handler"
PROJECTOR_HANDLER = "event_sourcing.projector.handler"
PUBLISHER_HANDLER = "event_sourcing.publisher.handler"
REBUILDER_HANDLER = "event_sourcing.rebuilder.handler"

#: Every route the API serves, as (method, path) in API Gateway's syntax.
ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/accounts/{id}/commands"),
    ("GET", "/accounts/{id}"),
    ("GET", "/accounts/{id}/events"),
    ("GET", "/openapi.json"),
)

# Environment variables the stack sets and the functions read.
ENV_EVENTS_TABLE_NAME = "EVENTS_TABLE_NAME"
ENV_SNAPSHOTS_TABLE_NAME = "SNAPSHOTS_TABLE_NAME"
ENV_PROJECTION_TABLE_NAME = "PROJECTION_TABLE_NAME"
ENV_SNAPSHOT_INTERVAL = "SNAPSHOT_INTERVAL"

#: Powertools' `service` of each function: the dimension of its metrics.
API_SERVICE_NAME = "event_sourcing-api"
PROJECTOR_SERVICE_NAME = "event_sourcing-projector"
PUBLISHER_SERVICE_NAME = "event_sourcing-publisher"
REBUILDER_SERVICE_NAME = "event_sourcing-rebuilder"

# The event store's key and item kinds. Events sit at sort key = their version (1, 2, ...);
# each aggregate's head (its current version, the target of the optimistic-concurrency
# condition) at sort key 0; a command's record, which makes a retried command a no-op, under
# its own partition `command#<id>`.
STORE_PARTITION_KEY = "pk"
STORE_SORT_KEY = "sk"
HEAD_SORT_KEY = 0
COMMAND_PARTITION_PREFIX = "command#"
KIND_ATTRIBUTE = "kind"
KIND_EVENT = "event"
KIND_HEAD = "head"
KIND_COMMAND = "command"

#: Snapshots every this many events unless the stack's context sets another interval.
DEFAULT_SNAPSHOT_INTERVAL = 25

#: The `source` of every integration event the pipe puts on the bus; `detail-type` is the
#: domain event's type (`AccountOpened`, `MoneyDeposited`, ...).
INTEGRATION_EVENT_SOURCE = "serverless-patterns.accounts"

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_EVENTS_TABLE_NAME = "EventsTableName"
OUTPUT_SNAPSHOTS_TABLE_NAME = "SnapshotsTableName"
OUTPUT_PROJECTION_TABLE_NAME = "ProjectionTableName"
OUTPUT_REBUILD_TABLE_NAME = "RebuildTableName"
OUTPUT_REBUILDER_FUNCTION_NAME = "RebuilderFunctionName"
OUTPUT_EVENT_BUS_NAME = "EventBusName"
OUTPUT_INTEGRATION_EVENTS_QUEUE_URL = "IntegrationEventsQueueUrl"
OUTPUT_PROJECTOR_ON_FAILURE_QUEUE_URL = "ProjectorOnFailureQueueUrl"
OUTPUT_OUTBOX_DEAD_LETTER_QUEUE_URL = "OutboxDeadLetterQueueUrl"
