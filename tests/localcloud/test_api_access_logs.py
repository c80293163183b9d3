"""API Gateway access logs on localcloud: one line per request, in the stage's format, in the
stage's log group."""

from __future__ import annotations

import json
from typing import Any

from localcloud.testing import App, get_att
from tests.localcloud.apps import API

HTTP_API_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationRequestId": "$context.integration.requestId",
        "integrationErrorMessage": "$context.integrationErrorMessage",
        "errorMessage": "$context.error.message",
    }
)


def _http_api_app() -> App:
    app = App()
    app.function("Handler", API)
    api = app.http_api("Api", "Handler", ["GET /items/{id}", "GET /boom"])
    app.add("ApiAccessLogs", "AWS::Logs::LogGroup", {"LogGroupName": "/shop/api-access"})
    app.resources[f"{api}DefaultStage"]["Properties"]["AccessLogSettings"] = {
        "DestinationArn": get_att("ApiAccessLogs"),
        "Format": HTTP_API_FORMAT,
    }
    return app


def _access_lines(cloud: Any, group: str) -> list[dict[str, str]]:
    events = cloud.client("logs").filter_log_events(logGroupName=group)["events"]
    return [json.loads(event["message"]) for event in events]


def test_an_http_api_stage_writes_one_access_log_line_per_request(launch):
    cloud = launch(_http_api_app())
    url = cloud.outputs("Stack")["ApiUrl"]

    found = cloud.http("GET", f"{url}items/7", headers={"user-agent": "tests"})
    failed = cloud.http("GET", f"{url}boom")
    missing = cloud.http("GET", f"{url}nowhere")

    ok_line, failed_line, missing_line = _access_lines(cloud, "/shop/api-access")
    [ok_invocation, failed_invocation] = cloud.invocations
    assert ok_line == {
        "requestId": found.headers["apigw-requestid"],
        "ip": "127.0.0.1",
        "requestTime": ok_line["requestTime"],
        "httpMethod": "GET",
        "routeKey": "GET /items/{id}",
        "status": "200",
        "protocol": "HTTP/1.1",
        "responseLength": str(len(found.content)),
        "integrationRequestId": ok_invocation.request_id,
        "integrationErrorMessage": "-",
        "errorMessage": "-",
    }
    assert (failed_line["status"], failed_line["routeKey"]) == ("500", "GET /boom")
    assert failed_line["requestId"] == failed.headers["apigw-requestid"]
    assert failed_line["integrationRequestId"] == failed_invocation.request_id
    assert "Lambda function returned the following error" in failed_line["integrationErrorMessage"]
    assert failed_line["errorMessage"] == "Internal Server Error"
    assert (missing_line["status"], missing_line["routeKey"]) == ("404", "-")
    assert missing_line["errorMessage"] == "Not Found"
    assert missing.status == 404


def test_an_http_api_stage_reports_its_access_log_settings_as_the_api_does(launch):
    cloud = launch(_http_api_app())
    api_id = cloud.outputs("Stack")["ApiUrl"].split("//")[1].split(".")[0]

    stages = cloud.client("apigatewayv2").get_stages(ApiId=api_id)["Items"]

    [settings] = [stage["AccessLogSettings"] for stage in stages]
    assert settings["Format"] == HTTP_API_FORMAT
    assert ":log-group:/shop/api-access" in settings["DestinationArn"]
