"""A REST API as the real CDK synthesizes it deploys on localcloud and answers (one synth).

The other REST API tests use hand-written templates shaped like CDK's; this one checks that
shape against `aws_cdk.aws_apigateway` itself (`cdk_apps.synth_rest_api`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localcloud import LocalCloud
from tests.localcloud.apps import drain
from tests.localcloud.cdk_apps import REST_API_KEY as KEY_VALUE
from tests.localcloud.cdk_apps import REST_STACK as STACK
from tests.localcloud.cdk_apps import synth_rest_api

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="CDK synth needs node")


@pytest.fixture(scope="module")
def cdk_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_rest_api(tmp_path_factory.mktemp("rest-cdk") / "cdk.out")


@pytest.fixture
def cloud(cdk_assembly: Path):
    with LocalCloud(cdk_assembly) as running:
        running.deploy(STACK)
        yield running


def _api_url(cloud: LocalCloud) -> str:
    return next(v for k, v in cloud.outputs(STACK).items() if k.startswith("ApiEndpoint"))


def test_the_synthesized_rest_api_deploys_with_its_methods(cloud):
    apis = cloud.client("apigateway").get_rest_apis()["items"]

    [api] = apis
    paths = {
        r["path"] for r in cloud.client("apigateway").get_resources(restApiId=api["id"])["items"]
    }
    assert {"/items/{id}", "/secure", "/keyed", "/health", "/messages"} <= paths
    assert _api_url(cloud).endswith(f"{api['id']}.execute-api.eu-west-1.amazonaws.com/prod/")


def test_the_synthesized_routes_answer_as_api_gateway_would(cloud):
    url = _api_url(cloud)

    item = cloud.http("GET", url + "items/7")
    refused = cloud.http("GET", url + "secure", headers={"Authorization": "guess"})
    secure = cloud.http("GET", url + "secure", headers={"Authorization": "letmein"})
    no_key = cloud.http("GET", url + "keyed")
    keyed = cloud.http("GET", url + "keyed", headers={"x-api-key": KEY_VALUE})
    health = cloud.http("GET", url + "health")
    sent = cloud.http(
        "POST", url + "messages", body='{"n": 1}', headers={"Content-Type": "application/json"}
    )

    assert (item.status, item.json()["pathParameters"]) == (200, {"id": "7"})
    assert (refused.status, refused.json()) == (401, {"why": "Unauthorized"})
    assert (secure.status, secure.json()["principal"]) == (200, "cdk-user")
    assert (no_key.status, keyed.status) == (403, 200)
    assert (health.status, health.json()) == (200, {"ok": True})
    assert sent.status == 200
    [message] = drain(cloud, cloud.outputs(STACK)["QueueUrl"])
    assert message["Body"] == '{"n": 1}'


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://b.example", "https://b.example"),
        ("https://a.example", "https://a.example"),
        ("https://elsewhere.example", "https://a.example"),
        (None, "https://a.example"),
    ],
    ids=["second-origin", "first-origin", "unlisted-origin", "no-origin"],
)
def test_the_cors_preflight_answers_from_its_mock_methods(cloud, origin, allowed):
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"} if origin else {}

    response = cloud.http("OPTIONS", _api_url(cloud) + "items/7", headers=headers)

    # CDK's OPTIONS method: MOCK `{ statusCode: 200 }` -> 204 with the CORS headers; with
    # several origins its response template echoes a listed Origin, else names the first.
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == allowed
    assert response.headers["access-control-allow-methods"] == "GET,POST"
    assert "X-Api-Key" in response.headers["access-control-allow-headers"].split(",")
    assert response.headers["vary"] == "Origin"
    assert cloud.invocations == []
