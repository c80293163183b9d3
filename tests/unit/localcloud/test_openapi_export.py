"""The OpenAPI document API Gateway exports for a REST API stage, from plain declarations."""

from __future__ import annotations

import pytest

from localcloud.rules.openapi_export import ExportError, RestApiDescription, export


def _api(**declared) -> RestApiDescription:
    return RestApiDescription(
        api_id="abc123",
        name="Shop",
        base_url="https://abc123.execute-api.eu-west-1.amazonaws.com/",
        stage="v1",
        version="2026-12-02T08:00:00Z",
        **declared,
    )


def test_an_any_method_is_api_gateways_any_method_extension():
    document = export(_api(methods={"/{proxy+}": {"ANY": {"authorizationType": "NONE"}}}), "oas30")

    [(key, operation)] = document["paths"]["/{proxy+}"].items()
    assert key == "x-amazon-apigateway-any-method"
    assert operation["parameters"] == [
        {"name": "proxy", "in": "path", "required": True, "schema": {"type": "string"}}
    ]


def test_a_body_is_required_only_where_a_validator_validates_bodies():
    models = {"requestModels": {"application/json": "Order"}}
    api = _api(
        methods={
            "/checked": {"POST": {**models, "requestValidatorId": "v1"}},
            "/unchecked": {"POST": models},
        },
        validators={"v1": {"id": "v1", "name": "Bodies", "validateRequestBody": True}},
        models={"Order": {"name": "Order", "schema": '{"type": "object"}'}},
    )

    paths = export(api, "oas30")["paths"]

    assert paths["/checked"]["post"]["requestBody"]["required"] is True
    assert paths["/unchecked"]["post"]["requestBody"]["required"] is False


def test_a_models_dialect_is_left_out_of_its_schema():
    schema = (
        '{"$schema": "http://json-schema.org/draft-04/schema#", "title": "T", "type": "string"}'
    )

    document = export(_api(models={"T": {"name": "T", "schema": schema}}), "oas30")

    assert document["components"]["schemas"]["T"] == {"title": "T", "type": "string"}


def test_a_cognito_or_iam_method_names_its_scheme_and_scopes():
    api = _api(
        methods={
            "/mine": {
                "GET": {
                    "authorizationType": "COGNITO_USER_POOLS",
                    "authorizerId": "a1",
                    "authorizationScopes": ["orders/read"],
                }
            },
            "/admin": {"GET": {"authorizationType": "AWS_IAM"}},
        },
        authorizers={
            "a1": {
                "id": "a1",
                "name": "Pool",
                "type": "COGNITO_USER_POOLS",
                "identitySource": "method.request.header.Authorization",
            }
        },
    )

    document = export(api, "oas30")

    assert document["paths"]["/mine"]["get"]["security"] == [{"Pool": ["orders/read"]}]
    assert document["paths"]["/admin"]["get"]["security"] == [{"sigv4": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["Pool"]["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"


@pytest.mark.parametrize(
    ("export_type", "extensions", "message"),
    [
        ("raml", None, "No API exporter for type 'raml'"),
        ("oas30", "everything", "Invalid extensions value: 'everything'"),
    ],
)
def test_an_unknown_type_or_extension_is_refused(export_type, extensions, message):
    with pytest.raises(ExportError, match=message):
        export(_api(), export_type, extensions)
