"""A REST API under `localcloud up`: deployed through the endpoint, then called over HTTP at its
local URL and at its AWS-shaped URL, and listed by the `apis` control."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from localcloud.server import LocalCloudServer
from localcloud.testing import App
from tests.localcloud.rest_apps import REST_BACKEND, RestApiBuilder
from tests.localcloud.servers import REGION, client, deploy_over_endpoint


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudServer, str]]:
    """A server with GET /items/{id} (a Lambda proxy echoing its event) deployed; the API id."""
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    api.method("/items/{id}", "GET", api.lambda_proxy(backend))
    api.finish()
    assembly = app.write(tmp_path_factory.mktemp("rest-server") / "cdk.out")
    with LocalCloudServer(port=0, region=REGION, background=False) as server:
        deploy_over_endpoint(server, assembly, app.stack_name)
        outputs = client(server, "cloudformation").describe_stacks(StackName=app.stack_name)
        api_id = next(
            output["OutputValue"]
            for output in outputs["Stacks"][0]["Outputs"]
            if output["OutputKey"] == "ApiId"
        )
        yield server, api_id


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_apis_control_lists_the_rest_api_with_its_stage_url(served):
    server, api_id = served

    status, _, body = _get(f"{server.endpoint_url}/_localcloud/apis")

    assert status == 200
    assert {
        "id": api_id,
        "name": "Api",
        "url": f"{server.endpoint_url}/execute-api/{api_id}/prod/",
    } in json.loads(body)


def test_the_local_url_runs_the_method_with_the_stage_in_the_request_context(served):
    server, api_id = served

    status, headers, body = _get(
        f"{server.endpoint_url}/execute-api/{api_id}/prod/items/7?colour=teal",
        headers={"X-Trace": "t-1"},
    )

    assert status == 200, body
    event = json.loads(body)
    assert (event["resource"], event["path"]) == ("/items/{id}", "/items/7")
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"colour": "teal"}
    # Header names reach a REST API's function as the client wrote them.
    assert event["headers"]["X-Trace"] == "t-1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t-1"]
    # The Host the client sent (the endpoint's) is replaced by the API's domain, as on AWS.
    assert event["headers"]["Host"] == f"{api_id}.execute-api.{REGION}.amazonaws.com"
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["apiId"]) == (
        "prod",
        "/prod/items/7",
        api_id,
    )
    assert context["domainName"] == f"{api_id}.execute-api.{REGION}.amazonaws.com"
    assert headers["x-amzn-requestid"] == context["requestId"]


def test_the_aws_shaped_url_reaches_the_same_api(served):
    server, api_id = served

    # The request goes to the endpoint with the Host an AWS URL of the API names.
    status, _, body = _get(
        f"{server.endpoint_url}/prod/items/8",
        headers={"Host": f"{api_id}.execute-api.{REGION}.amazonaws.com"},
    )

    assert status == 200, body
    assert json.loads(body)["pathParameters"] == {"id": "8"}


def test_an_unknown_resource_over_http_is_api_gateways_403(served):
    server, api_id = served

    status, headers, body = _get(f"{server.endpoint_url}/execute-api/{api_id}/prod/nowhere")

    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_a_percent_encoded_path_reaches_the_method_encoded_as_in_process(served):
    server, api_id = served

    status, _, body = _get(f"{server.endpoint_url}/execute-api/{api_id}/prod/items/a%20b%2Fc")

    assert status == 200, body
    event = json.loads(body)
    assert (event["path"], event["pathParameters"]) == ("/items/a%20b%2Fc", {"id": "a%20b%2Fc"})


def test_the_api_url_output_is_the_local_url_of_its_stage(served):
    server, api_id = served
    stack = client(server, "cloudformation").describe_stacks(StackName=App.stack_name)

    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0]["Outputs"]}

    assert outputs["ApiUrl"] == f"{server.endpoint_url}/execute-api/{api_id}/prod/"
    status, _, body = _get(f"{outputs['ApiUrl']}items/9")
    assert status == 200, body
    assert json.loads(body)["pathParameters"] == {"id": "9"}
