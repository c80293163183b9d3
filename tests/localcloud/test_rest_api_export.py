"""`GetExport` on localcloud: a REST API stage's OpenAPI document, from what the API declares."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.testing import App, ref
from tests.localcloud.rest_apps import AUTHORIZER, REST_BACKEND, RestApiBuilder

ORDER_SCHEMA = {
    "type": "object",
    "required": ["item_id"],
    "properties": {"item_id": {"type": "string"}, "quantity": {"type": "integer"}},
}
ORDER_ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "item": {"$ref": ""}},
}


def _orders_app() -> App:
    """POST /orders (model, required header, validator, authorizer, API key) and
    GET /orders/{order_id} (an optional query parameter, no security)."""
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    authorizer = api.authorizer("TokenAuth", app.function("Authorizer", AUTHORIZER))
    validator = api.validator("BodyValidator", body=True, parameters=True)
    order = api.model("OrderModel", ORDER_SCHEMA)
    answer = api.model("OrderAnswerModel", ORDER_ANSWER_SCHEMA)
    for logical_id in (validator, order, answer):
        app.resources[logical_id]["Properties"]["Name"] = logical_id
    # A model names another by its API Gateway URL; the export makes that a local reference.
    app.resources[answer]["Properties"]["Schema"]["properties"]["item"]["$ref"] = {
        "Fn::Join": [
            "",
            ["https://apigateway.amazonaws.com/restapis/", ref("Api"), "/models/OrderModel"],
        ]
    }
    create = api.method(
        "/orders",
        "POST",
        api.lambda_proxy(backend),
        authorizer=authorizer,
        api_key_required=True,
        request_validator=validator,
        request_models={"application/json": order},
        request_parameters={"method.request.header.Idempotency-Key": True},
    )
    app.resources[create]["Properties"]["MethodResponses"] = [
        {
            "StatusCode": "201",
            "ResponseModels": {"application/json": ref(answer)},
            "ResponseParameters": {"method.response.header.Location": True},
        },
        {"StatusCode": "400"},
    ]
    api.method(
        "/orders/{order_id}",
        "GET",
        api.lambda_proxy(backend),
        request_parameters={"method.request.querystring.fields": False},
        method_responses=["200"],
    )
    api.finish()
    return app


@pytest.fixture
def exported(launch):
    cloud = launch(_orders_app())
    apigateway = cloud.client("apigateway")
    [api] = apigateway.get_rest_apis()["items"]

    def export(export_type: str = "oas30", **parameters: str) -> dict[str, Any]:
        answer = apigateway.get_export(
            restApiId=api["id"], stageName="prod", exportType=export_type, parameters=parameters
        )
        return json.loads(answer["body"].read())

    export.api_id = api["id"]
    export.client = apigateway
    return export


def test_an_oas30_export_describes_parameters_bodies_responses_and_security(exported):
    document = exported()

    assert document["openapi"] == "3.0.1"
    assert document["servers"] == [
        {
            "url": f"https://{exported.api_id}.execute-api.eu-west-1.amazonaws.com/{{basePath}}",
            "variables": {"basePath": {"default": "prod"}},
        }
    ]
    create = document["paths"]["/orders"]["post"]
    assert create["parameters"] == [
        {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}
    ]
    assert create["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderModel"}}},
        "required": True,
    }
    assert create["responses"] == {
        "201": {
            "description": "201 response",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/OrderAnswerModel"}}
            },
        },
        "400": {"description": "400 response"},
    }
    assert create["security"] == [{"TokenAuth": [], "api_key": []}]
    read = document["paths"]["/orders/{order_id}"]["get"]
    assert read["parameters"] == [
        {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "fields", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    assert "security" not in read


def test_models_become_schemas_that_refer_to_each_other_locally(exported):
    schemas = exported()["components"]["schemas"]

    assert schemas["OrderModel"] == ORDER_SCHEMA
    assert schemas["OrderAnswerModel"]["properties"]["item"] == {
        "$ref": "#/components/schemas/OrderModel"
    }


def test_api_keys_and_authorizers_are_security_schemes(exported):
    schemes = exported()["components"]["securitySchemes"]

    assert schemes == {
        "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
        "TokenAuth": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "custom",
        },
    }


def test_the_apigateway_extensions_add_integrations_validators_and_authorizer_settings(exported):
    document = exported(extensions="apigateway")

    create = document["paths"]["/orders"]["post"]
    assert create["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert create["x-amazon-apigateway-integration"]["httpMethod"] == "POST"
    assert create["x-amazon-apigateway-request-validator"] == "BodyValidator"
    assert document["x-amazon-apigateway-request-validators"] == {
        "BodyValidator": {"validateRequestBody": True, "validateRequestParameters": True}
    }
    authorizer = document["components"]["securitySchemes"]["TokenAuth"]
    assert authorizer["x-amazon-apigateway-authorizer"]["type"] == "token"
    assert authorizer["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"] == 300


def test_a_swagger_export_has_definitions_and_a_body_parameter(exported):
    document = exported("swagger")

    assert document["swagger"] == "2.0"
    assert document["host"] == f"{exported.api_id}.execute-api.eu-west-1.amazonaws.com"
    assert document["basePath"] == "/prod"
    create = document["paths"]["/orders"]["post"]
    assert {
        "in": "body",
        "name": "OrderModel",
        "required": True,
        "schema": {"$ref": "#/definitions/OrderModel"},
    } in create["parameters"]
    assert create["responses"]["201"]["schema"] == {"$ref": "#/definitions/OrderAnswerModel"}
    assert set(document["definitions"]) == {"OrderModel", "OrderAnswerModel"}
    assert set(document["securityDefinitions"]) == {"api_key", "TokenAuth"}


def test_an_unknown_stage_or_export_type_is_refused(exported):
    with pytest.raises(ClientError) as unknown_stage:
        exported.client.get_export(restApiId=exported.api_id, stageName="nope", exportType="oas30")
    with pytest.raises(ClientError) as unknown_type:
        exported("raml")

    assert unknown_stage.value.response["Error"]["Code"] == "NotFoundException"
    assert unknown_type.value.response["Error"]["Code"] == "BadRequestException"
    assert "No API exporter for type 'raml'" in unknown_type.value.response["Error"]["Message"]
