"""The one contract every emulated service follows, and how the engine finds the services.

A service is a `Service` subclass in its own package under `localcloud/services/`. It brings

- `NAME`: how other services and tests find the running instance (`engine.service("events")`)
  without importing its package;
- `HOOKS`: its moto hooks (`localcloud.core.hooks.Hook`), installed when the engine starts and
  undone when it stops;
- `MODELS`: CloudFormation models for resource types moto's CloudFormation skips (subclasses
  of `localcloud.core.cloudformation.OwnedResource`), used while the engine runs;
- `pump()`: one delivery round of its own pending work, called by the engine's `pump`;
- `poll()`: for a service that owns a kind of event source (`SOURCES` names the ARN prefixes),
  one polling round for one `Subscription` (`localcloud.core.event_sources`);
- `deliver()`: for a service that takes a `Message` sent to one of its ARNs (a queue, a topic,
  a function, a state machine, a log group), the engine's dispatcher's way in: `DELIVERS`
  names the ARN service prefixes it answers (`"sqs"` for `arn:aws:sqs:...`);
- for a service that serves APIs over HTTP, `apis()` and `handle_http()`.

The services the engine runs are listed once, by import path, in `SERVICES`; a package is
imported only when an engine starts, so nothing in the core imports a service.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from localcloud.core.apifront import HttpRequest, HttpResponse
    from localcloud.core.clock import Clock
    from localcloud.core.event_sources import Subscription
    from localcloud.core.hooks import Hook
    from localcloud.core.runner import Invocation

#: Every service, in the order the engine pumps them: "package.module:Class".
SERVICES: tuple[str, ...] = (
    "localcloud.services.awslambda.service:Functions",
    "localcloud.services.sqs.service:Queues",
    "localcloud.services.dynamodb.service:TransactionalTables",
    "localcloud.services.sns.service:Topics",
    "localcloud.services.apigatewayv2.service:HttpApis",
    "localcloud.services.streams.service:StreamEventSources",
    "localcloud.services.pipes.service:Pipes",
    "localcloud.services.s3.service:S3Notifications",
    "localcloud.services.events.service:EventBridgeRules",
    "localcloud.services.stepfunctions.service:StepFunctions",
    "localcloud.services.apigateway.service:RestApis",
    "localcloud.services.cloudmap_glue.service:CloudMapAndGlue",
    "localcloud.services.logs.service:LogGroups",
    "localcloud.services.ssm.service:Parameters",
)


@dataclass(frozen=True)
class Message:
    """What one service sends another through the dispatcher (`Core.deliver`).

    `attributes` are message attributes in SQS's shape (`{"Name": {"DataType": "String",
    "StringValue": "..."}}`); `group_id` is a FIFO queue's message group; `trigger` names the
    sender in a function's invocation history.
    """

    body: str
    attributes: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    group_id: str | None = None
    trigger: str = "destination"


class DeliveryError(Exception):
    """The target cannot take the message: `NO_RESOURCE` (it is gone) or `INVALID_PARAMETER`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class EventBus(Protocol):
    """What the EventBridge service offers the others: an event put on a bus by AWS itself."""

    def put_event(
        self,
        *,
        account_id: str,
        region: str,
        bus_name: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str],
    ) -> dict[str, Any]: ...


class Core(Protocol):
    """What the core (`localcloud.core.engine.Engine`) offers every service."""

    region: str
    account_id: str
    time_scale: float
    clock: Clock
    endpoint_url: str | None
    discarded_events: list[dict[str, Any]]
    #: Whether delivery runs on its own (`localcloud up`) rather than when settled.
    delivering_in_background: bool

    def function(self, name_or_arn: str) -> Any:
        """The moto `LambdaFunction` with this name or ARN."""

    def invoke(
        self,
        function: Any,
        event: Any,
        *,
        trigger: str,
        request_id: str | None = None,
        chain: str | None = None,
    ) -> Invocation:
        """Run a function's real code now and record the invocation."""

    def invoke_async(self, function: Any, event: Any, *, trigger: str) -> str:
        """Queue an asynchronous invocation, with Lambda's retries and destinations."""

    def deliver(self, arn: str, message: Message) -> None:
        """Hand `message` to the service that owns `arn`; raises `DeliveryError`."""

    def send_to_target(self, arn: str, body: str, attributes: dict[str, Any]) -> bool:
        """Deliver a record as Lambda does to a destination; what cannot go is kept as
        discarded, never dropped; returns whether it went."""

    def write_log_events(
        self, group: str, stream: str, messages: Any, *, create_group: bool = False
    ) -> bool:
        """Append log events to a CloudWatch Logs stream (see `Engine.write_log_events`)."""

    def call_later(self, delay_seconds: float, run: Any) -> None:
        """Run `run` once `delay_seconds` of AWS's time have passed."""

    def event_source(self, arn: str) -> Service | None:
        """The service that polls sources of this ARN's kind (`Service.SOURCES`), if any."""

    def service(self, kind: Any) -> Any:
        """The running instance of a service, by class or by `NAME`."""

    def event_bus(self) -> EventBus:
        """The EventBridge service."""


class Service:
    """One emulated service (see the module docstring); the engine makes one per start."""

    NAME: ClassVar[str] = ""
    HOOKS: ClassVar[Sequence[Hook]] = ()
    MODELS: ClassVar[Sequence[type]] = ()
    DELIVERS: ClassVar[Sequence[str]] = ()
    SOURCES: ClassVar[Sequence[str]] = ()

    def __init__(self, engine: Core) -> None:
        self.engine = engine

    def pump(self, *, fast_forward: bool) -> int:
        """Deliver what is due (everything, with `fast_forward`); returns the work done."""
        return 0

    def stop(self) -> None:
        """Release what the service holds (threads, timers) when the engine stops."""

    def deliver(self, arn: str, message: Message) -> None:
        """Take a message sent to `arn` (one of the prefixes in `DELIVERS`); raises
        `DeliveryError` when the target is gone or cannot take it."""
        raise DeliveryError("INVALID_PARAMETER", f"{self.NAME} takes no message for {arn}")

    def poll(self, subscription: Subscription, *, fast_forward: bool) -> int:
        """One polling round of a source of this service's kind (`SOURCES`) for one
        subscription; returns the batches delivered (`localcloud.core.event_sources`)."""
        return 0

    def shard_ends(self, source_arn: str) -> dict[str, int]:
        """For a stream source of this service's kind, where each of its shards ends now (a
        subscription starting at `LATEST` reads what comes after); empty for other sources."""
        return {}

    def apis(self) -> list[dict[str, str]]:
        """The APIs this service serves: id, name and local URL."""
        return []

    def handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse | None:
        """Answer a request to one of this service's APIs; None when `api_id` is not one."""
        return None


def service_classes(paths: Sequence[str] = SERVICES) -> list[type[Service]]:
    """The service classes named in `paths`, imported now."""
    classes = []
    for path in paths:
        module_name, _, class_name = path.partition(":")
        service_class: Any = getattr(importlib.import_module(module_name), class_name)
        if not (isinstance(service_class, type) and issubclass(service_class, Service)):
            raise TypeError(f"{path} is not a Service")
        classes.append(service_class)
    return classes
