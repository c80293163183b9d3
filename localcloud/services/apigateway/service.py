"""REST APIs (API Gateway v1) served by the API front, as API Gateway runs a request.

A REST API is what the template's `AWS::ApiGateway::*` resources declared (the models in
`models.py`, held in moto's API Gateway backend). A request to
`/execute-api/{api_id}/{stage}/...` (or the API's AWS URL) goes through API Gateway's steps in
its order: the stage and the resource (literal, `{param}` and greedy `{proxy+}` path parts,
the method or `ANY`), the method's Lambda authorizer (cached decisions), its API key and usage
plan (throttle, quota) and the stage's throttling, request validation, then the integration
(`integrations.py`). Every refusal is a gateway response, customizable by the API's
`AWS::ApiGateway::GatewayResponse`s; the backend is never called for a refused request. A
stage with an access log setting gets one line per request, in its format, in its log group.

Throttles and the authorizer cache keep time with `clock` (monotonic seconds) and quotas with
`calendar_clock` (epoch seconds): real time, not scaled by the engine's `time_scale`, because
they measure the requests themselves rather than a wait the engine takes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.apigateway.models import apigateway_backends

from localcloud.core import apifront
from localcloud.core.apifront import HttpRequest, HttpResponse
from localcloud.core.service import Service
from localcloud.rules import access_logs
from localcloud.services.apigateway import export
from localcloud.services.apigateway.access import (
    AuthorizerDecision,
    DecisionCache,
    GatewayError,
    Throttles,
    method_arn,
    policy_effect,
)
from localcloud.services.apigateway.call import RestCall, lambda_function_arn, proxy_event
from localcloud.services.apigateway.integrations import (
    integrate,
    render_gateway_response,
    validate_request,
)
from localcloud.services.apigateway.models import MODELS

if TYPE_CHECKING:
    from localcloud.core.service import Core

logger = logging.getLogger("localcloud")

# Each gateway response type API Gateway answers with here: its default status, and the error
# type it names in `x-amzn-ErrorType`.
GATEWAY_RESPONSE_TYPES: dict[str, tuple[int, str]] = {
    "ACCESS_DENIED": (403, "AccessDeniedException"),
    "API_CONFIGURATION_ERROR": (500, "InternalServerErrorException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "AuthorizerConfigurationException"),
    "BAD_REQUEST_BODY": (400, "BadRequestException"),
    "BAD_REQUEST_PARAMETERS": (400, "BadRequestException"),
    "INTEGRATION_TIMEOUT": (504, "InternalServerErrorException"),
    "INVALID_API_KEY": (403, "ForbiddenException"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "MissingAuthenticationTokenException"),
    "QUOTA_EXCEEDED": (429, "LimitExceededException"),
    "REQUEST_TOO_LARGE": (413, "RequestTooLongException"),
    "THROTTLED": (429, "TooManyRequestsException"),
    "UNAUTHORIZED": (401, "UnauthorizedException"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "UnsupportedMediaTypeException"),
    # A failed or malformed Lambda proxy answer (502) has no type of its own: DEFAULT_5XX
    # customizes it.
    "DEFAULT_5XX": (502, "InternalServerErrorException"),
}


class RestApis(Service):
    """REST APIs (API Gateway v1) served by the API front (see the module docstring)."""

    NAME = "apigateway"

    MODELS = MODELS
    HOOKS = export.HOOKS

    def __init__(self, engine: Core) -> None:
        super().__init__(engine)
        self.clock: Callable[[], float] = time.monotonic
        self.calendar_clock: Callable[[], float] = time.time
        # Read through these attributes on each use, so a clock set later applies.
        self.decisions = DecisionCache(lambda: self.clock())
        self.throttles = Throttles(lambda: self.clock(), lambda: self.calendar_clock())

    # -- the service contract -----------------------------------------------------------------

    def apis(self) -> list[dict[str, str]]:
        """Each REST API once per stage: a REST API's URL names its stage."""
        endpoint = self.engine.endpoint_url or ""
        served = []
        for api in self._backend().apis.values():
            base = apifront.local_url(endpoint, api.id)
            for stage in sorted(api.stages) or [""]:
                url = f"{base}{stage}/" if stage else base
                served.append({"id": api.id, "name": api.name, "url": url})
        return served

    def handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse | None:
        api = self._backend().apis.get(api_id)
        if api is None:
            return None
        stage_name, _, rest = request.path.lstrip("/").partition("/")
        stage = api.stages.get(stage_name)
        if stage is None:
            # No stage, no API: API Gateway answers before any of the API's settings apply.
            return apifront.gateway_error(403, "Forbidden")
        call = RestCall(
            api=api,
            stage=stage,
            request=request,
            path="/" + rest,
            request_id=str(uuid.uuid4()),
            started=time.time(),
        )
        try:
            response = self._serve(call)
        except GatewayError as error:
            call.error = error
            response = self.gateway_response(call, error)
        self._log_access(call, response)
        headers = {
            **response.headers,
            "x-amzn-requestid": call.request_id,
            "x-amz-apigw-id": call.request_id[:16],
        }
        return HttpResponse(response.status, headers, response.body)

    # -- the steps of a request ---------------------------------------------------------------

    def _serve(self, call: RestCall) -> HttpResponse:
        if len(call.request.body) > apifront.MAX_BODY_BYTES:
            raise GatewayError("REQUEST_TOO_LARGE", "Request Too Long")
        self._route(call)
        self._authorize(call)
        self._check_api_key_and_throttle(call)
        self._validate(call)
        return integrate(self.engine, call)

    def _route(self, call: RestCall) -> None:
        selected = select_resource(call.api, call.request.method, call.path)
        if selected is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        call.resource, call.method, call.path_parameters = selected

    def _authorize(self, call: RestCall) -> None:
        method = call.method
        authorization = (method.authorization_type or "NONE").upper()
        if authorization == "CUSTOM":
            authorizer = call.api.authorizers.get(method.authorizer_id)
            if authorizer is None:
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", None)
            call.decision = self._decide(call, authorizer)
            arn = self._method_arn(call)
            try:
                effect = policy_effect(call.decision.policy, arn)
            except ValueError as error:
                logger.warning("authorizer %s: %s", authorizer.name, error)
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", None) from None
            if effect == "Deny":
                raise GatewayError(
                    "ACCESS_DENIED",
                    "User is not authorized to access this resource with an explicit deny",
                )
            if effect is None:
                raise GatewayError(
                    "ACCESS_DENIED", "User is not authorized to access this resource"
                )
        elif authorization in ("AWS_IAM", "COGNITO_USER_POOLS") and not call.header(
            "authorization"
        ):
            # Signatures and tokens are not verified locally; a request without one is
            # refused as API Gateway refuses it.
            if authorization == "AWS_IAM":
                raise GatewayError("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
            raise GatewayError("UNAUTHORIZED", "Unauthorized")

    def _method_arn(self, call: RestCall) -> str:
        return method_arn(
            region=self.engine.region,
            account_id=self.engine.account_id,
            api_id=call.api.id,
            stage=call.stage.name,
            method=call.request.method,
            path=call.path,
        )

    def _decide(self, call: RestCall, authorizer: Any) -> AuthorizerDecision:
        kind = (authorizer.type or "TOKEN").upper()
        sources = [s.strip() for s in (authorizer.identity_source or "").split(",") if s.strip()]
        values = [self._identity_value(call, source) for source in sources]
        if kind == "TOKEN":
            token = values[0] if values else None
            if not token:
                raise GatewayError("UNAUTHORIZED", "Unauthorized")
            expression = authorizer.identity_validation_expression
            if expression and not re.fullmatch(expression, token):
                raise GatewayError("UNAUTHORIZED", "Unauthorized")
        elif any(not value for value in values):
            raise GatewayError("UNAUTHORIZED", "Unauthorized")
        ttl = int(
            authorizer.authorizer_result_ttl
            if authorizer.authorizer_result_ttl is not None
            else 300
        )
        identity = tuple(str(value) for value in values)
        cached = self.decisions.get(authorizer.id, identity)
        if cached is not None:
            return cached
        event = self._authorizer_event(call, kind, values)
        function_arn = lambda_function_arn(authorizer.authorizer_uri or "", call.stage_variables)
        try:
            function = self.engine.function(function_arn)
        except Exception:
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", None) from None
        invocation = self.engine.invoke(
            function, event, trigger=f"REST authorizer {authorizer.name}"
        )
        if invocation.error is not None:
            if invocation.error.get("errorMessage") == "Unauthorized":
                raise GatewayError("UNAUTHORIZED", "Unauthorized")
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", None)
        try:
            decision = AuthorizerDecision.from_payload(invocation.payload)
        except ValueError as error:
            logger.warning("authorizer %s: %s", authorizer.name, error)
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", None) from None
        self.decisions.put(authorizer.id, identity, decision, ttl)
        return dataclasses.replace(decision, latency_ms=int(invocation.duration_ms))

    def _identity_value(self, call: RestCall, source: str) -> str | None:
        if source.startswith("context."):
            context = call.context(region=self.engine.region, account_id=self.engine.account_id)
            value = context.get(source.removeprefix("context."))
            return None if value is None else str(value)
        return call.parameter(source)

    def _authorizer_event(self, call: RestCall, kind: str, values: list) -> dict[str, Any]:
        arn = self._method_arn(call)
        if kind == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": values[0], "methodArn": arn}
        event = proxy_event(call, region=self.engine.region, account_id=self.engine.account_id)
        for name in ("body", "isBase64Encoded"):
            event.pop(name, None)
        return {"type": "REQUEST", "methodArn": arn, **event}

    def _check_api_key_and_throttle(self, call: RestCall) -> None:
        if call.method.api_key_required:
            call.api_key = self._api_key(call)
            self._apply_usage_plan(call)
        self._apply_stage_throttle(call)

    def _api_key(self, call: RestCall) -> Any:
        if (call.api.api_key_source or "HEADER").upper() == "AUTHORIZER":
            value = call.decision.usage_identifier_key if call.decision is not None else None
        else:
            value = call.header("x-api-key")
        if not value:
            raise GatewayError("INVALID_API_KEY", "Forbidden")
        for key in self._backend().keys.values():
            if key.value == value and key.enabled:
                return key
        raise GatewayError("INVALID_API_KEY", "Forbidden")

    def _apply_usage_plan(self, call: RestCall) -> None:
        backend = self._backend()
        for plan in backend.usage_plans.values():
            if call.api_key.id not in backend.usage_plan_keys.get(plan.id, {}):
                continue
            for api_stage in plan.api_stages:
                if (
                    api_stage.get("apiId") == call.api.id
                    and api_stage.get("stage") == call.stage.name
                ):
                    self._throttle_by_plan(call, plan, api_stage)
                    return
        # A key that is in no usage plan of this API's stage is refused like an unknown one.
        raise GatewayError("INVALID_API_KEY", "Forbidden")

    def _throttle_by_plan(self, call: RestCall, plan: Any, api_stage: dict[str, Any]) -> None:
        method_key = f"{call.resource_path}/{call.method.http_method}"
        method_throttle = (api_stage.get("throttle") or {}).get(method_key)
        if method_throttle:
            bucket = (plan.id, call.api_key.id, call.api.id, call.stage.name, method_key)
            throttle = method_throttle
        else:
            bucket, throttle = (plan.id, call.api_key.id), plan.throttle or {}
        if not self.throttles.take(
            bucket, rate=throttle.get("rateLimit"), burst=throttle.get("burstLimit")
        ):
            raise GatewayError("THROTTLED", "Too Many Requests")
        quota = plan.quota or {}
        if quota.get("limit") is not None and not self.throttles.count(
            (plan.id, call.api_key.id),
            limit=int(quota["limit"]),
            period=str(quota.get("period", "DAY")).upper(),
            offset=int(quota.get("offset") or 0),
        ):
            raise GatewayError("QUOTA_EXCEEDED", "Limit Exceeded")

    def _apply_stage_throttle(self, call: RestCall) -> None:
        settings = call.stage.method_settings or {}
        path = "" if call.resource_path == "/" else call.resource_path.replace("/", "~1")
        for key in (f"{path}/{call.method.http_method}", f"{path}/*", "*/*"):
            setting = settings.get(key)
            if not setting:
                continue
            rate, burst = setting.get("throttlingRateLimit"), setting.get("throttlingBurstLimit")
            if rate is None and burst is None:
                continue
            # Stage limits apply per method, even when one `*/*` setting covers them all.
            bucket = ("stage", call.api.id, call.stage.name, path, call.method.http_method)
            if not self.throttles.take(
                bucket,
                rate=None if rate is None else float(rate),
                burst=None if burst is None else int(burst),
            ):
                raise GatewayError("THROTTLED", "Too Many Requests")
            return

    def _validate(self, call: RestCall) -> None:
        validator = call.api.request_validators.get(call.method.request_validator_id or "")
        if validator is not None:
            validate_request(call, validator)

    # -- gateway responses --------------------------------------------------------------------

    def gateway_response(self, call: RestCall, error: GatewayError) -> HttpResponse:
        """The answer API Gateway gives for `error`, with the API's customizations applied."""
        default_status, error_type = GATEWAY_RESPONSE_TYPES.get(
            error.response_type, (500, "InternalServerErrorException")
        )
        status = error.status or default_status
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        responses = call.api.gateway_responses
        custom = responses.get(error.response_type) or responses.get(fallback)
        default = responses.get(fallback)
        if custom is not None and custom.status_code:
            status = int(custom.status_code)
        elif default is not None and default.status_code:
            # A status set on DEFAULT_4XX/5XX replaces the status of every type it covers.
            status = int(default.status_code)
        headers = {"content-type": "application/json", "x-amzn-errortype": error_type}
        body = json.dumps({"message": error.message}, separators=(",", ":"))
        if custom is not None:
            extra_headers, body = render_gateway_response(self.engine, call, error, custom, body)
            headers.update(extra_headers)
        return HttpResponse(status, headers, body)

    def _log_access(self, call: RestCall, response: HttpResponse) -> None:
        """One line in the stage's access log group, in the stage's format, if it has one."""
        settings = getattr(call.stage, "access_log_settings", None) or {}
        destination, log_format = settings.get("destinationArn"), settings.get("format")
        if not destination or not log_format:
            return
        group = destination.split(":log-group:", 1)[-1].removesuffix(":*")
        context = call.access_log_context(
            response, region=self.engine.region, account_id=self.engine.account_id
        )
        line = access_logs.render(log_format, context)
        if not self.engine.write_log_events(group, f"{call.api.id}_{call.stage.name}", [line]):
            logger.warning("access log group %s of API %s does not exist", group, call.api.id)

    # -- helpers --------------------------------------------------------------------------

    def _backend(self) -> Any:
        return apigateway_backends[self.engine.account_id][self.engine.region]


# -- routing --------------------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part] if path.strip("/") else []


def _match_resource(resource_path: str, path: str) -> tuple[tuple, dict[str, str]] | None:
    """(specificity rank, path parameters) when `path` is under the resource path, else None."""
    wanted, given = _segments(resource_path), _segments(path)
    parameters: dict[str, str] = {}
    rank: list[int] = []
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            if index != len(wanted) - 1 or len(given) <= index:
                return None
            parameters[part[1:-2]] = "/".join(given[index:])
            rank.append(2)
            return (*rank,), parameters
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = given[index]
            rank.append(1)
        elif part == given[index]:
            rank.append(0)
        else:
            return None
    if len(given) != len(wanted):
        return None
    return (*rank,), parameters


def select_resource(api: Any, method: str, path: str) -> tuple[Any, Any, dict[str, str]] | None:
    """The resource and method API Gateway picks: literal parts before `{param}` before greedy."""
    candidates = []
    for resource in api.resources.values():
        matched = _match_resource(resource.get_path(), path)
        if matched is None:
            continue
        rank, parameters = matched
        found = resource.resource_methods.get(method.upper()) or resource.resource_methods.get(
            "ANY"
        )
        if found is not None:
            candidates.append((rank, resource.id, resource, found, parameters))
    if not candidates:
        return None
    _, _, resource, found, parameters = min(candidates, key=lambda candidate: candidate[:2])
    return resource, found, parameters
