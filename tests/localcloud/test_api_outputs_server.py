"""Under `localcloud up`, a stack output that names an HTTP API gives the URL the endpoint serves
it at; what names nothing served keeps its value."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from localcloud.server import LocalCloudServer
from localcloud.testing import App
from tests.localcloud.apps import API
from tests.localcloud.servers import REGION, client, deploy_over_endpoint

# A URL of an API in some real account: not served here, so never rewritten.
ELSEWHERE = "https://zzz999.execute-api.eu-west-1.amazonaws.com/prod/"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudServer, dict]]:
    app = App()
    handler = app.function("Handler", API, environment={"COLOUR": "green"})
    app.http_api("HttpApi", handler, ["GET /items/{id}"])
    app.output("Elsewhere", ELSEWHERE)
    assembly = app.write(tmp_path_factory.mktemp("api-outputs") / "cdk.out")
    with LocalCloudServer(port=0, region=REGION, background=False) as server:
        deploy_over_endpoint(server, assembly, app.stack_name)
        stack = client(server, "cloudformation").describe_stacks(StackName=app.stack_name)
        yield server, {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0]["Outputs"]}


def test_the_http_api_outputs_are_its_local_url_and_endpoint(outputs):
    server, values = outputs
    api_id = values["ApiUrl"].rstrip("/").rsplit("/", 1)[1]

    assert values["ApiUrl"] == f"{server.endpoint_url}/execute-api/{api_id}/"
    assert values["ApiEndpoint"] == f"{server.endpoint_url}/execute-api/{api_id}"
    with urllib.request.urlopen(f"{values['ApiUrl']}items/4", timeout=30) as answer:
        assert answer.status == 200
        assert json.loads(answer.read())["pathParameters"] == {"id": "4"}


def test_outputs_naming_no_served_api_keep_their_value(outputs):
    _, values = outputs

    assert values["Elsewhere"] == ELSEWHERE
    assert values["HandlerName"].startswith("Stack-Handler")
