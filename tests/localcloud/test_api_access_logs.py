"""API Gateway access logs on localcloud: one line per request, in the stage's format, in the
stage's log group."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from localcloud.testing import App, get_att
from tests.localcloud.apps import API
from tests.localcloud.rest_apps import REST_BACKEND, RestApiBuilder

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


# Answers /declined with its own 500 and /malformed with what API Gateway cannot map.
ANSWERS = textwrap.dedent(
    """
    import json


    def handler(event, context):
        if event["rawPath"] == "/declined":
            return {"statusCode": 500, "body": json.dumps({"message": "declined"})}
        return {"statusCode": "not a number"}
    """
)


def _http_api_app(
    handler: str = API, routes: tuple[str, ...] = ("GET /items/{id}", "GET /boom")
) -> App:
    app = App()
    app.function("Handler", handler)
    api = app.http_api("Api", "Handler", list(routes))
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


def test_an_http_api_access_log_tells_a_malformed_answer_from_the_functions_own_500(launch):
    cloud = launch(_http_api_app(ANSWERS, ("GET /declined", "GET /malformed")))
    url = cloud.outputs("Stack")["ApiUrl"]

    declined = cloud.http("GET", f"{url}declined")
    malformed = cloud.http("GET", f"{url}malformed")

    declined_line, malformed_line = _access_lines(cloud, "/shop/api-access")
    assert (declined.status, malformed.status) == (500, 500)
    assert (declined_line["integrationErrorMessage"], declined_line["errorMessage"]) == ("-", "-")
    assert "doesn't match the format" in malformed_line["integrationErrorMessage"]
    assert malformed_line["errorMessage"] == "Internal Server Error"


def test_an_http_api_stage_reports_its_access_log_settings_as_the_api_does(launch):
    cloud = launch(_http_api_app())
    api_id = cloud.outputs("Stack")["ApiUrl"].split("//")[1].split(".")[0]

    stages = cloud.client("apigatewayv2").get_stages(ApiId=api_id)["Items"]

    [settings] = [stage["AccessLogSettings"] for stage in stages]
    assert settings["Format"] == HTTP_API_FORMAT
    assert ":log-group:/shop/api-access" in settings["DestinationArn"]


# CDK's AccessLogFormat.jsonWithStandardFields(), plus the error fields.
REST_API_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "user": "$context.identity.user",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationRequestId": "$context.integration.requestId",
        "errorType": "$context.error.responseType",
    }
)


def _rest_api_app() -> App:
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    api.method("/items", "POST", api.lambda_proxy(backend))
    api.finish()
    app.add("ApiAccessLogs", "AWS::Logs::LogGroup", {"LogGroupName": "/shop/rest-access"})
    app.resources[api.stage]["Properties"]["AccessLogSetting"] = {
        "DestinationArn": get_att("ApiAccessLogs"),
        "Format": REST_API_FORMAT,
    }
    return app


def test_a_rest_api_stage_writes_one_access_log_line_per_request(launch):
    cloud = launch(_rest_api_app())
    url = cloud.outputs("Stack")["ApiUrl"]

    created = cloud.http("POST", f"{url}items", body="{}")
    failed = cloud.http("POST", f"{url}items", body='{"fail": true}')
    missing = cloud.http("GET", f"{url}nowhere")

    ok_line, failed_line, missing_line = _access_lines(cloud, "/shop/rest-access")
    [ok_invocation, failed_invocation] = cloud.invocations
    assert ok_line == {
        "requestId": created.headers["x-amzn-requestid"],
        "ip": "127.0.0.1",
        "user": "-",
        "requestTime": ok_line["requestTime"],
        "httpMethod": "POST",
        "resourcePath": "/items",
        "status": "200",
        "protocol": "HTTP/1.1",
        "responseLength": str(len(created.content)),
        "integrationRequestId": ok_invocation.request_id,
        "errorType": "-",
    }
    assert (failed_line["status"], failed_line["errorType"]) == ("502", "DEFAULT_5XX")
    assert failed_line["integrationRequestId"] == failed_invocation.request_id
    assert failed_line["requestId"] == failed.headers["x-amzn-requestid"]
    assert (missing_line["status"], missing_line["errorType"]) == (
        "403",
        "MISSING_AUTHENTICATION_TOKEN",
    )
    assert missing.status == 403


def test_a_rest_api_stage_reports_its_access_log_setting_as_the_api_does(launch):
    cloud = launch(_rest_api_app())

    stage = cloud.client("apigateway").get_stage(
        restApiId=cloud.outputs("Stack")["ApiId"], stageName="prod"
    )

    assert stage["accessLogSettings"]["format"] == REST_API_FORMAT
    assert ":log-group:/shop/rest-access" in stage["accessLogSettings"]["destinationArn"]
