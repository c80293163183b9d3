"""Lambda: every invoke runs the function's real code, and async invocations follow Lambda's rules.

moto holds the functions, their code and their event source mappings; the core's runner runs
the code. This service makes moto's invoke paths (the Invoke API, and the invokes moto makes
itself, such as a Step Functions Task) go to the runner, and owns asynchronous invocations:
queued, retried (twice by default, one then two minutes apart, scaled by the clock) within the
maximum event age, then sent to the on-failure destination and the dead-letter queue; a success
goes to the on-success destination. The template's `AWS::Lambda::EventInvokeConfig` sets
those. Destinations are queues, topics, functions (through the engine's dispatcher), and
EventBridge buses and S3 buckets in the record's own form. moto's own firing of event source
mappings is removed: each round, every enabled mapping becomes a `Subscription` polled by the
service that owns its source (SQS, Kinesis, DynamoDB Streams), with Lambda's rules.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore import endpoint as botocore_endpoint
from botocore.exceptions import ReadTimeoutError
from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends

from localcloud.core.cloudformation import (
    CREATE_FROM_TEMPLATE,
    UPDATE_FROM_TEMPLATE,
    OwnedResource,
    applied_after_create,
    applied_after_update,
)
from localcloud.core.engine import active_engine
from localcloud.core.event_sources import Subscription
from localcloud.core.hooks import Hook
from localcloud.core.runner import Invocation
from localcloud.core.service import DeliveryError, Message, Service
from localcloud.rules import durable_executions, lambda_delivery
from localcloud.services.awslambda import durable
from localcloud.services.awslambda.durable import DurableExecutions

logger = logging.getLogger("localcloud")
# Carries an Invoke's request id from the backend to moto's response, which then answers with
# it (see `_response_names_the_invocation`); never sent to the client.
_INVOCATION_REQUEST_ID = "x-localcloud-invocation-request-id"
# What the SDK call being answered on this thread waits for (its client's read timeout), and
# whether the function it invoked outlived that wait (see `_sdk_calls_keep_their_read_timeout`).
_sdk_call = threading.local()


@dataclass
class _AsyncEvent:
    """One event in a function's async queue."""

    function_arn: str
    event: Any
    trigger: str
    request_id: str
    attempt: int = 1
    # How long the event has waited in Lambda's queue, in AWS's time (retry delays so far).
    age_seconds: float = 0.0


class Functions(Service):
    """Lambda's invoke paths, event source mappings and async invocations (see the module
    docstring)."""

    NAME = "lambda"
    DELIVERS = ("lambda",)

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._durable: DurableExecutions | None = None
        self._durable_lock = threading.Lock()

    def durable_executions(self) -> DurableExecutions:
        """The engine's durable executions (made on first use: most apps have none)."""
        with self._durable_lock:
            if self._durable is None:
                self._durable = DurableExecutions(self.engine)
            return self._durable

    def stop(self) -> None:
        if self._durable is not None:
            self._durable.stop()

    def pump(self, *, fast_forward: bool) -> int:
        """Durable executions' due work, then one polling round of every enabled event source
        mapping, by its source's service."""
        done = self._durable.run_due(fast_forward=fast_forward) if self._durable else 0
        for mapping in self.event_source_mappings():
            source = self.engine.event_source(mapping.event_source_arn)
            if source is None:
                continue
            function = self._function_or_none(mapping.function_arn)
            if function is not None:
                subscription = self._subscription(mapping, function)
                done += source.poll(subscription, fast_forward=fast_forward)
        return done

    def _function_or_none(self, arn: str) -> Any:
        # A deleted function's mapping stays, as Lambda keeps it, with nothing to call.
        try:
            return self.engine.function(arn)
        except lambda_models.UnknownFunctionException:
            return None

    def event_source_mappings(self) -> list[Any]:
        """The enabled event source mappings."""
        backend = lambda_models.lambda_backends[self.engine.account_id][self.engine.region]
        # A copy first: API threads may create mappings while the delivery thread reads them.
        mappings = list(backend._event_source_mappings.values())
        return [mapping for mapping in mappings if mapping.enabled]

    def _subscription(self, mapping: Any, function: Any) -> Subscription:
        def consume(event: dict[str, Any], trigger: str) -> Invocation:
            if durable.durable_config(function) is not None:
                # Lambda invokes a durable function synchronously with each batch: the batch
                # is done when its execution is.
                return self.durable_executions().run_to_end(function, event, trigger=trigger)
            return self.engine.invoke(function, event, trigger=trigger)

        return Subscription(
            key=mapping.uuid,
            source_arn=mapping.event_source_arn,
            settings=mapping,
            consumer_name=function.function_name,
            consumer_arn=function.function_arn,
            identity_arn=function.role,
            consume=consume,
        )

    def invoke_async(self, function: Any, event: Any, *, trigger: str) -> str:
        """Queue an asynchronous (Event) invocation; returns its request id. A durable function
        starts a durable execution instead (Lambda's queue hands the event to it at once)."""
        if durable.durable_config(function) is not None:
            started = self.durable_executions().start(function, json.dumps(event), None)
            return started.arn.rsplit("/", 1)[1]
        request_id = lambda_delivery.new_request_id()
        self._queue(_AsyncEvent(function.function_arn, event, trigger, request_id), delay=0.0)
        return request_id

    def deliver(self, arn: str, message: Message) -> None:
        try:
            function = self.engine.function(arn)
        except Exception as error:
            raise DeliveryError("NO_RESOURCE", f"Function not found: {arn}") from error
        try:
            event: Any = json.loads(message.body)
        except ValueError:
            event = message.body
        self.invoke_async(function, event, trigger=message.trigger)

    def _queue(self, queued: _AsyncEvent, *, delay: float) -> None:
        self.engine.call_later(delay, lambda: self._run(queued))

    def _run(self, queued: _AsyncEvent) -> None:
        try:
            function = self.engine.function(queued.function_arn)
        except Exception:
            self.engine.discarded_events.append(
                {"reason": "function not found", "job": queued.__dict__}
            )
            return
        invocation = self.engine.invoke(
            function, queued.event, trigger=queued.trigger, request_id=queued.request_id
        )
        config = _event_invoke_config(function)
        destinations = config.get("DestinationConfig") or {}
        if invocation.succeeded:
            on_success = (destinations.get("OnSuccess") or {}).get("Destination")
            if on_success:
                self._send_record(on_success, function, queued, invocation, "Success")
            return
        retries = config.get("MaximumRetryAttempts", lambda_delivery.DEFAULT_ASYNC_RETRIES)
        if queued.attempt > retries:
            self._dispose(function, queued, invocation, config, "RetriesExhausted")
            return
        delay = lambda_delivery.ASYNC_RETRY_DELAYS_SECONDS[
            min(queued.attempt - 1, len(lambda_delivery.ASYNC_RETRY_DELAYS_SECONDS) - 1)
        ]
        maximum_age = config.get(
            "MaximumEventAgeInSeconds", lambda_delivery.DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
        )
        if queued.age_seconds + delay > maximum_age:
            # Lambda drops an event from its queue once it is older than the maximum age.
            self._dispose(function, queued, invocation, config, "EventAgeExceeded")
            return
        queued.attempt += 1
        queued.age_seconds += delay
        self._queue(queued, delay=delay)

    def _send_record(
        self,
        destination: str,
        function: Any,
        queued: _AsyncEvent,
        invocation: Invocation,
        why: str,
    ) -> None:
        record = lambda_delivery.async_invocation_record(
            function_arn=function.function_arn,
            request_id=queued.request_id,
            event=queued.event,
            attempts=queued.attempt,
            invocation=invocation,
            condition=why,
        )
        service = destination.split(":")[2]
        try:
            if service == "events":
                self._put_record_event(destination, record)
                return
            if service == "s3":
                self._put_record_object(destination, lambda_delivery.dumps(record))
                return
        except Exception as error:
            logger.warning("cannot deliver to %s: %s", destination, error)
            self.engine.discarded_events.append(
                {"reason": f"destination {destination}: {error}", "body": record}
            )
            return
        self.engine.send_to_target(destination, lambda_delivery.dumps(record), {})

    def _dispose(
        self, function: Any, queued: _AsyncEvent, invocation: Invocation, config: dict, why: str
    ) -> None:
        """After the last retry: the on-failure destination and the dead-letter queue, as Lambda
        does (a function may have both: each gets the event in its own form)."""
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        if destination:
            self._send_record(destination, function, queued, invocation, why)
        dead_letter = getattr(function, "localcloud_dead_letter_arn", None)
        if dead_letter:
            attributes = lambda_delivery.dead_letter_message_attributes(
                queued.request_id, invocation
            )
            self.engine.send_to_target(dead_letter, lambda_delivery.dumps(queued.event), attributes)
        if destination or dead_letter:
            return
        logger.warning(
            "%s: event %s failed %d times and has no destination: Lambda discards it",
            function.function_name,
            queued.request_id,
            queued.attempt,
        )
        self.engine.discarded_events.append(
            {
                "function": function.function_name,
                "request_id": queued.request_id,
                "event": queued.event,
            }
        )

    def _put_record_event(self, bus_arn: str, record: dict[str, Any]) -> None:
        condition = record.get("requestContext", {}).get("condition")
        outcome = "Success" if condition == "Success" else "Failure"
        function_arn = record.get("requestContext", {}).get("functionArn", "")
        _, _, _, region, account, resource = bus_arn.split(":", 5)
        self.engine.event_bus().put_event(
            account_id=account,
            region=region,
            bus_name=resource.removeprefix("event-bus/"),
            source="lambda",
            detail_type=f"Lambda Function Invocation Result - {outcome}",
            detail=record,
            resources=[bus_arn, function_arn.removesuffix(":$LATEST")],
        )

    def _put_record_object(self, bucket_arn: str, body: str) -> None:
        # The record is Lambda's; the object's key (date-partitioned, unique) is localcloud's.
        bucket = bucket_arn.rsplit(":", 1)[1]
        key = f"aws/lambda/{time.strftime('%Y/%m/%d/%Y-%m-%dT%H.%M.%S')}-{uuid.uuid4()}"
        s3_backends[self.engine.account_id]["aws"].put_object(bucket, key, body.encode())


class FunctionEventInvokeConfig(OwnedResource):
    """A function's async settings: retries, maximum event age, success/failure destinations."""

    resource_type = "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> FunctionEventInvokeConfig:
        props = cloudformation_json["Properties"]
        config = {
            key: props[key]
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in props
        }
        backend = lambda_models.lambda_backends[account_id][region_name]
        function = backend.get_function(props["FunctionName"])
        # One configuration per function and qualifier: a new one replaces the old.
        function.event_invoke_config = []
        backend.put_function_event_invoke_config(props["FunctionName"], config)
        physical_id = f"{function.function_name}:{props.get('Qualifier', '$LATEST')}"
        return cls(physical_id, props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            function = backend.get_function(self.properties["FunctionName"])
        except Exception:
            return  # the function went first: its configuration went with it
        function.event_invoke_config = []


def _event_invoke_config(function: Any) -> dict[str, Any]:
    return function.event_invoke_config[0].config if function.event_invoke_config else {}


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def _keep_settings(function: Any, properties: dict[str, Any]) -> None:
    """Take the template's settings moto's model drops or keeps from before an update.

    Every setting is taken as the template now declares it, so a property removed by an
    update returns to Lambda's default, as CloudFormation makes it.
    """
    function.description = properties.get("Description", "")
    function.memory_size = properties.get("MemorySize", 128)
    function.timeout = properties.get("Timeout", 3)
    function.environment_vars = (properties.get("Environment") or {}).get("Variables") or {}
    function.architectures = properties.get("Architectures") or ["x86_64"]
    function.layers = function._get_layers_data(properties.get("Layers") or [])
    function.tracing_config = {"Mode": "PassThrough", **(properties.get("TracingConfig") or {})}
    function.ephemeral_storage = (properties.get("EphemeralStorage") or {}).get("Size", 512)
    function.localcloud_dead_letter_arn = (properties.get("DeadLetterConfig") or {}).get(
        "TargetArn"
    )
    function.logging_config = properties.get("LoggingConfig") or {}
    function.localcloud_durable_config = _declared_durable_config(properties)


def _declared_durable_config(properties: dict[str, Any]) -> dict[str, Any] | None:
    """`DurableConfig` as Lambda reports it (retention defaults to 14 days), or None."""
    declared = properties.get("DurableConfig")
    if not declared:
        return None
    config = {key: value for key, value in declared.items() if value is not None}
    config.setdefault("RetentionPeriodInDays", durable.DEFAULT_RETENTION_DAYS)
    return config


def _logging_config(function: Any) -> dict[str, Any]:
    """LoggingConfig as Lambda reports it: the declared settings over Lambda's defaults."""
    declared = getattr(function, "logging_config", None) or {}
    config: dict[str, Any] = {
        "LogFormat": declared.get("LogFormat", "Text"),
        "LogGroup": declared.get("LogGroup") or f"/aws/lambda/{function.function_name}",
    }
    if config["LogFormat"] == "JSON":
        # Lambda filters by level only in the JSON format, and reports the levels only then.
        config["ApplicationLogLevel"] = declared.get("ApplicationLogLevel", "INFO")
        config["SystemLogLevel"] = declared.get("SystemLogLevel", "INFO")
    return config


# -- moto hooks ---------------------------------------------------------------------------


def _invoke_through_engine(original):
    def invoke(self, function_name, qualifier, body, headers, response_headers):
        engine = active_engine()
        function = self.get_function(function_name, qualifier)
        invocation_type = _header(headers, "x-amz-invocation-type") or "RequestResponse"
        if durable.durable_config(function) is not None:
            return _invoke_durable(
                engine, function, function_name, qualifier, body, headers, response_headers
            )
        event = json.loads(body) if body else {}
        if invocation_type == "Event":
            request_id = engine.invoke_async(function, event, trigger="Invoke (Event)")
            response_headers[_INVOCATION_REQUEST_ID] = request_id
            return b""
        if invocation_type == "DryRun":
            return b""
        invocation = engine.invoke(
            function,
            event,
            trigger="Invoke",
            caller_wait_seconds=getattr(_sdk_call, "read_timeout", None),
        )
        if invocation.caller_gave_up:
            _sdk_call.gave_up = True
        response_headers[_INVOCATION_REQUEST_ID] = invocation.request_id
        if invocation.error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps(invocation.error)
        else:
            payload = json.dumps(invocation.payload)
        response_headers["x-amz-executed-version"] = "$LATEST"
        if (_header(headers, "x-amz-log-type") or "None") == "Tail":
            tail = invocation.logs.encode()[-4096:]
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        response_headers["Content-Length"] = str(len(payload.encode()))
        return payload.encode()

    return invoke


def _invoke_durable(engine, function, function_name, qualifier, body, headers, response_headers):
    """An Invoke of a durable function starts (or, by name, finds) a durable execution; a
    synchronous one answers with its result once it ends."""
    if durable_executions.requires_qualifier(function_name, qualifier):
        raise durable.InvalidParameterValueError(
            "You cannot invoke a durable function using an unqualified ARN."
        )
    invocation_type = _header(headers, "x-amz-invocation-type") or "RequestResponse"
    if invocation_type == "DryRun":
        return b""
    payload = body.decode() if isinstance(body, bytes) else (body or "")
    executions = engine.service(Functions).durable_executions()
    started = executions.start(function, payload, _header(headers, "x-amz-durable-execution-name"))
    response_headers["x-amz-durable-execution-arn"] = started.arn
    response_headers["x-amz-executed-version"] = started.version
    if invocation_type == "Event":
        return b""
    if not executions.wait(started.arn, drive=not engine.delivering_in_background):
        # It waits for a callback no one can send while the caller waits (in-process), or
        # past Lambda's wait: the caller stops waiting, as at its read timeout, and the
        # execution runs on.
        _sdk_call.gave_up = True
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(durable.STILL_RUNNING).encode()
    answer, error = executions.outcome(started.arn)
    if error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["Content-Length"] = str(len(answer))
    return answer


def _invoke_takes_its_qualifier(original):
    # moto's Invoke reads its `Qualifier` query parameter under a lowercase name, so a version
    # or an alias given that way (rather than in the function's name) was ignored.
    def invoke(self):
        qualifier = self.querystring.get("Qualifier")
        if qualifier and "qualifier" not in self.querystring:
            self.querystring["qualifier"] = qualifier
        return original(self)

    return invoke


def _sdk_calls_keep_their_read_timeout(original):
    # moto (in-process) and the local calls of `localcloud up` answer an SDK call on the
    # caller's own thread, with no socket: botocore's read timeout never fires. A synchronous
    # Invoke from a handler must still end, for its caller, once that timeout passes: the
    # invoke hook reads the wait from here and the call fails as botocore's would.
    def _do_get_response(self, request, operation_model, context):
        timeout = getattr(self.http_session, "_timeout", None)
        read_timeout = getattr(timeout, "read_timeout", timeout)
        saved = getattr(_sdk_call, "read_timeout", None), getattr(_sdk_call, "gave_up", False)
        _sdk_call.read_timeout = read_timeout if isinstance(read_timeout, int | float) else None
        _sdk_call.gave_up = False
        try:
            result = original(self, request, operation_model, context)
            if _sdk_call.gave_up:
                return None, ReadTimeoutError(endpoint_url=request.url)
            return result
        finally:
            _sdk_call.read_timeout, _sdk_call.gave_up = saved

    return _do_get_response


def _response_names_the_invocation(original):
    # moto gives every response a random request id once the action has answered; Lambda's
    # Invoke answers with the invocation's own (the one in its logs and its context).
    def _enrich_response(headers, body):
        invocation_request_id = headers.pop(_INVOCATION_REQUEST_ID, None)
        headers, body = original(headers, body)
        if invocation_request_id is not None:
            headers["x-amzn-requestid"] = invocation_request_id
        return headers, body

    return staticmethod(_enrich_response)


def _invoke_lambda_through_engine(original):
    # moto's internal invokes (e.g. a Step Functions Task) call this; it returns
    # (payload, errored, logs).
    def _invoke_lambda(self, event=None):
        invocation = active_engine().invoke(
            self, json.loads(event) if isinstance(event, str) else event, trigger="moto"
        )
        if invocation.error is not None:
            return json.dumps(invocation.error), True, invocation.logs
        return json.dumps(invocation.payload), False, invocation.logs

    return _invoke_lambda


def _mappings_polled_by_engine(original):
    # moto fires a mapping synchronously on send, one record at a time and ignoring partial
    # batch responses; localcloud polls it instead, so moto's trigger is removed.
    def create_event_source_mapping(self, spec):
        mapping = original(self, spec)
        for owner in _trigger_owners(self):
            owner.lambda_event_source_mappings.pop(mapping.function_arn, None)
            owner.lambda_event_source_mappings.pop(mapping.event_source_arn, None)
        return mapping

    return create_event_source_mapping


def _trigger_owners(backend: Any) -> Iterator[Any]:
    yield from sqs_backends[backend.account_id][backend.region_name].queues.values()
    yield from dynamodb_backends[backend.account_id][backend.region_name].tables.values()
    yield from kinesis_backends[backend.account_id][backend.region_name].streams.values()


def _function_keeps_dead_letter_target(original):
    def __init__(self, account_id, spec, region, version=1):  # noqa: N807 - replaces __init__
        original(self, account_id, spec, region, version)
        self.localcloud_dead_letter_arn = (spec.get("DeadLetterConfig") or {}).get("TargetArn")
        self.logging_config = spec.get("LoggingConfig") or {}
        self.localcloud_durable_config = _declared_durable_config(spec)

    return __init__


def _updated_configuration_kept(original):
    # moto's UpdateFunctionConfiguration ignores these settings; Lambda applies each one given.
    def update_configuration(self, config_updates):
        if "TracingConfig" in config_updates:
            self.tracing_config = {"Mode": "PassThrough", **config_updates["TracingConfig"]}
        if "EphemeralStorage" in config_updates:
            self.ephemeral_storage = config_updates["EphemeralStorage"].get("Size", 512)
        if "DeadLetterConfig" in config_updates:
            self.localcloud_dead_letter_arn = config_updates["DeadLetterConfig"].get("TargetArn")
        if "DurableConfig" in config_updates:
            self.localcloud_durable_config = _declared_durable_config(config_updates)
        if "LoggingConfig" in config_updates:
            self.logging_config = {
                **(getattr(self, "logging_config", None) or {}),
                **config_updates["LoggingConfig"],
            }
        return original(self, config_updates)

    return update_configuration


def _configuration_reports_every_setting(original):
    # moto's configuration has no LoggingConfig, DeadLetterConfig or DurableConfig; Lambda
    # reports each.
    def get_configuration(self, on_create=False):
        config = original(self, on_create)
        config["LoggingConfig"] = _logging_config(self)
        durable_config = durable.durable_config(self)
        if durable_config:
            config["DurableConfig"] = dict(durable_config)
        dead_letter = getattr(self, "localcloud_dead_letter_arn", None)
        if dead_letter:
            config["DeadLetterConfig"] = {"TargetArn": dead_letter}
        return config

    return get_configuration


# moto's function model takes only some of the template's properties; the engine also needs
# the dead-letter target (async failures) and the log group (LoggingConfig).
_function_keeps_template_settings = applied_after_create(_keep_settings)
_updated_function_keeps_template_settings = applied_after_update(_keep_settings)


def _public_layers_accepted(original):
    # A layer published by another account (Powertools' public layer) is not in moto; on AWS
    # it is readable by all. Locally its content comes from the environment localcloud runs
    # in, so its ARN is kept as given, on updates as on creation.
    def _get_layers_data(self, layers_versions_arns):
        known = [arn for arn in layers_versions_arns if arn.split(":")[4] == self.account_id]
        data = {layer["Arn"]: layer for layer in original(self, known)} if known else {}
        return [data.get(arn, {"Arn": arn, "CodeSize": 0}) for arn in layers_versions_arns]

    return _get_layers_data


def _version_knows_its_arn(version: Any, properties: dict[str, Any]) -> None:
    function = lambda_models.lambda_backends[version.localcloud_account][
        version.localcloud_region
    ].get_function(properties["FunctionName"])
    version.localcloud_arn = f"{function.function_arn}:{version.version}"


def _published_version_remembers_where(original):
    # moto's version model keeps only its number; its ARN (its `Ref`) needs the function's.
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        version = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        version.localcloud_account, version.localcloud_region = account_id, region_name
        _version_knows_its_arn(version, cloudformation_json.get("Properties") or {})
        return version

    return classmethod(create_from_cloudformation_json)


def _version_reference_is_its_arn(_missing):
    return property(lambda self: self.localcloud_arn)


def _version_attributes(_missing):
    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Version":
            return str(self.version)
        if attribute_name == "FunctionArn":
            return self.localcloud_arn
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()

    return get_cfn_attribute


class FunctionAlias(OwnedResource):
    """`AWS::Lambda::Alias`, which moto's CloudFormation skips: a name for one version (how a
    durable function is invoked). `Ref` is its ARN."""

    resource_type = "AWS::Lambda::Alias"
    attributes = ("AliasArn",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> FunctionAlias:
        props = cloudformation_json["Properties"]
        backend = lambda_models.lambda_backends[account_id][region_name]
        function = backend.get_function(props["FunctionName"])
        alias = backend.create_alias(
            name=props["Name"],
            function_name=function.function_name,
            function_version=str(props["FunctionVersion"]),
            description=props.get("Description", ""),
            routing_config=props.get("RoutingConfig"),
        )
        return cls(alias.arn, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "AliasArn":
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        if properties["Name"] != self.properties["Name"]:
            return False
        backend = lambda_models.lambda_backends[self.account][self.region]
        function_name = self.physical_id.split(":")[6]
        backend.update_alias(
            properties["Name"],
            function_name,
            str(properties["FunctionVersion"]),
            properties.get("Description", ""),
            properties.get("RoutingConfig"),
        )
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            backend.delete_alias(self.properties["Name"], self.physical_id.split(":")[6])
        except lambda_models.UnknownFunctionException:
            return  # the function went first: its aliases went with it


def _layer_version_referenced_by_arn(_absent):
    # A template's `Ref` to an AWS::Lambda::LayerVersion is the version's ARN, which a
    # function's `Layers` lists; moto's model has no physical id, so the reference resolved
    # to the model object itself and the function's creation failed.
    return property(lambda self: self.arn)


Functions.MODELS = (FunctionEventInvokeConfig, FunctionAlias)


Functions.HOOKS = (
    *durable.HOOKS,
    Hook(
        lambda_models.LambdaVersion,
        "create_from_cloudformation_json",
        _published_version_remembers_where,
        why="A version from the template knows its ARN, which moto's model drops",
        parameters=CREATE_FROM_TEMPLATE,
    ),
    Hook(
        lambda_models.LambdaVersion,
        "physical_resource_id",
        _version_reference_is_its_arn,
        why="`Ref` to a version is its ARN (moto's model has none)",
        parameters=None,
        adds=True,
    ),
    Hook(
        lambda_models.LambdaVersion,
        "get_cfn_attribute",
        _version_attributes,
        why="`Fn::GetAtt` of a version: Version and FunctionArn (moto's model has none)",
        parameters=None,
        adds=True,
    ),
    Hook(
        lambda_models.LayerVersion,
        "physical_resource_id",
        _layer_version_referenced_by_arn,
        why="Ref to a layer version in a template is its ARN",
        parameters=None,
        adds=True,
    ),
    Hook(
        lambda_models.LambdaBackend,
        "invoke",
        _invoke_through_engine,
        why="Invoke runs the function's real code, sync or async",
        parameters=("self", "function_name", "qualifier", "body", "headers", "response_headers"),
        replaces=True,
    ),
    Hook(
        lambda_responses.LambdaResponse,
        "invoke",
        _invoke_takes_its_qualifier,
        why="Invoke's Qualifier parameter names the version or alias to run",
        parameters=("self",),
    ),
    Hook(
        botocore_endpoint.Endpoint,
        "_do_get_response",
        _sdk_calls_keep_their_read_timeout,
        why="A synchronous Invoke answered without a socket still ends at the caller's read "
        "timeout",
        parameters=("self", "request", "operation_model", "context"),
    ),
    Hook(
        lambda_responses.LambdaResponse,
        "_enrich_response",
        _response_names_the_invocation,
        why="Invoke answers with the invocation's request id",
        parameters=("headers", "body"),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "_invoke_lambda",
        _invoke_lambda_through_engine,
        why="Moto's internal invokes run the function's real code",
        parameters=("self", "event"),
        replaces=True,
    ),
    Hook(
        lambda_models.LambdaFunction,
        "__init__",
        _function_keeps_dead_letter_target,
        why="Async failures need the function's dead-letter target",
        parameters=("self", "account_id", "spec", "region", "version"),
    ),
    Hook(
        lambda_models.LambdaBackend,
        "create_event_source_mapping",
        _mappings_polled_by_engine,
        why="The engine polls event sources; moto's own firing is removed",
        parameters=("self", "spec"),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "create_from_cloudformation_json",
        _function_keeps_template_settings,
        why="The engine needs template settings moto's model drops",
        parameters=CREATE_FROM_TEMPLATE,
    ),
    Hook(
        lambda_models.LambdaFunction,
        "update_from_cloudformation_json",
        _updated_function_keeps_template_settings,
        why="An updated function keeps its template settings",
        parameters=UPDATE_FROM_TEMPLATE,
    ),
    Hook(
        lambda_models.LambdaFunction,
        "update_configuration",
        _updated_configuration_kept,
        why="UpdateFunctionConfiguration applies tracing, logging, storage, dead letter",
        parameters=("self", "config_updates"),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "get_configuration",
        _configuration_reports_every_setting,
        why="A function's configuration reports its LoggingConfig and DeadLetterConfig",
        parameters=("self", "on_create"),
    ),
    Hook(
        lambda_models.LambdaFunction,
        "_get_layers_data",
        _public_layers_accepted,
        why="AWS's public layers (Powertools) are accepted by ARN",
        parameters=("self", "layers_versions_arns"),
    ),
)
