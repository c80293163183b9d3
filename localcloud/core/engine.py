"""localcloud's core: the engine every emulated service plugs into, over moto's state.

moto holds the state (queues, topics, tables, functions and their code, event source mappings,
APIs). The engine offers each service (`localcloud.core.service.Service`, one package per
service under `localcloud/services/`, listed in `SERVICES`) what they share:

- the function runner: `invoke()` runs a function's real code in-process and records the
  invocation and its logs (under `localcloud up`, an invoke a handler causes through the
  endpoint joins its caller's chain, `CHAIN_HEADER`);
- one dispatcher: `deliver()` hands a `Message` to whichever service owns the target's ARN;
- one clock (`Clock`) and one scheduler of delayed work (`Scheduler`);
- the moto hooks of the core and of every service, installed on `start()` and removed on
  `stop()` (`localcloud.core.hooks`), and the CloudFormation models of every service;
- delivery rounds: `pump()` runs due work and then each service's own round; `settle()` runs
  rounds until nothing is left, taking every wait as elapsed, so tests are deterministic.

Time: with `time_scale` 1 every wait is as long as on AWS (visibility timeouts, batching
windows, retry delays); a smaller scale shortens each by that factor.
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import json
import logging
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast, overload
from urllib.parse import urlsplit

import botocore.session
import moto.backends
import moto.core.responses
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.exceptions import NoCredentialsError
from botocore.httpchecksum import AwsChunkedWrapper
from botocore.utils import get_current_datetime
from moto.awslambda.models import lambda_backends
from moto.cloudformation import parsing as cfn_parsing
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.common_models import BaseModel
from moto.core.models import botocore_stubber
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from moto.core.request import Request as MotoRequest
from moto.core.serialize import MISSING as MOTO_MISSING
from moto.core.serialize import AttributePicker
from moto.core.utils import get_value as moto_get_value
from moto.logs.models import logs_backends

from localcloud.core import apifront, cloudformation, local_calls
from localcloud.core.apifront import HttpRequest, HttpResponse
from localcloud.core.clock import Clock
from localcloud.core.hooks import Hook, InstalledHooks
from localcloud.core.runner import CodeStore, FunctionRunner, Invocation, LocalFunction
from localcloud.core.scheduler import Scheduler
from localcloud.core.service import DeliveryError, EventBus, Message, Service, service_classes

logger = logging.getLogger("localcloud")

DEFAULT_ACCOUNT_ID = "123456789012"
# The header naming the invocation chain a handler's request to the endpoint belongs to.
CHAIN_HEADER = "x-localcloud-chain"


class EngineError(RuntimeError):
    """localcloud cannot do what was asked (a second engine, an unknown function...)."""


_S = TypeVar("_S", bound=Service)
_active: Engine | None = None


def active_engine() -> Engine:
    """The engine running in this process (moto's hooks find it here)."""
    if _active is None:
        raise EngineError("no localcloud engine is running in this process")
    return _active


def active_engine_or_none() -> Engine | None:
    """The running engine, or None when moto runs without localcloud."""
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
        self.clock = Clock(time_scale=time_scale)
        self.scheduler = Scheduler(self.clock)
        self.endpoint_url = endpoint_url
        self.runner = FunctionRunner(credentials=credentials)
        self.runner.endpoint_url = endpoint_url
        self.code_store = CodeStore(code_root)
        self.invocations: list[Invocation] = []
        self.discarded_events: list[dict[str, Any]] = []
        self._functions: dict[str, tuple[tuple, LocalFunction]] = {}
        self._delivery_lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._hooks: InstalledHooks | None = None
        # Set by the server: answers a handler's AWS SDK request to the endpoint in this
        # process, given the request and the handler's chain (see `local_calls`).
        self.answer_locally: Any = None
        self._background: threading.Thread | None = None
        self._stopping = threading.Event()
        # Clients holding background delivery (`hold_delivery`).
        self._holds = 0
        self.services: list[Service] = [cls(self) for cls in service_classes()]
        self._models_added: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Engine:
        global _active
        if _active is not None:
            raise EngineError("a localcloud engine is already running in this process")
        for service in self.services:
            for model in service.MODELS:
                resource_type = model.cloudformation_type()
                cloudformation.OWNED_MODELS[resource_type] = model
                self._models_added.append(resource_type)
        self._hooks = InstalledHooks(declared_hooks(type(service) for service in self.services))
        _active = self
        _disable_xray_sdk()
        return self

    def stop(self) -> None:
        global _active
        self.stop_background()
        for service in self.services:
            service.stop()
        self.runner.close()
        for resource_type in self._models_added:
            cloudformation.OWNED_MODELS.pop(resource_type, None)
        self._models_added.clear()
        if self._hooks is not None:
            self._hooks.remove()
            self._hooks = None
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
                if self._holds:
                    self._stopping.wait(interval)
                    continue
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

    @property
    def delivering_in_background(self) -> bool:
        """Whether delivery runs on its own (`localcloud up`), rather than when settled; False
        once it is asked to stop."""
        return self._background is not None and not self._stopping.is_set()

    def hold_delivery(self) -> None:
        """Keep the background from delivering until `release_delivery()` (as many times as
        held); returns once no delivery round is running. `settle()` still delivers.

        So a client of `localcloud up` reads what is queued before delivery begins, as it would
        in-process, where delivery runs only when it settles.
        """
        with self._state_lock:
            self._holds += 1
        with self._delivery_lock:
            pass

    def release_delivery(self) -> None:
        with self._state_lock:
            self._holds = max(0, self._holds - 1)

    def stop_background(self) -> None:
        if self._background is not None:
            self._stopping.set()
            self._background.join()
            self._background = None

    @overload
    def service(self, kind: type[_S]) -> _S: ...
    @overload
    def service(self, kind: str) -> Service: ...
    def service(self, kind: type[Service] | str) -> Service:
        """The running instance of a service, by class (its own package) or by `NAME` (any)."""
        for service in self.services:
            if kind == service.NAME if isinstance(kind, str) else isinstance(service, kind):
                return service
        raise EngineError(f"the engine runs no {getattr(kind, '__name__', kind)} service")

    @property
    def time_scale(self) -> float:
        """How much shorter than AWS's every wait is (1: as long; 0.01: a hundredth)."""
        return self.clock.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        self.clock.time_scale = value

    def event_bus(self) -> EventBus:
        """The EventBridge service, for services that put events on a bus as AWS services do."""
        return cast(EventBus, self.service("events"))

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
            json.dumps(logging_config, sort_keys=True),
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
                log_format=logging_config.get("LogFormat", "Text"),
                application_log_level=logging_config.get("ApplicationLogLevel", "INFO"),
                system_log_level=logging_config.get("SystemLogLevel", "INFO"),
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
        caller_wait_seconds: float | None = None,
    ) -> Invocation:
        """Run `function` (a moto `LambdaFunction`) synchronously and record the invocation.

        `chain`: the runner's token for the handler that asked for it (see
        `FunctionRunner.chain_of_current_thread`); by default, the chain of the request this
        server thread answers (`serving_chain`). `caller_wait_seconds`: how long the caller
        waits for the answer (its client's read timeout), if it waits less than the timeout.
        """
        invocation = self.runner.invoke(
            self.local_function(function),
            event,
            trigger=trigger,
            request_id=request_id,
            chain=chain or getattr(_serving, "chain", None),
            caller_wait_seconds=caller_wait_seconds,
        )
        with self._state_lock:
            self.invocations.append(invocation)
        self._write_logs(function, invocation)
        return invocation

    def invoke_async(self, function: Any, event: Any, *, trigger: str) -> str:
        """Queue an asynchronous (Event) invocation, with Lambda's retries and destinations;
        returns its request id."""
        return self.service("lambda").invoke_async(function, event, trigger=trigger)

    def call_later(self, delay_seconds: float, run: Callable[[], None]) -> None:
        """Run `run` once `delay_seconds` of AWS's time have passed (scaled by the clock)."""
        self.scheduler.call_later(delay_seconds, run)

    def _write_logs(self, function: Any, invocation: Invocation) -> None:
        # The invocation's log events go to the function's log group, in the stream of the
        # execution environment that ran it, as Lambda sends them (creating the group, as
        # Lambda does with its default permissions).
        local = self._functions[function.function_arn][1]
        self.write_log_events(
            local.log_group_name,
            invocation.log_stream,
            invocation.log_events,
            create_group=True,
        )

    def write_log_events(
        self, group: str, stream: str, messages: Iterable[str], *, create_group: bool = False
    ) -> bool:
        """Append `messages` (one log event each) to a CloudWatch Logs stream, creating the
        stream, and the group with `create_group`; returns whether the group was there."""
        logs = logs_backends[self.account_id][self.region]
        now = int(self.clock.time_millis())
        events = [{"timestamp": now, "message": message} for message in messages if message]
        with self._state_lock:
            if group not in logs.groups:
                if not create_group:
                    return False
                logs.create_log_group(group, {})
            if stream not in logs.groups[group].streams:
                logs.create_log_stream(group, stream)
        # Outside the lock: a subscription filter on the group may invoke a function now.
        if events:
            logs.put_log_events(group, stream, events)
        return True

    # -- delivery --------------------------------------------------------------------------

    def pump(self, *, fast_forward: bool) -> int:
        """One delivery round over async invocations, SQS event sources and every service.

        Returns the work done. With `fast_forward`, every wait (retry delay, batching window)
        counts as elapsed.
        """
        with self._delivery_lock:
            done = self.scheduler.run_due(fast_forward=fast_forward)
            for service in self.services:
                done += service.pump(fast_forward=fast_forward)
            return done

    def settle(self, *, max_rounds: int = 100_000) -> int:
        """Deliver everything pending, taking every wait as elapsed; returns invocations made."""
        before = len(self.invocations)
        with self._delivery_lock:
            for _ in range(max_rounds):
                if not self.pump(fast_forward=True):
                    return len(self.invocations) - before
        raise EngineError(f"work still pending after {max_rounds} delivery rounds")

    def event_source(self, arn: str) -> Service | None:
        """The service that polls sources of this ARN's kind (`Service.SOURCES`), if any."""
        prefix = arn.split(":")[2] if arn.count(":") >= 5 else ""
        return next((service for service in self.services if prefix in service.SOURCES), None)

    def deliver(self, arn: str, message: Message) -> None:
        """Hand `message` to the service that owns `arn` (`Service.DELIVERS`); raises
        `DeliveryError` when nothing can take it."""
        prefix = arn.split(":")[2] if arn.count(":") >= 5 else ""
        for service in self.services:
            if prefix in service.DELIVERS:
                service.deliver(arn, message)
                return
        raise DeliveryError("INVALID_PARAMETER", f"localcloud delivers nothing to {arn}")

    def send_to_target(self, arn: str, body: str, attributes: dict[str, Any]) -> bool:
        """Send a record or an event to a destination (a queue, a topic, a function), as Lambda
        does. What cannot be delivered (the destination is gone or of another kind) is logged
        and kept in `discarded_events`, never dropped silently; returns whether it went."""
        try:
            self.deliver(arn, Message(body, attributes))
        except Exception as error:
            logger.warning("cannot deliver to %s: %s", arn, error)
            with self._state_lock:
                self.discarded_events.append(
                    {"reason": f"destination {arn}: {error}", "body": body}
                )
            return False
        return True

    # -- HTTP APIs -------------------------------------------------------------------------

    def apis(self) -> list[dict[str, str]]:
        """Every API served: id, name and local URL (when served over an endpoint)."""
        return [api for service in self.services for api in service.apis()]

    def handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse:
        """Answer a request to an API as API Gateway would; never raises."""
        try:
            for service in self.services:
                answer = service.handle_http(api_id, request)
                if answer is not None:
                    return answer
        except Exception:
            logger.exception("API front failed on %s %s", request.method, request.path)
            return apifront.gateway_error(500, "Internal Server Error")
        return apifront.gateway_error(404, "Not Found")


def declared_hooks(services: Iterable[type[Service]] | None = None) -> list[Hook]:
    """Every moto hook: the core's, then each service's (every registered one by default)."""
    hooks = [*cloudformation.HOOKS, *HOOKS]
    for service in service_classes() if services is None else services:
        hooks.extend(service.HOOKS)
    return hooks


def _disable_xray_sdk() -> None:
    # A handler's tracer may have imported the X-Ray SDK before the runner could switch it
    # off through the environment; no daemon runs locally, so it is switched off here.
    sdk = sys.modules.get("aws_xray_sdk")
    if sdk is not None:
        sdk.global_sdk_config.set_sdk_enabled(False)


# -- moto hooks ---------------------------------------------------------------------------


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


def _chain_answered_locally(engine: Engine | None, url: str) -> str | None:
    """Under `localcloud up`, the invocation chain of this thread's request to `url` when it
    is a handler's request to the endpoint, which `engine` answers in this process; else None."""
    if engine is None or engine.answer_locally is None:
        return None
    chain = engine.runner.chain_of_current_thread()
    if chain is None or not local_calls.is_endpoint_request(url, engine.endpoint_url or ""):
        return None
    return chain


def _handler_calls_answered_in_process(original):
    # moto's stubber answers botocore requests only under `mock_aws`; under `localcloud up` a
    # handler's request to the endpoint is answered here instead of crossing the socket back
    # into this process (see `local_calls`). Any other request goes on as before.
    def __call__(self, event_name, request, **kwargs):  # noqa: N807 - replaces __call__
        engine = _active
        chain = None if self.enabled else _chain_answered_locally(engine, request.url)
        if chain is not None:
            return engine.answer_locally(request, chain=chain)
        return original(self, event_name, request, **kwargs)

    return __call__


def _handler_threads_join_their_invocation(original):
    # A handler's work may run on threads it starts (the durable execution SDK runs its user
    # function and checkpoints on its own): an invoke from one of them runs nested in the
    # handler's invocation, as the handler's own would, instead of waiting for the runner.
    def start(self):
        engine = _active
        if engine is not None and engine.runner.runs_handler_on_current_thread():
            engine.runner.adopt(self)
        return original(self)

    return start


def _outputs_name_the_served_api_urls(original):
    # A template builds an API's URL from AWS's domain, which nothing answers locally; under
    # `localcloud up` the same API and stage are served at the endpoint, so an output naming
    # an API (what `cdk deploy` prints, `describe-stacks` answers) gives the URL that answers.
    # In-process there is no endpoint: outputs keep AWS's form, which `LocalCloud.http` takes.
    def parse_output(output_logical_id, output_json, resources_map):
        output = original(output_logical_id, output_json, resources_map)
        engine = _active
        if engine is None or not engine.endpoint_url or output is None:
            return output
        if isinstance(output.value, str) and ".execute-api." in output.value:
            served = {api["id"] for api in engine.apis()}
            output.value = apifront.with_local_api_urls(output.value, engine.endpoint_url, served)
        return output

    return parse_output


# Kept for the process, not per engine: each engine (each test) would otherwise parse again.
_model_loaders: dict[str | None, Any] = {}
# Reentrant: with the hook installed twice (a test session's and an engine's), the outer
# wrapper holds the lock while it asks the inner one.
_model_loaders_lock = threading.RLock()


def _one_model_loader_per_search_path(original):
    # moto starts every mock with a fresh default boto3 session, and each session's loader
    # parses again every service model it is asked for (tens of milliseconds of JSON each):
    # while an engine runs, sessions with the same search path share one loader and its cache.
    def create_loader(search_path_string=None):
        with _model_loaders_lock:
            if search_path_string not in _model_loaders:
                _model_loaders[search_path_string] = original(search_path_string)
            return _model_loaders[search_path_string]

    return create_loader


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


#: Also for tests that run handlers on moto without an engine (`tests/conftest.py`).
SHARED_MODEL_LOADER = Hook(
    botocore.session,
    "create_loader",
    _one_model_loader_per_search_path,
    why="Sessions share one model loader instead of parsing models anew",
    parameters=("search_path_string",),
)


def _service_folders_listed_once(original):
    # moto's server lists its own package folder on disk for every request, to tell a service
    # name from a host; the folders do not change while it runs.
    listed: list[tuple[str, ...]] = []

    def list_of_moto_modules():
        if not listed:
            listed.append(tuple(original()))
        return listed[0]

    return list_of_moto_modules


def _method_names_once_per_class(original):
    # Each request's response object asks `inspect.getmembers` for its class's methods; the
    # classes are complete once the engine's hooks are installed, before the first request.
    names: dict[type, list[str]] = {}

    def method_names_from_class(clazz):
        if clazz not in names:
            names[clazz] = original(clazz)
        return names[clazz]

    return method_names_from_class


def _models_untracked(original):
    # moto appends every model object it creates to its class's `instances_tracked` (for its
    # dashboard) and keeps it for the life of the process: under load, every DynamoDB item
    # version, SQS message and log event it ever made. Measured under `localcloud up`, that
    # list was half of the server's growth over 10,000 PubSub orders (48 of 107 MB). S3's
    # objects and uploads stay tracked: moto's reset closes their temporary files through it.
    from moto.s3.models import FakeKey, FakeMultipart

    still_tracked = (FakeKey, FakeMultipart)

    def __new__(cls, *args, **kwargs):  # noqa: N807 - replaces __new__
        if issubclass(cls, still_tracked):
            return original(cls, *args, **kwargs)
        return super(BaseModel, cls).__new__(cls)

    return __new__


def _requests_built_from_their_parts(original):
    # moto makes each botocore request it answers in this process into a werkzeug request with
    # werkzeug's test `EnvironBuilder`, which parses the URL again, copies the headers twice
    # and sniffs the body: about 50 µs of a 1 ms DynamoDB call. The WSGI environment is built
    # here as `localcloud up` builds a handler's request to its endpoint (`local_calls`).
    def from_primitives(cls, method, url, headers, body=None):
        if isinstance(body, AwsChunkedWrapper):
            body = body.read()
        # As moto: the body is whole here, so Transfer-Encoding no longer applies.
        sent = [
            (name, value.decode("utf-8") if isinstance(value, bytes) else value)
            for name, value in headers.items()
            if name.lower() != "transfer-encoding"
        ]
        request = cls(local_calls.wsgi_environ(method, url, sent, body))
        request.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
            environ_key_for_header(name): name
            for name, _ in sent
            if should_preserve_original_header_name(name)
        }
        return request

    return classmethod(from_primitives)


#: Most (picker, object class, member, shape) a response's keys are remembered for: one entry
#: per member of each output shape served, so the bound only stops a runaway.
_KEPT_ALIASES = 16384


def _aliases_found_once(original):
    # moto's serializer looks every member of a response up under each of its possible names
    # (as modelled, snake_case, without its shape's or class's prefix), asking six alias
    # providers for each, on every response: a fifth of a DynamoDB GetItem (py-spy). What
    # those names are depends only on the picker's providers, the member and its shape, and
    # the class of the object read (its `Meta`, its name), so they are worked out once per
    # combination; an object that carries its own `Meta` or answers attributes on the fly is
    # asked as before.
    plain_classes: dict[type, bool] = {}
    names_of: dict[tuple, tuple[str, ...]] = {}

    def __call__(self, context):  # noqa: N807 - replaces __call__
        obj = context.obj
        kind = type(obj)
        plain = plain_classes.get(kind)
        if plain is None:
            # No attribute is made up on the fly: no `__getattr__`, no `__getattribute__` but
            # the built-in one (object's, dict's).
            plain = plain_classes[kind] = not hasattr(kind, "__getattr__") and isinstance(
                inspect.getattr_static(kind, "__getattribute__"), types.WrapperDescriptorType
            )
        if not plain or "Meta" in getattr(obj, "__dict__", ()):
            return original(self, context)
        key = (type(self), tuple(self.alias_providers), kind, context.key, context.shape)
        names = names_of.get(key)
        if names is None:
            names = tuple(self.get_possible_keys(context))
            if len(names_of) < _KEPT_ALIASES:
                names_of[key] = names
        for name in names:
            value = moto_get_value(obj, name, MOTO_MISSING)
            if value is not MOTO_MISSING:
                break
        else:
            value = None
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    return transform(value)
        return value

    return __call__


#: The signature a request answered in this process carries (`_unsigned_when_answered_here`).
UNCHECKED_SIGNATURE = "0" * 64


def _answered_here(url: str) -> bool:
    """Whether a request to `url` from this thread is answered in this process by moto: any
    request under moto's in-process mock, a handler's request to the endpoint under
    `localcloud up`."""
    engine = _active
    if engine is None:
        return False
    if engine.answer_locally is None:
        return botocore_stubber.enabled
    return _chain_answered_locally(engine, url) is not None


def _unsigned_when_answered_here(original):
    # Nothing checks the signature of a request answered in this process: moto reads only its
    # credential scope (the access key names the account; the region and service route it).
    # Computing it (hashing the payload, then four HMACs) was a twelfth of the PubSub
    # subscriber's time under load (py-spy). Such a request gets the headers botocore's SigV4
    # signer gives it, with a signature of zeros. S3's signer (which also hashes the payload
    # into a header S3 checks) and SigV4a are left alone.
    def add_auth(self, request):
        if type(self) is not SigV4Auth or not _answered_here(request.url):
            return original(self, request)
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        self._inject_signature_to_request(request, UNCHECKED_SIGNATURE)
        return None

    return add_auth


HOOKS: tuple[Hook, ...] = (
    SHARED_MODEL_LOADER,
    Hook(
        SigV4Auth,
        "add_auth",
        _unsigned_when_answered_here,
        why="A request moto answers in this process is not signed; nothing checks it",
        parameters=("self", "request"),
    ),
    Hook(
        BaseModel,
        "__new__",
        _models_untracked,
        why="moto's models are not all kept for its dashboard for the life of the process",
        parameters=("cls", "*args", "**kwargs"),
        replaces=True,
    ),
    Hook(
        cfn_parsing,
        "parse_output",
        _outputs_name_the_served_api_urls,
        why="An output naming a served API gives its local URL under `localcloud up`",
        parameters=("output_logical_id", "output_json", "resources_map"),
    ),
    Hook(
        moto.backends,
        "list_of_moto_modules",
        _service_folders_listed_once,
        why="The server's per-request host lookup lists moto's folders once, not per request",
        parameters=(),
    ),
    Hook(
        moto.core.responses,
        "method_names_from_class",
        _method_names_once_per_class,
        why="A response class's method names are read once, not on every request",
        parameters=("clazz",),
    ),
    Hook(
        AttributePicker,
        "__call__",
        _aliases_found_once,
        why="A response member's possible names are worked out once per member, not per response",
        parameters=("self", "context"),
        replaces=True,
    ),
    Hook(
        MotoRequest,
        "from_primitives",
        _requests_built_from_their_parts,
        why="A request answered in this process is built without werkzeug's test builder",
        parameters=("cls", "method", "url", "headers", "body"),
        replaces=True,
    ),
    Hook(
        BotocoreStubber,
        "__call__",
        _handler_calls_answered_in_process,
        why="A handler's SDK call to the endpoint is answered in-process",
        parameters=("self", "event_name", "request", "**kwargs"),
    ),
    Hook(
        threading.Thread,
        "start",
        _handler_threads_join_their_invocation,
        why="An invoke from a thread a handler started runs nested in the handler's invocation",
        parameters=("self",),
    ),
    Hook(
        http.client.HTTPConnection,
        "putrequest",
        _handler_requests_carry_their_chain,
        why="A handler's call to the endpoint runs in its caller's chain",
        parameters=("self", "method", "url", "skip_host", "skip_accept_encoding"),
    ),
)
