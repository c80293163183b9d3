"""A REST API as the real CDK synthesizes it deploys on localcloud and answers (one synth).

The other REST API tests use hand-written templates shaped like CDK's; this one checks that
shape against `aws_cdk.aws_apigateway` itself: a `RestApi` with a Lambda proxy, a token
authorizer, an API key in a usage plan, a MOCK and an SQS integration, a gateway response, and
the OPTIONS methods of its CORS preflight.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localcloud import LocalCloud
from tests.localcloud.apps import drain

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="CDK synth needs node")

STACK = "RestCdk"
KEY_VALUE = "cdk-rest-api-key-0123456789"

CDK_APP = textwrap.dedent(
    f'''
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigw, aws_iam as iam
    from aws_cdk import aws_lambda as lambda_, aws_sqs as sqs

    BACKEND = """
    import json
    def handler(event, context):
        return {{"statusCode": 200, "body": json.dumps({{
            "resource": event["resource"],
            "pathParameters": event["pathParameters"],
            "principal": (event["requestContext"].get("authorizer") or {{}}).get("principalId"),
        }})}}
    """
    AUTHORIZER = """
    def handler(event, context):
        if event["authorizationToken"] != "letmein":
            raise Exception("Unauthorized")
        return {{"principalId": "cdk-user", "policyDocument": {{"Version": "2012-10-17",
            "Statement": [{{"Action": "execute-api:Invoke", "Effect": "Allow",
                            "Resource": event["methodArn"]}}]}}}}
    """

    app = cdk.App()
    stack = cdk.Stack(app, "{STACK}")
    runtime = lambda_.Runtime.PYTHON_3_13
    backend = lambda_.Function(stack, "Backend", runtime=runtime, handler="index.handler",
                               code=lambda_.Code.from_inline(BACKEND))
    auth = lambda_.Function(stack, "Auth", runtime=runtime, handler="index.handler",
                            code=lambda_.Code.from_inline(AUTHORIZER))
    api = apigw.RestApi(stack, "Api", default_cors_preflight_options=apigw.CorsOptions(
        allow_origins=["https://a.example", "https://b.example"], allow_methods=["GET", "POST"]))
    items = api.root.add_resource("items").add_resource("{{id}}")
    items.add_method("GET", apigw.LambdaIntegration(backend))
    secure = api.root.add_resource("secure")
    secure.add_method("GET", apigw.LambdaIntegration(backend),
                      authorizer=apigw.TokenAuthorizer(stack, "TokenAuth", handler=auth))
    keyed = api.root.add_resource("keyed")
    keyed.add_method("GET", apigw.LambdaIntegration(backend), api_key_required=True)
    plan = api.add_usage_plan("Plan", throttle=apigw.ThrottleSettings(rate_limit=10, burst_limit=5))
    plan.add_api_key(api.add_api_key("Key", value="{KEY_VALUE}"))
    plan.add_api_stage(stage=api.deployment_stage)
    api.root.add_resource("health").add_method(
        "GET",
        apigw.MockIntegration(
            request_templates={{"application/json": '{{"statusCode": 200}}'}},
            integration_responses=[apigw.IntegrationResponse(
                status_code="200", response_templates={{"application/json": '{{"ok": true}}'}})],
        ),
        method_responses=[apigw.MethodResponse(status_code="200")],
    )
    queue = sqs.Queue(stack, "Queue")
    role = iam.Role(stack, "ApiRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
    queue.grant_send_messages(role)
    api.root.add_resource("messages").add_method(
        "POST",
        apigw.AwsIntegration(
            service="sqs",
            path=f"{{stack.account}}/{{queue.queue_name}}",
            integration_http_method="POST",
            options=apigw.IntegrationOptions(
                credentials_role=role,
                request_parameters={{
                    "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
                }},
                request_templates={{
                    "application/json":
                        "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
                }},
                integration_responses=[apigw.IntegrationResponse(status_code="200")],
            ),
        ),
        method_responses=[apigw.MethodResponse(status_code="200")],
    )
    api.add_gateway_response("Unauthorized", type=apigw.ResponseType.UNAUTHORIZED,
                             status_code="401", templates={{
                                 "application/json": '{{"why": $context.error.messageString}}'}})
    cdk.CfnOutput(stack, "QueueUrl", value=queue.queue_url)
    app.synth()
    '''
)


@pytest.fixture(scope="module")
def cdk_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rest-cdk")
    (folder / "app.py").write_text(CDK_APP)
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(folder / "cdk.out"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    subprocess.run(
        [sys.executable, "app.py"], cwd=folder, env=environment, check=True, capture_output=True
    )
    return folder / "cdk.out"


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
