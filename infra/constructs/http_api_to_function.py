"""An HTTP API in front of one function: its routes, a throttled `$default` stage logging
every request as JSON, 405 for another method on a known path, and an alarm on any 5xx."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import jsii
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import AppConfig
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.log_group import StageLogGroup


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    """Access log settings for an HTTP stage (an interface in jsii, so it needs a class)."""

    def __init__(
        self, destination: apigw.IAccessLogDestination, log_format: apigw_v1.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return self._format


@dataclass(frozen=True)
class HttpApiToFunction:
    """What `add_http_api_to_function` built."""

    api: apigw.HttpApi
    stage: apigw.HttpStage
    access_log_group: StageLogGroup

    @property
    def url(self) -> str:
        """The invoke URL of the `$default` stage."""
        return self.stage.url


def add_http_api_to_function(
    scope: Construct,
    *,
    config: AppConfig,
    alarms: AlarmTopic,
    function: lambda_.IFunction,
    routes: Iterable[tuple[str, str]],
    description: str,
    server_error_alarm_description: str,
    public_because: str,
    rate_limit: float,
    burst_limit: int,
) -> HttpApiToFunction:
    """An HTTP API whose `routes` (method, path) all reach `function`, added to `scope` as
    `HttpApi`, `DefaultStage`, `AccessLogs` and `ServerErrorsAlarm` (ids a deployed stack keeps,
    so nothing is replaced).

    Defaults:
    - the `$default` stage, auto-deployed, throttled to `rate_limit` requests per second with
      bursts of `burst_limit`, one JSON line per request (request id, time, method, path,
      protocol, source IP, status, response length) in a `StageLogGroup`;
    - another method on a path of `routes` reaches the function too, which answers 405 with
      the path's `Allow` (RFC 9110) instead of API Gateway's 404 (API Gateway prefers a
      method's own route over `ANY`); an unknown path is a 404 without invoking Lambda;
    - an alarm on any 5xx;
    - no authorizer: cdk-nag's APIG4 is acknowledged with `public_because`, which must say
      why the API may be open and what to put in front of it.
    """
    routes = tuple(routes)
    api = apigw.HttpApi(scope, "HttpApi", description=description, create_default_stage=False)
    stage, access_log_group = _logged_default_stage(
        scope, config=config, http_api=api, rate_limit=rate_limit, burst_limit=burst_limit
    )
    Validations.of(api).acknowledge(
        Acknowledgment(id="AwsSolutions::AwsSolutions-APIG4", reason=public_because)
    )
    integration = integrations.HttpLambdaIntegration("Handler", function)
    for method, path in routes:
        api.add_routes(path=path, methods=[apigw.HttpMethod(method)], integration=integration)
    for path in dict.fromkeys(path for _, path in routes):
        api.add_routes(path=path, methods=[apigw.HttpMethod.ANY], integration=integration)
    alarms.alarm_on(
        scope,
        "ServerErrorsAlarm",
        metric=api.metric_server_error(),
        description=server_error_alarm_description,
    )
    return HttpApiToFunction(api=api, stage=stage, access_log_group=access_log_group)


def _logged_default_stage(
    scope: Construct,
    *,
    config: AppConfig,
    http_api: apigw.HttpApi,
    rate_limit: float,
    burst_limit: int,
) -> tuple[apigw.HttpStage, StageLogGroup]:
    """`http_api`'s `$default` stage and its access log group, added to `scope` as
    `DefaultStage` and `AccessLogs` (ids a deployed stack keeps, so its stage and log group are
    not replaced).

    Defaults: auto-deployed; throttled to `rate_limit` requests per second with bursts of
    `burst_limit`; one JSON line per request (request id, time, method, path, protocol, source
    IP, status, response length), in a `StageLogGroup` (the stage's retention).
    """
    access_log_group = StageLogGroup(scope, "AccessLogs", config=config)
    stage = apigw.HttpStage(
        scope,
        "DefaultStage",
        http_api=http_api,
        stage_name="$default",
        auto_deploy=True,
        throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
        access_log_settings=_AccessLogSettings(
            apigw.LogGroupLogDestination(access_log_group),
            apigw_v1.AccessLogFormat.json_with_standard_fields(
                caller=False,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=False,
            ),
        ),
    )
    return stage, access_log_group
