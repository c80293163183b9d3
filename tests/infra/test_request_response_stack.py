"""RequestResponse template: routes, stage, function wiring, least privilege, stable ids."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match, Template

from request_response import contract
from tests.synth import CloudAssembly, resources_of_type

ITEMS_TABLE = "RequestResponseItemsTable1518F41E"
IDEMPOTENCY_TABLE = "RequestResponseIdempotencyTable46D56F74"


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming a table's logical id replaces the table (and loses its data) on the next deploy.
    tables = resources_of_type(dev_assembly.templates["RequestResponse"], "AWS::DynamoDB::Table")
    assert set(tables) == {ITEMS_TABLE, IDEMPOTENCY_TABLE}


def test_items_table_is_keyed_by_id_and_idempotency_table_expires_records(
    request_response: Template,
):
    request_response.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": Match.absent(),
        },
    )
    request_response.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        },
    )


def test_api_serves_exactly_the_items_routes_through_one_proxy_integration(
    dev_assembly: CloudAssembly,
):
    template = dev_assembly.templates["RequestResponse"]
    routes = resources_of_type(template, "AWS::ApiGatewayV2::Route")
    assert {route["Properties"]["RouteKey"] for route in routes.values()} == {
        "POST /items",
        "GET /items",
        "GET /items/{id}",
        "PUT /items/{id}",
        "DELETE /items/{id}",
        "GET /openapi.json",
        # Any other method on those paths, so the function answers 405 with Allow.
        "ANY /items",
        "ANY /items/{id}",
        "ANY /openapi.json",
    }
    (integration_id, integration), *others = resources_of_type(
        template, "AWS::ApiGatewayV2::Integration"
    ).items()
    assert others == []
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    for route in routes.values():
        assert route["Properties"]["Target"]["Fn::Join"][1][1] == {"Ref": integration_id}


def test_stage_is_throttled_and_writes_access_logs(request_response: Template):
    request_response.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
            "AccessLogSettings": {
                "DestinationArn": {"Fn::GetAtt": [Match.string_like_regexp("AccessLogs"), "Arn"]},
                "Format": Match.string_like_regexp('"status":"\\$context.status"'),
            },
        },
    )


def test_function_gets_the_table_names_from_the_stack(request_response: Template):
    request_response.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.API_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        contract.ENV_TABLE_NAME: {"Ref": ITEMS_TABLE},
                        contract.ENV_IDEMPOTENCY_TABLE_NAME: {"Ref": IDEMPOTENCY_TABLE},
                    }
                )
            },
        },
    )


def test_function_may_only_use_its_two_tables(dev_assembly: CloudAssembly):
    template = dev_assembly.templates["RequestResponse"]
    (policy,) = resources_of_type(template, "AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    dynamodb_tables = {
        resource["Fn::GetAtt"][0]
        for s in statements
        if any(action.startswith("dynamodb:") for action in _as_list(s["Action"]))
        for resource in _as_list(s["Resource"])
    }
    assert dynamodb_tables == {IDEMPOTENCY_TABLE, ITEMS_TABLE}
    services = {action.split(":")[0] for s in statements for action in _as_list(s["Action"])}
    assert services == {"logs", "xray", "dynamodb"}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_stack_outputs_the_api_url(request_response: Template):
    url = Capture()
    request_response.has_output(contract.OUTPUT_API_URL, {"Value": url})
    assert "execute-api" in str(url.as_object())


@pytest.mark.parametrize("metric", ["5xx"])
def test_server_errors_raise_an_alarm(request_response: Template, metric: str):
    request_response.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": metric, "Namespace": "AWS/ApiGateway"}
    )
