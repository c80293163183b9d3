"""The compute half of localcloud: runs functions, delivers events, serves HTTP APIs, over moto.

moto holds the state (queues, topics, tables, functions and their code, event source mappings,
HTTP APIs). The engine replaces what moto would do with compute, through a few of moto's
private hooks (moto is pinned for this reason):

- every Lambda invoke (direct RequestResponse or Event, and moto's own internal invokes) runs
  the function's real code in-process through the `FunctionRunner`; under `localcloud up` an
  invoke a handler causes through the endpoint joins its caller's chain (`CHAIN_HEADER`);
- SQS event source mappings are not fired by moto on send; the engine polls them with Lambda's
  rules: filter criteria, batch size, batching window, partial batch responses, the queue's
  visibility timeout and its redrive to a DLQ;
- async invocations (SNS notifications to a function among them) are retried and then sent to
  the function's destinations and dead-letter queue, as Lambda does;
- HTTP API requests become API Gateway v2 events for the matching route (`handle_http`);
- every other service is an `Extension` (see `extension.py`), pumped with the rest.

Time: with `time_scale` 1 the engine waits as AWS does (visibility timeouts, batching windows,
async retry delays); a smaller scale shortens every wait by that factor. `settle()` drains all
pending work at once, taking every such wait as elapsed, so tests are deterministic.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import http.client
import itertools
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.awslambda import models as lambda_models
from moto.awslambda.models import lambda_backends
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.utils import unix_time, unix_time_millis
from moto.sns import models as sns_models
from moto.sns.models import sns_backends
from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends

from localcloud import (
    apifront,
    cloudformation,
    delivery,
    dynamodb_transactions,
    local_calls,
    sqs_index,
)
from localcloud.apifront import HttpRequest, HttpResponse
from localcloud.extension import Extension, extension_classes
from localcloud.runner import CodeStore, FunctionRunner, Invocation, LocalFunction

logger = logging.getLogger("localcloud")

DEFAULT_ACCOUNT_ID = "123456789012"
# The header naming the invocation chain a handler's request to the endpoint belongs to.
CHAIN_HEADER = "x-localcloud-chain"


class EngineError(RuntimeError):
    """localcloud cannot do what was asked (a second engine, an unknown function...)."""


@dataclass(order=True)
class _AsyncJob:
    due: float
    sequence: int
    function_arn: str = field(compare=False)
    event: Any = field(compare=False)
    trigger: str = field(compare=False)
    request_id: str = field(compare=False)
    attempt: int = field(compare=False, default=1)
    # How long the event has waited in Lambda's queue, in AWS's time (retry delays so far).
    age_seconds: float = field(compare=False, default=0.0)


@dataclass
class _PendingBatch:
    """Messages an SQS event source has received and holds until its batch is due."""

    messages: list[Any] = field(default_factory=list)
    first_received: float = 0.0


_E = TypeVar("_E", bound=Extension)
_active: Engine | None = None
_INHERITED = object()


def active_engine() -> Engine:
    if _active is None:
        raise EngineError("no localcloud engine is running in this process")
    return _active


class Engine:
    """See the module docstring. Use `with Engine(...) as engine:` or `start()`/`stop()`."""

    def __init__(
        self,
        *,
        region: str,
        code_root: Path,
        account_id: str = DEFAULT_ACCOUNT_ID,
        time_scale: float = 1.0,
        endpoint_url: str | None = None,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.time_scale = time_scale
        self.endpoint_url = endpoint_url
        self.runner = FunctionRunner(credentials=credentials)
        self.runner.endpoint_url = endpoint_url
        self.code_store = CodeStore(code_root)
        self.invocations: list[Invocation] = []
        self.discarded_events: list[dict[str, Any]] = []
        self._functions: dict[str, tuple[tuple, LocalFunction]] = {}
        self._async_jobs: list[_AsyncJob] = []
        self._sequence = itertools.count()
        self._pending: dict[str, _PendingBatch] = {}
        self._delivery_lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._saved: list[tuple[Any, str, Any]] = []
        self._background: threading.Thread | None = None
        self._stopping = threading.Event()
        self.extensions: list[Extension] = [cls(self) for cls in extension_classes()]
        self._models_added: list[str] = []
        # Set by the server: answers a handler's AWS SDK request to the endpoint in this
        # process, given the request and the handler's chain (see `local_calls`).
        self.answer_locally: Any = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Engine:
        global _active
        if _active is not None:
            raise EngineError("a localcloud engine is already running in this process")
        patches = [
            *cloudformation.PATCHES,
            *_PATCHES,
            *dynamodb_transactions.PATCHES,
            *sqs_index.PATCHES,
        ]
        for extension in self.extensions:
            patches.extend(extension.PATCHES)
            for model in extension.MODELS:
                resource_type = model.cloudformation_type()
                cloudformation.OWNED_MODELS[resource_type] = model
                self._models_added.append(resource_type)
        for owner, name, wrap in patches:
            self._saved.append((owner, name, vars(owner).get(name, _INHERITED)))
            setattr(owner, name, wrap(getattr(owner, name)))
        _active = self
        _disable_xray_sdk()
        return self

    def stop(self) -> None:
        global _active
        self.stop_background()
        for extension in self.extensions:
            extension.stop()
        for resource_type in self._models_added:
            cloudformation.OWNED_MODELS.pop(resource_type, None)
        self._models_added.clear()
        for owner, name, original in reversed(self._saved):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._saved.clear()
        if _active is self:
            _active = None

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start_background(self, interval: float = 0.05) -> None:
        """Deliver continuously in a thread, honouring (scaled) real time."""

        def loop() -> None:
            while not self._stopping.is_set():
                try:
                    busy = self.pump(fast_forward=False)
                except Exception:
                    logger.exception("delivery round failed")
                    busy = 0
                if not busy:
                    self._stopping.wait(interval)

        self._stopping.clear()
        self._background = threading.Thread(target=loop, name="localcloud-delivery", daemon=True)
        self._background.start()

    def stop_background(self) -> None:
        if self._background is not None:
            self._stopping.set()
            self._background.join()
            self._background = None

    def extension(self, cls: type[_E]) -> _E:
        """The running instance of an extension class."""
        for extension in self.extensions:
            if isinstance(extension, cls):
                return extension
        raise EngineError(f"the engine runs no {cls.__name__}")

    # -- functions -------------------------------------------------------------------------

    def local_function(self, function: Any) -> LocalFunction:
        """The runnable form of a moto `LambdaFunction`; new code or settings mean a cold start."""
        logging_config = getattr(function, "logging_config", None) or {}
        key = (
            function.code_sha_256,
            function.handler,
            json.dumps(function.environment_vars, sort_keys=True),
            function.timeout,
            function.memory_size,
        )
        with self._state_lock:
            known = self._functions.get(function.function_arn)
            if known is not None and known[0] == key:
                return known[1]
            if function.package_type != "Zip" or not function.code_bytes:
                raise EngineError(f"{function.function_name}: only zip packages can run locally")
            local = LocalFunction(
                name=function.function_name,
                handler=function.handler,
                code_dir=self.code_store.unpack(function.code_bytes),
                environment={key: str(value) for key, value in function.environment_vars.items()},
                timeout_seconds=float(function.timeout),
                memory_mb=int(function.memory_size),
                region=function.region,
                account_id=function.account_id,
                log_group=logging_config.get("LogGroup", ""),
            )
            self._functions[function.function_arn] = (key, local)
            return local

    def function(self, name_or_arn: str) -> Any:
        """The moto `LambdaFunction` with this name or ARN."""
        return lambda_backends[self.account_id][self.region].get_function(name_or_arn)

    def invoke(
        self,
        function: Any,
        event: Any,
        *,
        trigger: str,
        request_id: str | None = None,
        chain: str | None = None,
    ) -> Invocation:
        """Run `function` (a moto `LambdaFunction`) synchronously and record the invocation.

        `chain`: the runner's token for the handler that asked for it (see
        `FunctionRunner.chain_of_current_thread`); by default, the chain of the request this
        server thread answers (`serving_chain`).
        """
        invocation = self.runner.invoke(
            self.local_function(function),
            event,
            trigger=trigger,
            request_id=request_id,
            chain=chain or getattr(_serving, "chain", None),
        )
        with self._state_lock:
            self.invocations.append(invocation)
        self._write_logs(function, invocation)
        return invocation

    def invoke_async(self, function: Any, event: Any, *, trigger: str) -> str:
        """Queue an asynchronous (Event) invocation; returns its request id."""
        request_id = delivery.new_request_id()
        self._schedule(
            _AsyncJob(0.0, 0, function.function_arn, event, trigger, request_id), delay=0.0
        )
        return request_id

    def _schedule(self, job: _AsyncJob, *, delay: float) -> None:
        job.due = time.monotonic() + delay * self.time_scale
        job.sequence = next(self._sequence)
        with self._state_lock:
            heapq.heappush(self._async_jobs, job)

    def _write_logs(self, function: Any, invocation: Invocation) -> None:
        # The invocation's log lines go to the function's log group, as Lambda sends them.
        local = self._functions[function.function_arn][1]
        logs = function.logs_backend
        group = local.log_group_name
        stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{invocation.request_id.replace('-', '')}"
        with contextlib.suppress(Exception):
            if group not in logs.groups:
                logs.create_log_group(group, {})
            logs.create_log_stream(group, stream)
            now = int(unix_time_millis())
            events = [{"timestamp": now, "message": line} for line in invocation.logs.splitlines()]
            if events:
                logs.put_log_events(group, stream, events)

    # -- delivery --------------------------------------------------------------------------

    def pump(self, *, fast_forward: bool) -> int:
        """One delivery round over async invocations, SQS event sources and every extension.

        Returns the work done. With `fast_forward`, every wait (retry delay, batching window)
        counts as elapsed.
        """
        with self._delivery_lock:
            done = self._run_async_jobs(fast_forward)
            for mapping in self.event_source_mappings():
                if ":sqs:" in mapping.event_source_arn:
                    done += self._poll_sqs(mapping, fast_forward)
            for extension in self.extensions:
                done += extension.pump(fast_forward=fast_forward)
            return done

    def settle(self, *, max_rounds: int = 100_000) -> int:
        """Deliver everything pending, taking every wait as elapsed; returns invocations made."""
        before = len(self.invocations)
        with self._delivery_lock:
            for _ in range(max_rounds):
                if not self.pump(fast_forward=True):
                    return len(self.invocations) - before
        raise EngineError(f"work still pending after {max_rounds} delivery rounds")

    def event_source_mappings(self) -> list[Any]:
        backend = lambda_backends[self.account_id][self.region]
        # A copy first: API threads may create mappings while the delivery thread reads them.
        mappings = list(backend._event_source_mappings.values())
        return [mapping for mapping in mappings if mapping.enabled]

    def _run_async_jobs(self, fast_forward: bool) -> int:
        # A round runs only the jobs queued before it: a function that invokes itself (or
        # publishes to its own trigger) adds work for the next round, so rounds stay bounded.
        queued_before = next(self._sequence)
        done = 0
        while True:
            with self._state_lock:
                if not self._async_jobs or (
                    not fast_forward and self._async_jobs[0].due > time.monotonic()
                ):
                    return done
                if self._async_jobs[0].sequence > queued_before:
                    return done
                job = heapq.heappop(self._async_jobs)
            done += 1
            self._run_async_job(job)

    def _run_async_job(self, job: _AsyncJob) -> None:
        try:
            function = self.function(job.function_arn)
        except Exception:
            self.discarded_events.append({"reason": "function not found", "job": job.__dict__})
            return
        invocation = self.invoke(
            function, job.event, trigger=job.trigger, request_id=job.request_id
        )
        config = _event_invoke_config(function)
        destinations = config.get("DestinationConfig") or {}
        if invocation.succeeded:
            on_success = (destinations.get("OnSuccess") or {}).get("Destination")
            if on_success:
                self._send_invocation_record(on_success, function, job, invocation, "Success")
            return
        retries = config.get("MaximumRetryAttempts", delivery.DEFAULT_ASYNC_RETRIES)
        if job.attempt > retries:
            self._dispose_failed_event(function, job, invocation, config, "RetriesExhausted")
            return
        delay = delivery.ASYNC_RETRY_DELAYS_SECONDS[
            min(job.attempt - 1, len(delivery.ASYNC_RETRY_DELAYS_SECONDS) - 1)
        ]
        maximum_age = config.get(
            "MaximumEventAgeInSeconds", delivery.DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
        )
        if job.age_seconds + delay > maximum_age:
            # Lambda drops an event from its queue once it is older than the maximum age.
            self._dispose_failed_event(function, job, invocation, config, "EventAgeExceeded")
            return
        job.attempt += 1
        job.age_seconds += delay
        self._schedule(job, delay=delay)

    def _send_invocation_record(
        self, destination: str, function: Any, job: _AsyncJob, invocation: Invocation, why: str
    ) -> None:
        record = delivery.async_invocation_record(
            function_arn=function.function_arn,
            request_id=job.request_id,
            event=job.event,
            attempts=job.attempt,
            invocation=invocation,
            condition=why,
        )
        self.send_to_target(destination, delivery.dumps(record), {})

    def _dispose_failed_event(
        self, function: Any, job: _AsyncJob, invocation: Invocation, config: dict, why: str
    ) -> None:
        """After the last retry: the on-failure destination and the dead-letter queue, as Lambda
        does (a function may have both: each gets the event in its own form)."""
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        if destination:
            self._send_invocation_record(destination, function, job, invocation, why)
        dead_letter = getattr(function, "localcloud_dead_letter_arn", None)
        if dead_letter:
            attributes = delivery.dead_letter_message_attributes(job.request_id, invocation)
            self.send_to_target(dead_letter, delivery.dumps(job.event), attributes)
        if destination or dead_letter:
            return
        logger.warning(
            "%s: event %s failed %d times and has no destination: Lambda discards it",
            function.function_name,
            job.request_id,
            job.attempt,
        )
        self.discarded_events.append(
            {"function": function.function_name, "request_id": job.request_id, "event": job.event}
        )

    def send_to_target(self, arn: str, body: str, attributes: dict[str, Any]) -> bool:
        """Send an invocation record or an event to a destination, as Lambda does.

        Destinations: an SQS queue, an SNS topic, a function (async), an EventBridge bus or an
        S3 bucket. What cannot be delivered (the destination is gone or of another kind) is
        logged and kept in `discarded_events`, never dropped silently; returns whether it went.
        """
        try:
            self._send_to_target(arn, body, attributes)
        except Exception as error:
            logger.warning("cannot deliver to %s: %s", arn, error)
            with self._state_lock:
                self.discarded_events.append(
                    {"reason": f"destination {arn}: {error}", "body": body}
                )
            return False
        return True

    def _send_to_target(self, arn: str, body: str, attributes: dict[str, Any]) -> None:
        service, region, account = arn.split(":")[2], arn.split(":")[3], arn.split(":")[4]
        if service == "sqs":
            sqs_backends[account][region].send_message(
                arn.rsplit(":", 1)[1], body, message_attributes=attributes
            )
        elif service == "sns":
            sns_backends[account][region].publish(
                body,
                arn=arn,
                message_attributes={
                    name: {"Type": value["DataType"], "Value": value["StringValue"]}
                    for name, value in attributes.items()
                },
            )
        elif service == "lambda":
            self.invoke_async(self.function(arn), json.loads(body), trigger="destination")
        elif service == "events":
            self._put_invocation_record_event(arn, json.loads(body))
        elif service == "s3":
            self._put_invocation_record_object(arn, body)
        else:
            raise EngineError(f"destination {arn}: not a queue, topic, function, bus or bucket")

    def _put_invocation_record_event(self, bus_arn: str, record: dict[str, Any]) -> None:
        from localcloud.eventbridge import EventBridgeRules

        condition = record.get("requestContext", {}).get("condition")
        outcome = "Success" if condition == "Success" else "Failure"
        function_arn = record.get("requestContext", {}).get("functionArn", "")
        _, _, _, region, account, resource = bus_arn.split(":", 5)
        self.extension(EventBridgeRules).put_event(
            account_id=account,
            region=region,
            bus_name=resource.removeprefix("event-bus/"),
            source="lambda",
            detail_type=f"Lambda Function Invocation Result - {outcome}",
            detail=record,
            resources=[bus_arn, function_arn.removesuffix(":$LATEST")],
        )

    def _put_invocation_record_object(self, bucket_arn: str, body: str) -> None:
        from moto.s3.models import s3_backends

        # The record is Lambda's; the object's key (date-partitioned, unique) is localcloud's.
        bucket = bucket_arn.rsplit(":", 1)[1]
        key = f"aws/lambda/{time.strftime('%Y/%m/%d/%Y-%m-%dT%H.%M.%S')}-{uuid.uuid4()}"
        s3_backends[self.account_id]["aws"].put_object(bucket, key, body.encode())

    def _poll_sqs(self, mapping: Any, fast_forward: bool) -> int:
        queue_name = mapping.event_source_arn.rsplit(":", 1)[1]
        backend = sqs_backends[mapping.account_id][mapping.region]
        try:
            queue = backend.get_queue(queue_name)
        except Exception:
            return 0  # the queue was deleted: Lambda keeps the mapping, with nothing to read
        batch_size = int(mapping.batch_size or 10)
        window = float(mapping.max_batch_window or 0)
        pending = self._pending.setdefault(mapping.uuid, _PendingBatch())
        if fast_forward and not pending.messages and not sqs_index.has_visible_messages(queue):
            # Settling takes every wait as over: messages back from a failed batch (still in
            # their visibility timeout) and delayed messages are receivable now, once the
            # visible ones are taken (checked first: this walks the whole queue).
            for message in queue._messages:
                message.visible_at = 0
                message.delayed_until = 0
        wanted = batch_size - len(pending.messages)
        while wanted > 0:
            received = backend.receive_message(
                queue_name,
                wanted,
                wait_seconds_timeout=0,
                visibility_timeout=int(queue.visibility_timeout),
                message_attribute_names=["All"],
            )
            # Filters apply to each message as it is received, before it joins the batch.
            passed = self._filter_sqs_messages(mapping, queue, received)
            if passed and not pending.messages:
                pending.first_received = time.monotonic()
            pending.messages.extend(passed)
            if len(passed) == len(received):
                break  # nothing was filtered out, so nothing more is waiting to fill the batch
            wanted = batch_size - len(pending.messages)
        if not pending.messages:
            return 0
        full = len(pending.messages) >= batch_size
        window_over = time.monotonic() - pending.first_received >= window * self.time_scale
        if not (fast_forward or full or window_over):
            return 0
        messages, self._pending[mapping.uuid] = pending.messages, _PendingBatch()
        self._deliver_sqs_batch(mapping, queue, messages, fast_forward)
        return 1

    def _filter_sqs_messages(self, mapping: Any, queue: Any, messages: list) -> list:
        """The messages the mapping's FilterCriteria let through; Lambda deletes the others."""
        # Imported here: event_filters uses the EventBridge extension, which imports the engine.
        from localcloud import event_filters

        patterns = event_filters.filter_patterns(mapping.filter_criteria, "sqs")
        if not patterns:
            return messages
        backend = sqs_backends[mapping.account_id][mapping.region]
        passed = []
        for message in messages:
            record = delivery.sqs_record(message, mapping.event_source_arn, mapping.region)
            if event_filters.record_passes(patterns, record, "sqs"):
                passed.append(message)
            else:
                backend.delete_message(queue.name, message.receipt_handle)
        return passed

    def _deliver_sqs_batch(self, mapping: Any, queue: Any, messages: list, fast: bool) -> None:
        settings = delivery.SqsSourceSettings(
            batch_size=int(mapping.batch_size or 10),
            batching_window_seconds=float(mapping.max_batch_window or 0),
            reports_batch_item_failures="ReportBatchItemFailures"
            in (mapping.function_response_types or []),
        )
        event = {
            "Records": [
                delivery.sqs_record(message, mapping.event_source_arn, mapping.region)
                for message in messages
            ]
        }
        function = self.function(mapping.function_arn)
        invocation = self.invoke(function, event, trigger=f"SQS {queue.name}")
        failed = delivery.failed_message_ids(invocation, settings, {m.id for m in messages})
        backend = sqs_backends[mapping.account_id][mapping.region]
        for message in messages:
            if message.id not in failed:
                backend.delete_message(queue.name, message.receipt_handle)
            elif fast or self.time_scale != 1:
                # The message returns when its visibility timeout ends: now, when settling,
                # or after the scaled timeout.
                timeout = 0 if fast else round(int(queue.visibility_timeout) * self.time_scale)
                with contextlib.suppress(Exception):
                    backend.change_message_visibility(queue.name, message.receipt_handle, timeout)

    # -- HTTP APIs -------------------------------------------------------------------------

    def apis(self) -> list[dict[str, str]]:
        """Every API served: id, name and local URL (when served over an endpoint)."""
        backend = apigatewayv2_backends[self.account_id][self.region]
        served = [
            {
                "id": api.api_id,
                "name": api.name,
                "url": apifront.local_url(self.endpoint_url or "", api.api_id),
            }
            for api in backend.apis.values()
            if api.protocol_type == "HTTP"
        ]
        for extension in self.extensions:
            served.extend(extension.apis())
        return served

    def handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse:
        """Answer a request to an HTTP API as API Gateway would; never raises."""
        try:
            return self._handle_http(api_id, request)
        except Exception:
            logger.exception("API front failed on %s %s", request.method, request.path)
            return apifront.gateway_error(500, "Internal Server Error")

    def _handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse:
        api = apigatewayv2_backends[self.account_id][self.region].apis.get(api_id)
        if api is None or api.protocol_type != "HTTP":
            for extension in self.extensions:
                answer = extension.handle_http(api_id, request)
                if answer is not None:
                    return answer
            return apifront.gateway_error(404, "Not Found")
        if len(request.body) > apifront.MAX_BODY_BYTES:
            return apifront.gateway_error(413, "Request Entity Too Large")
        path, stage = request.path, "$default"
        if "$default" not in api.stages:
            stage_name, _, rest = path.lstrip("/").partition("/")
            if stage_name not in api.stages:
                return apifront.gateway_error(404, "Not Found")
            path, stage = "/" + rest, stage_name
        routes = {route.route_key: route for route in api.routes.values()}
        selected = apifront.select_route(list(routes), request.method, path)
        if selected is None:
            return apifront.gateway_error(404, "Not Found")
        route_key, path_parameters = selected
        route = routes[route_key]
        integration_id = (route.target or "").removeprefix("integrations/")
        integration = api.integrations.get(integration_id)
        if integration is None or integration.integration_type != "AWS_PROXY":
            return apifront.gateway_error(500, "Internal Server Error")
        if str(integration.payload_format_version) != "2.0":
            return apifront.gateway_error(500, "Internal Server Error")
        event = apifront.http_api_event(
            api_id=api_id,
            stage=stage,
            route_key=route_key,
            request=HttpRequest(request.method, path, request.query, request.headers, request.body),
            path_parameters=path_parameters,
            region=self.region,
            account_id=self.account_id,
            stage_variables=api.stages[stage].stage_variables or None,
        )
        function = self.function(integration.integration_uri)
        invocation = self.invoke(function, event, trigger=f"HTTP {request.method} {path}")
        if invocation.error is not None:
            if invocation.error.get("errorType") == "Sandbox.Timedout":
                return apifront.gateway_error(503, "Service Unavailable")
            return apifront.gateway_error(500, "Internal Server Error")
        return apifront.proxy_response(invocation.payload)


def _disable_xray_sdk() -> None:
    # A handler's tracer may have imported the X-Ray SDK before the runner could switch it
    # off through the environment; no daemon runs locally, so it is switched off here.
    sdk = sys.modules.get("aws_xray_sdk")
    if sdk is not None:
        sdk.global_sdk_config.set_sdk_enabled(False)


def _event_invoke_config(function: Any) -> dict[str, Any]:
    return function.event_invoke_config[0].config if function.event_invoke_config else {}


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


# -- moto hooks ---------------------------------------------------------------------------


def _invoke_through_engine(original):
    def invoke(self, function_name, qualifier, body, headers, response_headers):
        engine = active_engine()
        function = self.get_function(function_name, qualifier)
        event = json.loads(body) if body else {}
        invocation_type = _header(headers, "x-amz-invocation-type") or "RequestResponse"
        if invocation_type == "Event":
            engine.invoke_async(function, event, trigger="Invoke (Event)")
            return b""
        if invocation_type == "DryRun":
            return b""
        invocation = engine.invoke(function, event, trigger="Invoke")
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
    # batch responses; the engine polls it instead, so moto's trigger is removed.
    def create_event_source_mapping(self, spec):
        mapping = original(self, spec)
        for owner in _trigger_owners(self):
            owner.lambda_event_source_mappings.pop(mapping.function_arn, None)
            owner.lambda_event_source_mappings.pop(mapping.event_source_arn, None)
        return mapping

    return create_event_source_mapping


def _trigger_owners(backend: Any) -> Iterator[Any]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends

    yield from sqs_backends[backend.account_id][backend.region_name].queues.values()
    yield from dynamodb_backends[backend.account_id][backend.region_name].tables.values()
    yield from kinesis_backends[backend.account_id][backend.region_name].streams.values()


def _function_keeps_dead_letter_target(original):
    def __init__(self, account_id, spec, region, version=1):  # noqa: N807 - replaces __init__
        original(self, account_id, spec, region, version)
        self.localcloud_dead_letter_arn = (spec.get("DeadLetterConfig") or {}).get("TargetArn")

    return __init__


def _sns_to_lambda_is_async(original):
    def publish(self, message, message_id, subject=None, message_attributes=None, **kwargs):
        if self.protocol != "lambda":
            return original(
                self,
                message,
                message_id,
                subject=subject,
                message_attributes=message_attributes,
                **kwargs,
            )
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
            message_attributes, message
        ):
            return None
        if kwargs.get("message_structure") == "json":
            message = self._parse_message_structure(message, self.protocol)
        engine = active_engine()
        event = delivery.sns_lambda_event(
            subscription_arn=self.arn,
            topic_arn=self.topic.arn,
            message_id=message_id,
            message=message,
            subject=subject,
            message_attributes=message_attributes,
        )
        engine.invoke_async(engine.function(self.endpoint), event, trigger=f"SNS {self.topic.name}")
        return None

    return publish


def _retention_checked_directly(original):
    # moto rebuilds every queue attribute (each a scan of the whole queue) to read the
    # retention period of each message it receives; reading it directly keeps a receive
    # linear in the queue's length instead of quadratic.
    def is_message_valid_based_on_retention_period(self, queue_name, message):
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return retain_until > unix_time()

    return is_message_valid_based_on_retention_period


def _handler_requests_carry_their_chain(original):
    # Under `localcloud up` a handler's calls to the endpoint (AWS SDK or plain HTTP) come
    # back to this process on a server thread; the header lets an invocation they cause (a
    # synchronous invoke, an API's function) run nested in the caller's chain, which waits for
    # it, instead of waiting for the caller to finish. Only requests to the endpoint carry it.
    def putrequest(self, method, url, *args, **kwargs):
        original(self, method, url, *args, **kwargs)
        engine = _active
        if engine is None or not engine.endpoint_url:
            return
        chain = engine.runner.chain_of_current_thread()
        if chain is not None and _is_endpoint(engine.endpoint_url, self.host, self.port):
            self.putheader(CHAIN_HEADER, chain)

    return putrequest


def _handler_calls_answered_in_process(original):
    # moto's stubber answers botocore requests only under `mock_aws`; under `localcloud up` a
    # handler's request to the endpoint is answered here instead of crossing the socket back
    # into this process (see `local_calls`). Any other request goes on as before.
    def __call__(self, event_name, request, **kwargs):  # noqa: N807 - replaces __call__
        engine = _active
        if not self.enabled and engine is not None and engine.answer_locally is not None:
            chain = engine.runner.chain_of_current_thread()
            if chain is not None and local_calls.is_endpoint_request(
                request.url, engine.endpoint_url or ""
            ):
                return engine.answer_locally(request, chain=chain)
        return original(self, event_name, request, **kwargs)

    return __call__


def _is_endpoint(endpoint_url: str, host: str, port: int | None) -> bool:
    endpoint = urlsplit(endpoint_url)
    return port == endpoint.port and host in (endpoint.hostname, "localhost", "127.0.0.1")


_serving = threading.local()


@contextlib.contextmanager
def serving_chain(chain: str | None) -> Iterator[None]:
    """While the server answers a request that names an invocation chain (`CHAIN_HEADER`),
    the invocations it causes on this thread join that chain."""
    saved, _serving.chain = getattr(_serving, "chain", None), chain
    try:
        yield
    finally:
        _serving.chain = saved


_sending = threading.local()


def _send_marks_its_queue(original):
    def send_message(self, queue_name, *args, **kwargs):
        _sending.queue = self.get_queue(queue_name)
        try:
            return original(self, queue_name, *args, **kwargs)
        finally:
            _sending.queue = None

    return send_message


def _attributes_cheap_while_sending(original):
    # Sending a message reads one queue attribute, ContentBasedDeduplication, but moto builds
    # them all, counting the whole queue three times; while a message is being sent to a
    # queue, that queue answers the one attribute directly.
    def attributes(self):
        if getattr(_sending, "queue", None) is self:
            if not self.fifo_queue:
                return {}
            value = self.content_based_deduplication
            return {
                "ContentBasedDeduplication": str(value).lower()
                if isinstance(value, bool)
                else value
            }
        return original.fget(self)

    return property(attributes)


_PATCHES: list[tuple[Any, str, Any]] = [
    (http.client.HTTPConnection, "putrequest", _handler_requests_carry_their_chain),
    (BotocoreStubber, "__call__", _handler_calls_answered_in_process),
    (sqs_models.SQSBackend, "send_message", _send_marks_its_queue),
    (sqs_models.Queue, "attributes", _attributes_cheap_while_sending),
    (
        sqs_models.SQSBackend,
        "is_message_valid_based_on_retention_period",
        _retention_checked_directly,
    ),
    (lambda_models.LambdaBackend, "invoke", _invoke_through_engine),
    (lambda_models.LambdaFunction, "_invoke_lambda", _invoke_lambda_through_engine),
    (lambda_models.LambdaFunction, "__init__", _function_keeps_dead_letter_target),
    (
        lambda_models.LambdaBackend,
        "create_event_source_mapping",
        _mappings_polled_by_engine,
    ),
    (sns_models.Subscription, "publish", _sns_to_lambda_is_async),
]
