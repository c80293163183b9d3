"""API gateway template: every method behind the JWT authorizer and an API key, bodies validated
by models, usage plans in two tiers, JSON gateway errors, the SQS integration's templates, logs,
and a WAF web ACL with a rate-based rule and AWS managed rule groups."""

from __future__ import annotations

from aws_cdk.assertions import Capture, Match, Template

from api_gateway import contract
from tests.synth import CloudAssembly, resources_of_type

STACK = "ApiGateway"
STATEFUL_LOGICAL_IDS = {
    "ApiGatewayOrdersTable0B420C88",
    "ApiGatewayFeedbackTable2E479C00",
    "ApiGatewayFeedbackQueue60C0938F",
    "ApiGatewayFeedbackDeadLetterQueue61E5FBB5",
}


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource (losing its items or messages) on deploy.
    resources = dev_assembly.templates[STACK]["Resources"]
    stateful = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::SQS::Queue", "AWS::DynamoDB::Table"}
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def test_every_route_needs_the_jwt_authorizer_and_an_api_key(dev_assembly: CloudAssembly):
    template = dev_assembly.templates[STACK]
    methods = resources_of_type(template, "AWS::ApiGateway::Method")
    routed = {
        (method["Properties"]["HttpMethod"], logical_id): method["Properties"]
        for logical_id, method in methods.items()
        if method["Properties"]["HttpMethod"] != "OPTIONS"
    }
    [authorizer_id] = resources_of_type(template, "AWS::ApiGateway::Authorizer")

    assert len(routed) == len(contract.ROUTES)
    for properties in routed.values():
        assert properties["AuthorizationType"] == "CUSTOM"
        assert properties["AuthorizerId"] == {"Ref": authorizer_id}
        assert properties["ApiKeyRequired"] is True
        assert "RequestValidatorId" in properties


def test_the_authorizer_reads_the_bearer_header_and_is_cached(api_gateway_template: Template):
    api_gateway_template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "TOKEN",
            "IdentitySource": f"method.request.header.{contract.TOKEN_HEADER}",
            "AuthorizerResultTtlInSeconds": 300,
        },
    )


def test_the_authorizer_trusts_the_configured_issuer_and_reads_only_its_key_set(
    api_gateway_template: Template,
):
    api_gateway_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.AUTHORIZER_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        contract.ENV_JWT_ISSUER: "https://issuer.example.com/",
                        contract.ENV_JWT_AUDIENCE: "https://api.example.com",
                        contract.ENV_JWKS_PARAMETER_NAME: {
                            "Ref": Match.string_like_regexp("^ApiGatewayJwksParameter")
                        },
                    }
                )
            },
        },
    )
    statements = Capture()
    api_gateway_template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {"Statement": statements},
            "Roles": [{"Ref": Match.string_like_regexp("^ApiGatewayAuthorizerRole")}],
        },
    )
    actions = {
        action
        for statement in statements.as_array()
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert "ssm:GetParameter" in actions
    assert not {action for action in actions if action.startswith(("dynamodb:", "sqs:"))}


def test_order_and_feedback_bodies_are_validated_against_their_models(
    api_gateway_template: Template,
):
    api_gateway_template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator",
        {"ValidateRequestBody": True, "ValidateRequestParameters": True},
    )
    api_gateway_template.has_resource_properties(
        "AWS::ApiGateway::Model",
        {
            "ContentType": "application/json",
            "Schema": Match.object_like(
                {"title": "OrderRequest", "required": ["item_id", "quantity"]}
            ),
        },
    )
    api_gateway_template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "RequestParameters": {f"method.request.header.{contract.IDEMPOTENCY_KEY_HEADER}": True},
            "RequestModels": {"application/json": {"Ref": Match.any_value()}},
        },
    )


def test_two_usage_plan_tiers_limit_rate_burst_and_daily_quota(api_gateway_template: Template):
    for rate, burst, quota in ((5, 10, 10_000), (50, 100, 100_000)):
        api_gateway_template.has_resource_properties(
            "AWS::ApiGateway::UsagePlan",
            {
                "Throttle": {"RateLimit": rate, "BurstLimit": burst},
                "Quota": {"Limit": quota, "Period": "DAY"},
            },
        )
    # Key values are generated by API Gateway: none is written in the template.
    api_gateway_template.all_resources_properties(
        "AWS::ApiGateway::ApiKey", {"Value": Match.absent()}
    )


def test_feedback_goes_to_sqs_through_mapping_templates_without_a_function(
    api_gateway_template: Template,
):
    api_gateway_template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "Integration": Match.object_like(
                {
                    "Type": "AWS",
                    "PassthroughBehavior": "NEVER",
                    "RequestTemplates": {
                        "application/json": Match.string_like_regexp(
                            "Action=SendMessage&MessageBody=\\$util.urlEncode"
                        )
                    },
                    "IntegrationResponses": Match.array_with(
                        [Match.object_like({"StatusCode": "202"})]
                    ),
                    "Uri": {"Fn::Join": ["", Match.array_with([":sqs:path/"])]},
                }
            ),
        },
    )


def test_gateway_errors_are_json_with_cors(api_gateway_template: Template):
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY"):
        api_gateway_template.has_resource_properties(
            "AWS::ApiGateway::GatewayResponse",
            {
                "ResponseType": response_type,
                "ResponseParameters": {
                    "gatewayresponse.header.Access-Control-Allow-Origin": (
                        "'https://app.example.com'"
                    )
                },
                "ResponseTemplates": {
                    "application/json": Match.string_like_regexp('"request_id": ')
                },
            },
        )


def test_the_stage_logs_json_access_logs_and_traces(api_gateway_template: Template):
    # The account's one API Gateway CloudWatch role is not this stack's to set.
    api_gateway_template.resource_count_is("AWS::ApiGateway::Account", 0)
    api_gateway_template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(
                    '"principal": "\\$context.authorizer.principalId"'
                ),
            },
            "MethodSettings": Match.array_with(
                [Match.object_like({"LoggingLevel": "OFF", "MetricsEnabled": True})]
            ),
        },
    )


def test_a_waf_web_acl_with_a_rate_rule_and_managed_groups_guards_the_stage(
    api_gateway_template: Template,
):
    api_gateway_template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Action": {"Block": {}},
                            "Statement": {
                                "RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}
                            },
                        }
                    ),
                    *(
                        Match.object_like(
                            {
                                "Statement": {
                                    "ManagedRuleGroupStatement": {
                                        "VendorName": "AWS",
                                        "Name": name,
                                    }
                                }
                            }
                        )
                        for name in (
                            "AWSManagedRulesAmazonIpReputationList",
                            "AWSManagedRulesCommonRuleSet",
                            "AWSManagedRulesKnownBadInputsRuleSet",
                        )
                    ),
                ]
            ),
        },
    )
    api_gateway_template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {"WebACLArn": {"Fn::GetAtt": [Match.string_like_regexp("^ApiGatewayWebAcl"), "Arn"]}},
    )


def test_5xx_answers_raise_an_alarm(api_gateway_template: Template):
    api_gateway_template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "5XXError", "Namespace": "AWS/ApiGateway"},
    )


def test_the_feedback_consumer_dead_letters_with_its_reason_before_sqs_would(
    api_gateway_template: Template,
):
    api_gateway_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.FEEDBACK_CONSUMER_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        contract.ENV_MAX_RECEIVE_COUNT: "5",
                        contract.ENV_DEAD_LETTER_QUEUE_URL: {
                            "Ref": "ApiGatewayFeedbackDeadLetterQueue61E5FBB5"
                        },
                    }
                )
            },
        },
    )
    api_gateway_template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {
                "deadLetterTargetArn": {
                    "Fn::GetAtt": ["ApiGatewayFeedbackDeadLetterQueue61E5FBB5", "Arn"]
                },
                "maxReceiveCount": 5,
            }
        },
    )


def test_every_route_declares_each_answer_it_can_give_with_its_model(dev_assembly: CloudAssembly):
    # The method responses are what the stage's exported OpenAPI document tells clients.
    template = dev_assembly.templates[STACK]
    models = {
        logical_id: model["Properties"]["Name"]
        for logical_id, model in resources_of_type(template, "AWS::ApiGateway::Model").items()
    }
    paths = {
        logical_id: resource["Properties"]["PathPart"]
        for logical_id, resource in resources_of_type(template, "AWS::ApiGateway::Resource").items()
    }
    answers = {
        (method["Properties"]["HttpMethod"], paths[method["Properties"]["ResourceId"]["Ref"]]): {
            response["StatusCode"]: models[response["ResponseModels"]["application/json"]["Ref"]]
            for response in method["Properties"]["MethodResponses"]
        }
        for method in resources_of_type(template, "AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] != "OPTIONS"
    }

    refusals = {"401": "Error", "403": "Error", "429": "Error"}
    assert answers == {
        ("GET", "items"): {"200": "CatalogItems", **refusals},
        ("POST", "orders"): {
            "200": "Order",
            "201": "Order",
            **dict.fromkeys(("400", "409", "422"), "Error"),
            **refusals,
        },
        ("GET", "{order_id}"): {"200": "Order", "404": "Error", **refusals},
        ("POST", "feedback"): {
            "202": "FeedbackAccepted",
            **dict.fromkeys(("400", "500"), "Error"),
            **refusals,
        },
    }


def test_cors_preflights_exist_only_where_a_route_does(dev_assembly: CloudAssembly):
    template = dev_assembly.templates[STACK]
    methods = resources_of_type(template, "AWS::ApiGateway::Method").values()
    with_routes = {
        str(method["Properties"]["ResourceId"])
        for method in methods
        if method["Properties"]["HttpMethod"] != "OPTIONS"
    }
    preflights = [
        str(method["Properties"]["ResourceId"])
        for method in methods
        if method["Properties"]["HttpMethod"] == "OPTIONS"
    ]

    assert sorted(preflights) == sorted(with_routes)
