"""EventBridge Pipes: a running pipe reads its source through the shared event-source pollers,
filters, enriches and delivers to its target.

moto holds the pipes (its `pipes` backend answers CreatePipe, DescribePipe, StartPipe,
StopPipe...; this service adds the `AWS::Pipes::Pipe` CloudFormation model moto lacks). Each
delivery round, every pipe whose desired state is RUNNING becomes a `Subscription`
(`localcloud.core.event_sources`) polled by the service that owns its source's kind (SQS,
Kinesis, DynamoDB Streams) with the source parameters (`localcloud.rules.pipes`): batch size
and window, starting position, `FilterCriteria` (records no filter matches are dropped, and an
SQS message deleted), retries, maximum record age, bisection and the dead-letter queue.

A batch's events go to the enrichment (a function invoked synchronously, or a state machine's
execution waited for as an Express workflow's `StartSyncExecution`; the batch as a JSON list) and
its answer is what goes on to the target; an `InputTemplate` of the enrichment or of the target
reshapes each event first (`localcloud.rules.pipes.input_template`). The target is:

- a Lambda function: the batch in one invocation, synchronously by default (an error, or the
  `batchItemFailures` it answers, fails the batch or those records; any other answer is
  success), or asynchronously with `FIRE_AND_FORGET`;
- a Step Functions state machine: one execution with the batch as its input
  (`FIRE_AND_FORGET`), or with `REQUEST_RESPONSE` an execution waited for as
  `StartSyncExecution` waits (its failure fails the batch, its output may hold
  `batchItemFailures`);
- an EventBridge bus: one event per record, with `EventBridgeEventBusParameters`' `Source`
  and `DetailType` (else `Pipe <name>` and `Event from <source kind>`);
- a queue or topic (through the engine's dispatcher): one message per record, with an SQS
  target's `MessageGroupId`.

A failure the target reports fails the batch: the poller retries it by the source's rules and,
past them, a stream's records go to the pipe's dead-letter queue in the Pipes record shape and
an SQS message to the source queue's own dead-letter queue. A stopped pipe reads nothing; its
source keeps what it holds until the pipe is started again.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from moto.pipes import models as pipes_models
from moto.pipes.exceptions import NotFoundException, ValidationException

from localcloud.core.cloudformation import OwnedResource
from localcloud.core.engine import active_engine_or_none
from localcloud.core.event_sources import Subscription
from localcloud.core.hooks import Hook
from localcloud.core.service import Message, Service
from localcloud.rules import lambda_delivery
from localcloud.rules import pipes as rules
from localcloud.rules.filter_criteria import FilterCriteriaError, filter_patterns
from localcloud.rules.stream_batching import iso_timestamp

logger = logging.getLogger("localcloud")


@dataclass
class _Outcome:
    """How a pipe's handling of one batch ended, as the pollers read it."""

    payload: Any = None
    error: dict[str, Any] | None = None
    request_id: str = field(default_factory=lambda_delivery.new_request_id)

    @property
    def succeeded(self) -> bool:
        return self.error is None


class _TargetError(Exception):
    """The enrichment or the target could not take the batch."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class Pipes(Service):
    """EventBridge Pipes on the shared pollers (see the module docstring)."""

    NAME = "pipes"

    def pump(self, *, fast_forward: bool) -> int:
        """One polling round of every running pipe, by its source's service."""
        done = 0
        for pipe in self.running_pipes():
            source = self.engine.event_source(pipe.source)
            if source is None:
                continue
            done += source.poll(self._subscription(pipe), fast_forward=fast_forward)
        return done

    def running_pipes(self) -> list[Any]:
        backend = pipes_models.pipes_backends[self.engine.account_id][self.engine.region]
        # A copy first: API threads may create pipes while the delivery thread reads them.
        return [pipe for pipe in list(backend.pipes.values()) if pipe.desired_state == "RUNNING"]

    def _subscription(self, pipe: Any) -> Subscription:
        settings = rules.source_settings(
            pipe.source,
            pipe.source_parameters,
            target_arn=pipe.target,
            target_parameters=pipe.target_parameters,
            shard_ends=getattr(pipe, "localcloud_shard_ends", None),
        )

        def consume(event: dict[str, Any], trigger: str) -> Any:
            return self._consume(pipe, event)

        return Subscription(
            # A pipe deleted and created again under its name starts afresh.
            key=f"{pipe.arn}@{pipe.creation_time.timestamp()}",
            source_arn=pipe.source,
            settings=settings,
            consumer_name=pipe.name,
            consumer_arn=pipe.arn,
            identity_arn=pipe.role_arn,
            consume=consume,
            pipe_arn=pipe.arn,
        )

    def _consume(self, pipe: Any, event: dict[str, Any]) -> Any:
        events: list[Any] = rules.pipe_events(event["Records"])
        try:
            if pipe.enrichment:
                template = (pipe.enrichment_parameters or {}).get("InputTemplate")
                events = self._enrich(pipe, self._transformed(pipe, template, events))
            if not events:
                return _Outcome()
            template = (pipe.target_parameters or {}).get("InputTemplate")
            return self._to_target(pipe, self._transformed(pipe, template, events))
        except _TargetError as error:
            logger.warning("pipe %s: %s", pipe.name, error)
            return _Outcome(error={"errorType": error.error_type, "errorMessage": str(error)})

    def _transformed(self, pipe: Any, template: str | None, events: list[Any]) -> list[Any]:
        if not template:
            return events
        names = rules.PipeNames(
            pipe_arn=pipe.arn,
            pipe_name=pipe.name,
            source_arn=pipe.source,
            enrichment_arn=pipe.enrichment or "",
            target_arn=pipe.target,
        )
        now = iso_timestamp(self.engine.clock.time())
        return [rules.input_template(template, one, names, ingestion_time=now) for one in events]

    def _enrich(self, pipe: Any, events: list[Any]) -> list[Any]:
        if ":states:" in pipe.enrichment:
            return rules.enriched_events(self._run_state_machine(pipe.enrichment, events))
        if ":lambda:" not in pipe.enrichment:
            raise _TargetError("NotEmulated", f"enrichment {pipe.enrichment} is not emulated")
        function = self._function(pipe.enrichment)
        invocation = self.engine.invoke(function, events, trigger=f"Pipe {pipe.name}")
        if invocation.error is not None:
            raise _TargetError(
                "EnrichmentFailed", str(invocation.error.get("errorMessage", invocation.error))
            )
        return rules.enriched_events(invocation.payload)

    def _to_target(self, pipe: Any, events: list[Any]) -> Any:
        target = pipe.target
        parameters = pipe.target_parameters or {}
        mode = rules.invocation_type(target, parameters)
        trigger = f"Pipe {pipe.name}"
        if ":lambda:" in target:
            function = self._function(target)
            if mode == "FIRE_AND_FORGET":
                self.engine.invoke_async(function, events, trigger=trigger)
                return _Outcome()
            invocation = self.engine.invoke(function, events, trigger=trigger)
            return _Outcome(
                payload=rules.partial_batch_response(invocation.payload),
                error=invocation.error,
                request_id=invocation.request_id,
            )
        if ":states:" in target:
            if mode == "REQUEST_RESPONSE":
                answer = self._run_state_machine(target, events)
                return _Outcome(payload=rules.partial_batch_response(answer))
            self._deliver(target, Message(rules.message_body(events), trigger=trigger))
            return _Outcome()
        if ":events:" in target:
            self._put_on_bus(pipe, events)
            return _Outcome()
        group_id = (parameters.get("SqsQueueParameters") or {}).get("MessageGroupId")
        for one in events:
            self._deliver(
                target, Message(rules.message_body(one), group_id=group_id, trigger=trigger)
            )
        return _Outcome()

    def _run_state_machine(self, arn: str, events: list[Any]) -> Any:
        """An Express execution's output, waited for; its failure fails the batch."""
        try:
            ended = self.engine.service("stepfunctions").run_synchronously(
                arn, rules.message_body(events)
            )
        except Exception as error:
            raise _TargetError("TargetError", f"{arn}: {error}") from error
        if ended["status"] != "SUCCEEDED":
            raise _TargetError(
                ended["error"] or "States.ExecutionFailed",
                f"{arn}: execution {ended['status']}: {ended['cause'] or ''}",
            )
        output = ended["output"]
        return json.loads(output) if isinstance(output, str) and output else output

    def _put_on_bus(self, pipe: Any, events: list[Any]) -> None:
        region, account = pipe.target.split(":")[3:5]
        bus_name = pipe.target.split(":", 5)[5].removeprefix("event-bus/")
        bus_parameters = (pipe.target_parameters or {}).get("EventBridgeEventBusParameters")
        for one in events:
            source, detail_type, detail = rules.bus_entry(
                one, pipe_name=pipe.name, bus_parameters=bus_parameters
            )
            if not isinstance(detail, dict):
                # PutEvents takes a JSON object as an event's detail, nothing else.
                raise _TargetError("InvalidDetail", f"{pipe.target}: the detail is not an object")
            try:
                self.engine.event_bus().put_event(
                    account_id=account,
                    region=region,
                    bus_name=bus_name,
                    source=source,
                    detail_type=detail_type,
                    detail=detail,
                    resources=list((bus_parameters or {}).get("Resources") or []),
                )
            except Exception as error:
                raise _TargetError("EventBusError", f"{pipe.target}: {error}") from error

    def _deliver(self, arn: str, message: Message) -> None:
        try:
            self.engine.deliver(arn, message)
        except Exception as error:
            raise _TargetError("TargetError", f"{arn}: {error}") from error

    def _function(self, arn: str) -> Any:
        try:
            return self.engine.function(arn)
        except Exception as error:
            raise _TargetError("ResourceNotFound", f"function {arn}: {error}") from error


# -- CloudFormation ------------------------------------------------------------------------


class Pipe(OwnedResource):
    """`AWS::Pipes::Pipe` (moto's CloudFormation skips it), created in moto's pipes backend as
    CreatePipe would: `Ref` gives its name, `Fn::GetAtt` its `Arn` and `CurrentState`."""

    resource_type = "AWS::Pipes::Pipe"
    attributes = ("Arn", "CurrentState", "StateReason", "CreationTime", "LastModifiedTime")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> Pipe:
        props = cloudformation_json["Properties"]
        name = props.get("Name") or str(resource_name)[:64]
        _backend(account_id, region_name).create_pipe(
            name=name,
            description=props.get("Description"),
            desired_state=props.get("DesiredState"),
            source=props["Source"],
            source_parameters=props.get("SourceParameters"),
            enrichment=props.get("Enrichment"),
            enrichment_parameters=props.get("EnrichmentParameters"),
            target=props["Target"],
            target_parameters=props.get("TargetParameters"),
            role_arn=props["RoleArn"],
            tags=props.get("Tags"),
            log_configuration=props.get("LogConfiguration"),
            kms_key_identifier=props.get("KmsKeyIdentifier"),
        )
        return cls(name, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        pipe = _backend(self.account, self.region).pipes.get(self.physical_id)
        if pipe is not None:
            values = {
                "Arn": pipe.arn,
                "CurrentState": pipe.current_state,
                "StateReason": pipe.state_reason or "",
                "CreationTime": pipe.creation_time.isoformat(),
                "LastModifiedTime": pipe.last_modified_time.isoformat(),
            }
            if attribute_name in values:
                return values[attribute_name]
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        # A new name or source replaces the pipe, as CloudFormation does.
        if properties.get("Name") != self.properties.get("Name"):
            return False
        if properties["Source"] != self.properties["Source"]:
            return False
        _backend(self.account, self.region).update_pipe(
            name=self.physical_id,
            role_arn=properties["RoleArn"],
            description=properties.get("Description"),
            desired_state=properties.get("DesiredState") or "RUNNING",
            source_parameters=properties.get("SourceParameters") or {},
            enrichment=properties.get("Enrichment") or "",
            enrichment_parameters=properties.get("EnrichmentParameters") or {},
            target=properties["Target"],
            target_parameters=properties.get("TargetParameters") or {},
            log_configuration=properties.get("LogConfiguration"),
            kms_key_identifier=properties.get("KmsKeyIdentifier"),
        )
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(NotFoundException):
            _backend(self.account, self.region).delete_pipe(self.physical_id)


def _backend(account_id: str, region: str) -> Any:
    return pipes_models.pipes_backends[account_id][region]


# -- moto hooks ----------------------------------------------------------------------------


def _pipe_checked_and_positioned(original):
    # A pipe's FilterCriteria are refused as Pipes refuses them, before it exists; a stream
    # source's shard ends are noted at creation, where a LATEST pipe starts reading.
    def create_pipe(
        self, name, description, desired_state, source, source_parameters, *args, **kwargs
    ):
        kind = rules.source_kind(source)
        try:
            filter_patterns((source_parameters or {}).get("FilterCriteria"), kind or "sqs")
        except FilterCriteriaError as error:
            raise ValidationException(str(error)) from None
        pipe = original(
            self, name, description, desired_state, source, source_parameters, *args, **kwargs
        )
        engine = active_engine_or_none()
        poller = engine.event_source(source) if engine is not None else None
        pipe.localcloud_shard_ends = poller.shard_ends(source) if poller is not None else {}
        return pipe

    return create_pipe


Pipes.MODELS = (Pipe,)
Pipes.HOOKS = (
    Hook(
        pipes_models.EventBridgePipesBackend,
        "create_pipe",
        _pipe_checked_and_positioned,
        why="FilterCriteria are checked, and a LATEST pipe starts where its shards end",
        parameters=(
            "self",
            "name",
            "description",
            "desired_state",
            "source",
            "source_parameters",
            "enrichment",
            "enrichment_parameters",
            "target",
            "target_parameters",
            "role_arn",
            "tags",
            "log_configuration",
            "kms_key_identifier",
        ),
    ),
)
