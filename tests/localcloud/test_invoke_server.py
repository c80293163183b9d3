"""Functions and APIs under `localcloud up`, over real HTTP.

A handler's calls to the endpoint (a synchronous Lambda invoke through the AWS SDK, an API
through a plain HTTP client) come back over HTTP while the handler's own invocation is still
running: what they invoke runs nested, as the caller waits for it. An API's binary answer
reaches its client byte for byte."""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from collections.abc import Iterator

import boto3
import pytest

from localcloud.server import LocalCloudServer

REGION = "eu-west-1"

# Each function calls the next one synchronously (NEXT names it) and wraps its answer.
CALLER = """
import json
import os

import boto3


def handler(event, context):
    callee = os.environ.get("NEXT")
    if not callee:
        return {"path": [context.function_name], "n": event["n"]}
    answer = boto3.client("lambda").invoke(FunctionName=callee, Payload=json.dumps(event))
    result = json.loads(answer["Payload"].read())
    return {"path": [context.function_name, *result["path"]], "n": result["n"] + 1}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalCloudServer]:
    with LocalCloudServer(port=0, region=REGION, time_scale=0.01) as running:
        yield running


def _client(server: LocalCloudServer, service: str):
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",
    )


def _function(server: LocalCloudServer, name: str, source: str, **settings) -> str:
    """A function running `source`; a short timeout, so a wait for the runner would show."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr(f"{name}.py", source)
    role = _client(server, "iam").create_role(
        RoleName=f"role-{name}", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    return _client(server, "lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler=f"{name}.handler",
        Code={"ZipFile": code.getvalue()},
        Timeout=5,
        **settings,
    )["FunctionArn"]


def _create_chain(server: LocalCloudServer, names: list[str]) -> None:
    """Functions `names[0]` -> `names[1]` -> ..., each calling the next synchronously."""
    for name, callee in zip(names, [*names[1:], None], strict=True):
        variables = {"NEXT": callee} if callee else {}
        _function(server, name, CALLER, Environment={"Variables": variables})


def test_a_handler_invoking_another_function_synchronously_gets_its_answer(server):
    _create_chain(server, ["front", "back"])

    answer = _client(server, "lambda").invoke(FunctionName="front", Payload='{"n": 1}')

    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"path": ["front", "back"], "n": 2}


def test_synchronous_invokes_nest_several_levels_deep(server):
    _create_chain(server, ["edge", "middle", "core"])

    answer = _client(server, "lambda").invoke(FunctionName="edge", Payload='{"n": 0}')

    assert json.loads(answer["Payload"].read()) == {"path": ["edge", "middle", "core"], "n": 2}
    invoked = [i["function"] for i in json.loads(_control(server, "invocations"))]
    # Inner invocations end first: each is recorded when it returns.
    assert invoked[-3:] == ["core", "middle", "edge"]


def _control(server: LocalCloudServer, action: str) -> str:
    with urllib.request.urlopen(f"{server.endpoint_url}/_localcloud/{action}") as response:
        return response.read().decode()


# Calls the API at API_URL with a plain HTTP client and returns what it answered.
API_CALLER = """
import json
import os
import urllib.request


def handler(event, context):
    with urllib.request.urlopen(os.environ["API_URL"] + "hello") as answer:
        return {"status": answer.status, "body": json.loads(answer.read())}
"""

API_BACKEND = """
import base64

IMAGE = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0xFE])


def handler(event, context):
    if event["rawPath"] == "/image":
        return {
            "statusCode": 200,
            "headers": {"content-type": "image/png"},
            "isBase64Encoded": True,
            "body": base64.b64encode(IMAGE).decode(),
        }
    return {"statusCode": 200, "body": '{"route": "%s"}' % event["routeKey"]}
"""


@pytest.fixture(scope="module")
def api_url(server: LocalCloudServer) -> str:
    """An HTTP API with GET /hello and GET /image (a PNG, base64 in the proxy answer)."""
    backend = _function(server, "api_backend", API_BACKEND)
    apis = _client(server, "apigatewayv2")
    api_id = apis.create_api(Name="hello", ProtocolType="HTTP")["ApiId"]
    integration = apis.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=backend,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    for route_key in ("GET /hello", "GET /image"):
        apis.create_route(ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration}")
    apis.create_stage(ApiId=api_id, StageName="$default")
    return f"{server.endpoint_url}/execute-api/{api_id}/"


def test_a_handler_calling_an_api_of_the_endpoint_over_plain_http_gets_its_answer(server, api_url):
    _function(server, "api_caller", API_CALLER, Environment={"Variables": {"API_URL": api_url}})

    answer = _client(server, "lambda").invoke(FunctionName="api_caller", Payload="{}")

    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {
        "status": 200,
        "body": {"route": "GET /hello"},
    }


def test_a_binary_answer_reaches_the_client_byte_for_byte(api_url):
    with urllib.request.urlopen(api_url + "image") as answer:
        assert answer.headers["content-type"] == "image/png"
        assert answer.read() == bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 255, 254])
