"""The `$default` stage of an HTTP API: deployed on every change, throttled, logging every
request as JSON to a log group of its own."""

from __future__ import annotations

import jsii
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from constructs import Construct

from infra.config import AppConfig
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


def logged_default_stage(
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
