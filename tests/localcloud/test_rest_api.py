"""REST APIs (API Gateway v1) on localcloud: deploy, routing, the proxy event and answers."""

from __future__ import annotations

import json

import pytest

from localcloud.core.apifront import local_url
from localcloud.core.assembly import load_assembly
from localcloud.services.apigateway.service import RestApis
from localcloud.testing import App, ref
from tests.localcloud.rest_apps import REST_BACKEND, RestApiBuilder


def _proxy_app(*, timeout_ms: int | None = None, **api_options) -> App:
    """Backend behind GET /items, GET /items/{id}, ANY /files/{proxy+} and POST /items."""
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app, **api_options)
    integration = api.lambda_proxy(backend, timeout_ms=timeout_ms)
    api.method("/items", "GET", integration)
    api.method("/items", "POST", integration)
    api.method("/items/{id}", "GET", integration)
    api.method("/items/special", "GET", integration)
    api.method("/files/{proxy+}", "ANY", integration)
    api.finish()
    return app


def _event(response) -> dict:
    assert response.status == 200, response.body
    return response.json()


def test_a_cdk_shaped_rest_api_deploys_and_moto_answers_for_it(launch):
    cloud = launch(_proxy_app())
    api_id = cloud.outputs("Stack")["ApiId"]
    apigateway = cloud.client("apigateway")

    # THEN the deployment did not fail for want of methods, and the API is in API Gateway
    assert [api["id"] for api in apigateway.get_rest_apis()["items"]] == [api_id]
    paths = {item["path"] for item in apigateway.get_resources(restApiId=api_id)["items"]}
    assert paths == {"/", "/items", "/items/{id}", "/items/special", "/files", "/files/{proxy+}"}
    assert [stage["stageName"] for stage in apigateway.get_stages(restApiId=api_id)["item"]] == [
        "prod"
    ]
    assert cloud.outputs("Stack")["ApiUrl"].endswith(
        f"{api_id}.execute-api.eu-west-1.amazonaws.com/prod/"
    )
    assert {
        "id": api_id,
        "name": "Api",
        "url": f"/execute-api/{api_id}/prod/",
    } in cloud.engine.apis()


def test_redeploying_a_changed_api_keeps_its_url_and_serves_the_new_methods(launch, tmp_path):
    cloud = launch(_proxy_app())
    url = cloud.outputs("Stack")["ApiUrl"]
    # WHEN the API changes: GET /orders added, /items/{id} removed
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    api.method("/items", "GET", api.lambda_proxy(backend))
    api.method("/orders", "GET", api.lambda_proxy(backend))
    api.finish()

    cloud.stacks = load_assembly(app.write(tmp_path / "cdk.out.2"))
    cloud.deploy("Stack")

    assert cloud.outputs("Stack")["ApiUrl"] == url
    assert cloud.http("GET", url + "orders").status == 200
    assert cloud.http("GET", url + "items").status == 200
    assert cloud.http("GET", url + "items/7").status == 403


def test_the_proxy_event_has_the_v1_fields(launch):
    cloud = launch(_proxy_app())
    url = cloud.outputs("Stack")["ApiUrl"]

    api_id = cloud.outputs("Stack")["ApiId"]
    event = _event(
        cloud.http(
            "POST",
            url + "items?tag=a&tag=b&one=1",
            body='{"name": "x"}',
            headers={"Content-Type": "application/json", "User-Agent": "tests/1.0"},
        )
    )

    assert event["resource"] == "/items"
    assert event["path"] == "/items"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["multiValueHeaders"]["User-Agent"] == ["tests/1.0"]
    # API Gateway names the API's domain as Host and adds its front end's X-Forwarded-* headers.
    assert event["headers"]["Host"] == f"{api_id}.execute-api.eu-west-1.amazonaws.com"
    assert (
        event["headers"]["X-Forwarded-For"],
        event["headers"]["X-Forwarded-Port"],
        event["headers"]["X-Forwarded-Proto"],
    ) == ("127.0.0.1", "443", "https")
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["https"]
    assert event["queryStringParameters"] == {"tag": "b", "one": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "one": ["1"]}
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert (event["body"], event["isBase64Encoded"]) == ('{"name": "x"}', False)
    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == api_id
    assert context["resourcePath"] == "/items"
    assert context["httpMethod"] == "POST"
    assert context["stage"] == "prod"
    assert context["path"] == "/prod/items"
    assert context["protocol"] == "HTTP/1.1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "tests/1.0"
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["requestId"]
    resources = cloud.client("apigateway").get_resources(restApiId=api_id)["items"]
    assert context["resourceId"] == next(r["id"] for r in resources if r["path"] == "/items")


def test_path_parameters_prefer_literal_parts_then_parameters_then_greedy(launch):
    cloud = launch(_proxy_app())
    url = cloud.outputs("Stack")["ApiUrl"]

    special = _event(cloud.http("GET", url + "items/special"))
    by_id = _event(cloud.http("GET", url + "items/42"))
    greedy = _event(cloud.http("DELETE", url + "files/a/b/c.txt"))

    assert (special["resource"], special["pathParameters"]) == ("/items/special", None)
    assert (by_id["resource"], by_id["pathParameters"]) == ("/items/{id}", {"id": "42"})
    assert (greedy["resource"], greedy["pathParameters"]) == (
        "/files/{proxy+}",
        {"proxy": "a/b/c.txt"},
    )
    assert greedy["httpMethod"] == "DELETE"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "nowhere"), ("DELETE", "items"), ("GET", "items/1/2"), ("GET", "files")],
    ids=["unknown-resource", "method-not-defined", "too-deep", "greedy-needs-a-part"],
)
def test_an_unknown_resource_or_method_is_403_missing_authentication_token(launch, method, path):
    cloud = launch(_proxy_app())

    response = cloud.http(method, cloud.outputs("Stack")["ApiUrl"] + path)

    assert (response.status, response.json()) == (403, {"message": "Missing Authentication Token"})
    assert cloud.invocations == []


def test_a_stage_that_does_not_exist_is_forbidden(launch):
    cloud = launch(_proxy_app())
    api_id = cloud.outputs("Stack")["ApiId"]

    # The in-process cloud serves no port: a local URL's host is never dialled.
    response = cloud.http("GET", local_url("http://localhost", api_id) + "staging/items")

    assert (response.status, response.json()) == (403, {"message": "Forbidden"})
    assert cloud.invocations == []


def test_the_proxy_response_becomes_status_headers_and_body(launch):
    cloud = launch(_proxy_app())

    response = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items")

    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-seen"] == "a, b"
    assert response.headers["x-amzn-requestid"] == response.json()["requestContext"]["requestId"]


def test_a_malformed_proxy_response_is_502(launch):
    cloud = launch(_proxy_app())

    response = cloud.http(
        "POST", cloud.outputs("Stack")["ApiUrl"] + "items", body='{"malformed": true}'
    )

    assert (response.status, response.json()) == (502, {"message": "Internal server error"})
    assert len(cloud.invocations) == 1


def test_a_failed_function_is_502(launch):
    cloud = launch(_proxy_app())

    response = cloud.http("POST", cloud.outputs("Stack")["ApiUrl"] + "items", body='{"fail": true}')

    assert (response.status, response.json()) == (502, {"message": "Internal server error"})
    assert [invocation.succeeded for invocation in cloud.invocations] == [False]


def test_an_integration_slower_than_its_timeout_is_504(launch):
    cloud = launch(_proxy_app(timeout_ms=100))

    response = cloud.http("POST", cloud.outputs("Stack")["ApiUrl"] + "items", body='{"sleep": 0.3}')

    assert (response.status, response.json()) == (504, {"message": "Endpoint request timed out"})


def test_a_binary_media_type_arrives_base64_encoded(launch):
    cloud = launch(_proxy_app(binary_media_types=["image/png"]))

    event = _event(
        cloud.http(
            "POST",
            cloud.outputs("Stack")["ApiUrl"] + "items",
            body=b"\x89PNG\r\n",
            headers={"Content-Type": "image/png"},
        )
    )

    assert event["isBase64Encoded"] is True
    assert event["body"] == "iVBORw0K"


def test_a_base64_answer_is_decoded_only_for_a_request_accepting_a_binary_media_type(launch):
    cloud = launch(_proxy_app(binary_media_types=["image/png"]))
    url = cloud.outputs("Stack")["ApiUrl"] + "items"
    body = '{"base64": "PNG bytes"}'

    accepted = cloud.http("POST", url, body=body, headers={"Accept": "image/png"})
    not_accepted = cloud.http("POST", url, body=body, headers={"Accept": "application/json"})
    no_accept = cloud.http("POST", url, body=body)

    # API Gateway turns the body back into bytes only when the request's first Accept type is
    # a binary media type; otherwise the client gets the function's base64 text.
    assert (accepted.status, accepted.body) == (200, "PNG bytes")
    assert (not_accepted.status, not_accepted.body) == (200, "UE5HIGJ5dGVz")
    assert no_accept.body == "UE5HIGJ5dGVz"


def test_stage_variables_reach_the_event(launch):
    cloud = launch(_proxy_app(stage_variables={"colour": "teal"}))

    event = _event(cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items"))

    assert event["stageVariables"] == {"colour": "teal"}


def test_a_stage_variable_in_the_integration_uri_names_the_function(launch):
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app, stage_variables={"handler": ref(backend)})
    uri = {
        "Fn::Join": [
            "",
            [
                "arn:aws:apigateway:",
                ref("AWS::Region"),
                ":lambda:path/2015-03-31/functions/arn:aws:lambda:",
                ref("AWS::Region"),
                ":",
                ref("AWS::AccountId"),
                ":function:${stageVariables.handler}/invocations",
            ],
        ]
    }
    api.method("/items", "GET", {"IntegrationHttpMethod": "POST", "Type": "AWS_PROXY", "Uri": uri})
    api.finish()
    cloud = launch(app)

    event = _event(cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items"))

    assert event["stageVariables"] == {"handler": cloud.outputs("Stack")["BackendName"]}
    assert [invocation.function for invocation in cloud.invocations] == [
        cloud.outputs("Stack")["BackendName"]
    ]


def test_stage_method_settings_throttle_every_caller(launch):
    cloud = launch(
        _proxy_app(
            method_settings=[
                {
                    "HttpMethod": "*",
                    "ResourcePath": "/*",
                    "ThrottlingBurstLimit": 1,
                    "ThrottlingRateLimit": 1,
                }
            ]
        )
    )
    cloud.engine.service(RestApis).clock = lambda: 100.0  # time stands still
    url = cloud.outputs("Stack")["ApiUrl"] + "items"

    statuses = [cloud.http("GET", url).status for _ in range(2)]

    assert statuses == [200, 429]
    assert json.loads(cloud.http("GET", url).body) == {"message": "Too Many Requests"}
    assert len(cloud.invocations) == 1


def test_the_stage_wide_throttle_gives_each_method_its_own_bucket(launch):
    cloud = launch(
        _proxy_app(
            method_settings=[
                {
                    "HttpMethod": "*",
                    "ResourcePath": "/*",
                    "ThrottlingBurstLimit": 1,
                    "ThrottlingRateLimit": 1,
                }
            ]
        )
    )
    cloud.engine.service(RestApis).clock = lambda: 100.0
    url = cloud.outputs("Stack")["ApiUrl"]

    # "Per-API, per-stage throttling limits are applied at the API method level."
    first = [cloud.http(method, url + path).status for method, path in _EACH_METHOD]
    second = [cloud.http(method, url + path).status for method, path in _EACH_METHOD]

    assert (first, second) == ([200, 200, 200], [429, 429, 429])


_EACH_METHOD = [("GET", "items"), ("POST", "items"), ("GET", "items/1")]


def test_a_stage_method_setting_for_one_method_throttles_that_method_only(launch):
    cloud = launch(
        _proxy_app(
            method_settings=[
                {
                    "HttpMethod": "GET",
                    "ResourcePath": "/~1items~1{id}",
                    "ThrottlingBurstLimit": 1,
                    "ThrottlingRateLimit": 1,
                }
            ]
        )
    )
    cloud.engine.service(RestApis).clock = lambda: 100.0
    url = cloud.outputs("Stack")["ApiUrl"]

    by_id = [cloud.http("GET", url + f"items/{n}").status for n in range(2)]
    listing = [cloud.http("GET", url + "items").status for _ in range(2)]

    assert (by_id, listing) == ([200, 429], [200, 200])
    stage = cloud.client("apigateway").get_stage(
        restApiId=cloud.outputs("Stack")["ApiId"], stageName="prod"
    )
    assert stage["methodSettings"]["~1items~1{id}/GET"]["throttlingBurstLimit"] == 1
