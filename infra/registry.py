"""The one list of patterns: it drives the stacks, their outputs, the demo, the e2e tests, README.

Standard library only (and the patterns' contract modules, which are too), so the demo and
`localcloud run` read it without loading the CDK; a stack class is imported when asked for.
Adding a pattern is one entry here plus its modules (see README's "Adding a pattern").

`python -m infra.registry` prints README's pattern table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from api_gateway import contract as api_gateway_contract
from batching import contract as batching_contract
from etl import contract as etl_contract
from event_sourcing import contract as event_sourcing_contract
from orchestration import contract as orchestration_contract
from peer_to_peer import contract as peer_to_peer_contract
from pub_sub import contract as pub_sub_contract
from request_response import contract as request_response_contract
from stream_processing import contract as stream_processing_contract

#: Every stack's output with the ARN of its alarm topic (subscribe to it to get the alarms).
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"


@dataclass(frozen=True)
class HttpApi:
    """An HTTP API a pattern's stack serves, and where its OpenAPI document comes from.

    Every registered API runs through the contract test (`tests/e2e/test_api_contracts.py`):
    deployed on localcloud, it must answer as its document says.
    """

    #: The stack output holding the API's base URL.
    url_output: str
    #: The path, under the base URL, where the API serves its OpenAPI document; None for a
    #: REST API whose document API Gateway exports from the deployed stage (`GetExport`).
    openapi_path: str | None = "/openapi.json"
    #: `module:function` that, given a cloud the stack is deployed on, returns a client's
    #: credentials by the name of the security scheme they answer (an API key, a bearer
    #: token); None for an API that asks for none. The contract test calls it; the registry
    #: only names it (a client's credentials are the demo's, which infra never imports).
    credentials: str | None = None
    #: Statuses a request valid by the document can still get for a reason of the domain (an
    #: order of an item nobody sells: 422), beyond the ones a contract test accepts anyway
    #: (2xx, 401, 403, 404, 409, 429).
    domain_refusals: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Pattern:
    """One distributed-systems pattern and where each of its parts lives.

    `name` is the module name in `infra/patterns/`, `functions/`, `demo/`, `tests/`,
    `events/` and `docs/patterns/`; `stack_name` is what `cdk deploy` takes. A pattern
    without `stack` is planned: it appears in README's table only.
    """

    name: str
    title: str
    stack_name: str
    summary: str
    #: `module:Class` of its stack, imported on demand (`stack_class()`).
    stack: str | None = None
    #: The module of its demo scenario (a `run(cloud)` function), driven by `make demo`.
    scenario: str | None = None
    #: The stack's outputs, in order; the stack must create exactly these.
    outputs: tuple[str, ...] = ()
    #: The HTTP APIs the stack serves, each held to its OpenAPI document by the contract test.
    http_apis: tuple[HttpApi, ...] = ()

    @property
    def done(self) -> bool:
        return self.stack is not None

    @property
    def doc_page(self) -> str:
        return f"docs/patterns/{self.name}.md"

    def stack_class(self) -> Any:
        """The pattern's `aws_cdk.Stack` subclass (importing it loads the CDK)."""
        if self.stack is None:
            raise LookupError(f"pattern {self.name} has no stack yet")
        module_name, class_name = self.stack.split(":")
        return getattr(importlib.import_module(module_name), class_name)

    def readme_row(self) -> str:
        title = f"[{self.title}]({self.doc_page})" if self.done else self.title
        status = "done" if self.done else "planned"
        return f"| {title} | `{self.stack_name}` | {self.summary} | {status} |"


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        name="request_response",
        title="Request-response",
        stack_name="RequestResponse",
        summary="HTTP API -> Lambda -> DynamoDB: validated resource API, pagination, "
        "optimistic concurrency, idempotent create, OpenAPI",
        stack="infra.stacks:RequestResponseStack",
        scenario="demo.request_response",
        outputs=(
            request_response_contract.OUTPUT_API_URL,
            request_response_contract.OUTPUT_ITEMS_TABLE_NAME,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
        http_apis=(HttpApi(url_output=request_response_contract.OUTPUT_API_URL),),
    ),
    Pattern(
        name="pub_sub",
        title="Pub-sub",
        stack_name="PubSub",
        summary="publisher -> encrypted SNS topic -> three filtered SQS subscribers (attribute "
        "and message-body filters, raw delivery), partial batch failures, idempotent "
        "consumers, DLQs",
        stack="infra.stacks:PubSubStack",
        scenario="demo.pub_sub",
        outputs=(
            pub_sub_contract.OUTPUT_TOPIC_ARN,
            pub_sub_contract.OUTPUT_PUBLISHER_FUNCTION_NAME,
            pub_sub_contract.OUTPUT_LEDGER_TABLE_NAME,
            *(
                output
                for subscriber in pub_sub_contract.SubscriberName
                for output in (
                    pub_sub_contract.output_queue_url(subscriber),
                    pub_sub_contract.output_dead_letter_queue_url(subscriber),
                )
            ),
            OUTPUT_ALARM_TOPIC_ARN,
        ),
    ),
    Pattern(
        name="peer_to_peer",
        title="Peer to peer",
        stack_name="PeerToPeer",
        summary="checkout, catalog, pricing and stock calling each other with synchronous "
        "Lambda invokes, found through Cloud Map (cached with a TTL); each call within the "
        "caller's remaining time, retried with jittered backoff, guarded by a circuit per peer "
        "shared in DynamoDB (Powertools) with a fallback answer, a call-depth limit against "
        "cycles, the correlation id carried across hops",
        stack="infra.stacks:PeerToPeerStack",
        scenario="demo.peer_to_peer",
        outputs=(
            *(
                peer_to_peer_contract.output_function_name(service)
                for service in peer_to_peer_contract.Service
            ),
            *(
                peer_to_peer_contract.output_table_name(service)
                for service in peer_to_peer_contract.DATA_OWNERS
            ),
            peer_to_peer_contract.OUTPUT_BREAKER_TABLE_NAME,
            peer_to_peer_contract.OUTPUT_NAMESPACE_NAME,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
    ),
    Pattern(
        name="api_gateway",
        title="API gateway",
        stack_name="ApiGateway",
        summary="one REST API in front of two Lambda services and a queue: JWT authorizer "
        "with scopes per route (cached), usage plans in two tiers with API keys (429), request "
        "models and validators (400, no backend call), JSON gateway errors, CORS, JSON access "
        "logs, WAF; storage-first SQS integration with mapping templates and its consumer",
        stack="infra.stacks:ApiGatewayStack",
        scenario="demo.api_gateway",
        outputs=(
            api_gateway_contract.OUTPUT_API_URL,
            *(api_gateway_contract.output_api_key_id(tier) for tier in api_gateway_contract.Tier),
            api_gateway_contract.OUTPUT_JWKS_PARAMETER_NAME,
            api_gateway_contract.OUTPUT_ORDERS_TABLE_NAME,
            api_gateway_contract.OUTPUT_FEEDBACK_TABLE_NAME,
            api_gateway_contract.OUTPUT_FEEDBACK_QUEUE_URL,
            api_gateway_contract.OUTPUT_FEEDBACK_DEAD_LETTER_QUEUE_URL,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
        http_apis=(
            HttpApi(
                url_output=api_gateway_contract.OUTPUT_API_URL,
                openapi_path=None,
                credentials="demo.api_gateway:client_credentials",
                domain_refusals=("422",),
            ),
        ),
    ),
    Pattern(
        name="event_sourcing",
        title="Event sourcing",
        stack_name="EventSourcing",
        summary="account ledger: commands through an HTTP API appended as events with "
        "TransactWriteItems and optimistic concurrency (409 with the current version), "
        "idempotent command ids, snapshots every N events, state as of a version or a time, "
        "upcasting of old event schemas; DynamoDB Streams -> projector (in order, idempotent) "
        "and a rebuild by replay; a transactional outbox through an EventBridge Pipe to a bus",
        stack="infra.stacks:EventSourcingStack",
        scenario="demo.event_sourcing",
        outputs=(
            event_sourcing_contract.OUTPUT_API_URL,
            event_sourcing_contract.OUTPUT_EVENTS_TABLE_NAME,
            event_sourcing_contract.OUTPUT_SNAPSHOTS_TABLE_NAME,
            event_sourcing_contract.OUTPUT_PROJECTION_TABLE_NAME,
            event_sourcing_contract.OUTPUT_REBUILD_TABLE_NAME,
            event_sourcing_contract.OUTPUT_REBUILDER_FUNCTION_NAME,
            event_sourcing_contract.OUTPUT_EVENT_BUS_NAME,
            event_sourcing_contract.OUTPUT_INTEGRATION_EVENTS_QUEUE_URL,
            event_sourcing_contract.OUTPUT_PROJECTOR_ON_FAILURE_QUEUE_URL,
            event_sourcing_contract.OUTPUT_OUTBOX_DEAD_LETTER_QUEUE_URL,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
        http_apis=(HttpApi(url_output=event_sourcing_contract.OUTPUT_API_URL),),
    ),
    Pattern(
        name="etl",
        title="ETL",
        stack_name="Etl",
        summary="CSV exports and a JSON Lines feed landed in S3 -> Step Functions (JSONata): a "
        "Distributed Map transforms each file into one typed schema (UTC times, normalized "
        "units and codes), bad rows quarantined with their reason -> merged on the natural key "
        "into an Apache Iceberg table in the Glue Data Catalog (pyiceberg, Parquet); started by "
        "S3 events through EventBridge and on a schedule, replays change nothing",
        stack="infra.stacks:EtlStack",
        scenario="demo.etl",
        outputs=(
            etl_contract.OUTPUT_DATA_BUCKET_NAME,
            etl_contract.OUTPUT_STATE_MACHINE_ARN,
            etl_contract.OUTPUT_GLUE_DATABASE_NAME,
            etl_contract.OUTPUT_TABLE_NAME,
            etl_contract.OUTPUT_TRANSFORM_FUNCTION_NAME,
            etl_contract.OUTPUT_LOAD_FUNCTION_NAME,
            etl_contract.OUTPUT_TRIGGER_DEAD_LETTER_QUEUE_URL,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
    ),
    Pattern(
        name="batching",
        title="Batching",
        stack_name="Batching",
        summary="producer -> SQS (tenants as fair-queue message groups) -> writer in "
        "batches of up to 10,000 with a batching window -> BatchWriteItem 25 per call with "
        "backoff, idempotent per item, failures to the DLQ with their reason, "
        "StartMessageMoveTask redrive",
        stack="infra.stacks:BatchingStack",
        scenario="demo.batching",
        outputs=(
            batching_contract.OUTPUT_PRODUCER_FUNCTION_NAME,
            batching_contract.OUTPUT_WRITER_FUNCTION_NAME,
            batching_contract.OUTPUT_QUEUE_URL,
            batching_contract.OUTPUT_DEAD_LETTER_QUEUE_URL,
            batching_contract.OUTPUT_ITEMS_TABLE_NAME,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
    ),
    Pattern(
        name="stream_processing",
        title="Stream processing",
        stack_name="StreamProcessing",
        summary="keyed readings -> encrypted Kinesis stream (PutRecords, 500 per call) -> "
        "aggregator with tumbling windows (count, sum, min, max per key), partial batch "
        "responses, bisect on error, on-failure queue; each window written to DynamoDB once, "
        "threshold alerts on SNS",
        stack="infra.stacks:StreamProcessingStack",
        scenario="demo.stream_processing",
        outputs=(
            stream_processing_contract.OUTPUT_STREAM_NAME,
            stream_processing_contract.OUTPUT_PRODUCER_FUNCTION_NAME,
            stream_processing_contract.OUTPUT_AGGREGATOR_FUNCTION_NAME,
            stream_processing_contract.OUTPUT_AGGREGATES_TABLE_NAME,
            stream_processing_contract.OUTPUT_ALERT_TOPIC_ARN,
            stream_processing_contract.OUTPUT_ALERTS_QUEUE_URL,
            stream_processing_contract.OUTPUT_ON_FAILURE_QUEUE_URL,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
    ),
    Pattern(
        name="orchestration",
        title="Orchestration",
        stack_name="Orchestration",
        summary="one order saga two ways, side by side: a Step Functions state machine in "
        "JSONata with variables (Map, Choice, Parallel, Retry, Catch, task token) and a Lambda "
        "durable function (steps, map, waits, callback); retries with jitter, compensation in "
        "reverse, approvals with a deadline, started idempotently from an API and from events",
        stack="infra.stacks:OrchestrationStack",
        scenario="demo.orchestration",
        outputs=(
            orchestration_contract.OUTPUT_API_URL,
            orchestration_contract.OUTPUT_TABLE_NAME,
            orchestration_contract.OUTPUT_STATE_MACHINE_ARN,
            orchestration_contract.OUTPUT_DURABLE_FUNCTION_NAME,
            orchestration_contract.OUTPUT_STEPS_FUNCTION_NAME,
            orchestration_contract.OUTPUT_EVENT_BUS_NAME,
            orchestration_contract.OUTPUT_EVENTS_DEAD_LETTER_QUEUE_URL,
            OUTPUT_ALARM_TOPIC_ARN,
        ),
        http_apis=(HttpApi(url_output=orchestration_contract.OUTPUT_API_URL),),
    ),
)


def deployable() -> tuple[Pattern, ...]:
    """The patterns with a stack, in README order: what the app synthesizes and deploys."""
    return tuple(pattern for pattern in PATTERNS if pattern.done)


def served_http_apis() -> tuple[tuple[Pattern, HttpApi], ...]:
    """Every HTTP API the deployable patterns serve, with the pattern that serves it."""
    return tuple((pattern, api) for pattern in deployable() for api in pattern.http_apis)


def pattern(name: str) -> Pattern:
    """The pattern called `name` (its module name); raises `KeyError` naming the known ones."""
    for candidate in PATTERNS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no pattern {name!r}; known: {', '.join(p.name for p in PATTERNS)}")


def readme_table() -> str:
    """README's "Patterns" table, one row per pattern."""
    header = "| pattern | stack | what it shows | status |\n|---|---|---|---|\n"
    return header + "\n".join(pattern.readme_row() for pattern in PATTERNS) + "\n"


if __name__ == "__main__":
    print(readme_table(), end="")
