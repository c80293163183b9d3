"""API gateway: one REST API in front of two Lambda services and a queue, owning the
cross-cutting concerns (authentication, scopes, rate limits, validation, errors, CORS, logs,
WAF)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from api_gateway.contract import (
    AUTHORIZER_HANDLER,
    AUTHORIZER_NAME,
    AUTHORIZER_SERVICE_NAME,
    CATALOG_HANDLER,
    CATALOG_SERVICE_NAME,
    ENV_CORS_ORIGINS,
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_FEEDBACK_TABLE_NAME,
    ENV_JWKS_MAX_AGE_SECONDS,
    ENV_JWKS_PARAMETER_NAME,
    ENV_JWT_AUDIENCE,
    ENV_JWT_ISSUER,
    ENV_MAX_RECEIVE_COUNT,
    ENV_ORDERS_TABLE_NAME,
    FEEDBACK_CONSUMER_HANDLER,
    FEEDBACK_CONSUMER_SERVICE_NAME,
    IDEMPOTENCY_KEY_HEADER,
    ORDERS_HANDLER,
    ORDERS_SERVICE_NAME,
    ROUTE_CREATE_ORDER,
    ROUTE_GET_ORDER,
    ROUTE_LIST_CATALOG,
    ROUTE_SEND_FEEDBACK,
    TOKEN_HEADER,
    Route,
    Tier,
)
from infra.config import ApiGatewayConfig, AppConfig
from infra.constructs import AlarmTopic, PythonFunction, QueueToFunction, StageLogGroup, Table

PATTERN = "api_gateway"
STAGE_NAME = "v1"


@dataclass(frozen=True)
class UsageTier:
    """A usage plan's limits: steady requests per second, burst, and requests per day."""

    rate_limit: float
    burst_limit: int
    daily_quota: int


#: Basic keys get a few requests a second and 10,000 a day; premium ten times that.
DEFAULT_TIERS: Mapping[Tier, UsageTier] = {
    Tier.BASIC: UsageTier(rate_limit=5, burst_limit=10, daily_quota=10_000),
    Tier.PREMIUM: UsageTier(rate_limit=50, burst_limit=100, daily_quota=100_000),
}

#: JSON Schemas (draft 4, API Gateway's dialect) the gateway holds request bodies to.
ORDER_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="OrderRequest",
    type=apigw.JsonSchemaType.OBJECT,
    required=["item_id", "quantity"],
    additional_properties=False,
    properties={
        "item_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, pattern="^[a-z0-9-]{1,40}$"),
        "quantity": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=100),
    },
)
FEEDBACK_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="FeedbackRequest",
    type=apigw.JsonSchemaType.OBJECT,
    required=["rating"],
    additional_properties=False,
    properties={
        "rating": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=5),
        "comment": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=1000),
    },
)

#: JSON Schemas of what the API answers: the method responses declare them, so the OpenAPI
#: document exported from the stage describes every answer a client can get.
ERROR_RESPONSE_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="Error",
    description="A refusal, by the gateway (error, request_id, detail) or by a service (backend, "
    "errors)",
    type=apigw.JsonSchemaType.OBJECT,
    required=["message"],
    properties={
        "message": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "error": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "detail": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "request_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "backend": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "errors": apigw.JsonSchema(
            type=apigw.JsonSchemaType.ARRAY,
            items=apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT),
        ),
    },
)
_DECIMAL = apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, pattern=r"^-?\d+(\.\d+)?$")
CATALOG_ITEMS_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="CatalogItems",
    type=apigw.JsonSchemaType.OBJECT,
    required=["backend", "items"],
    properties={
        "backend": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=["catalog"]),
        "items": apigw.JsonSchema(
            type=apigw.JsonSchemaType.ARRAY,
            items=apigw.JsonSchema(
                type=apigw.JsonSchemaType.OBJECT,
                required=["item_id", "name", "category", "unit_price"],
                properties={
                    "item_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
                    "name": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
                    "category": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
                    "unit_price": _DECIMAL,
                },
            ),
        ),
    },
)
ORDER_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="Order",
    type=apigw.JsonSchemaType.OBJECT,
    required=["backend", "order_id", "customer", "item_id", "quantity", "total"],
    properties={
        "backend": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=["orders"]),
        "order_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "customer": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "item_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "quantity": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=100),
        "total": _DECIMAL,
    },
)
FEEDBACK_ACCEPTED_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    title="FeedbackAccepted",
    type=apigw.JsonSchemaType.OBJECT,
    required=["feedback_id", "status"],
    properties={
        "feedback_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "status": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=["accepted"]),
    },
)

#: The refusals every route can get from the gateway before its backend: no or a bad token
#: (401), no valid API key or a scope that does not grant the route (403), over the key's rate
#: or quota (429).
GATEWAY_REFUSALS = ("401", "403", "429")

#: The feedback message the request template writes: the client's fields, reshaped, plus who
#: sent it and when, from the gateway's own context (a client cannot forge them).
FEEDBACK_MESSAGE_TEMPLATE = (
    "#set($comment = $input.path('$.comment'))\n"
    '#set($message = "{""feedback_id"": ""$context.requestId"", '
    '""customer"": ""$util.escapeJavaScript($context.authorizer.principalId)"", '
    '""rating"": $input.json(\'$.rating\'), '
    '""comment"": ""#if($comment)$util.escapeJavaScript($comment)#end"", '
    '""received_at_ms"": $context.requestTimeEpoch}")\n'
    "Action=SendMessage&MessageBody=$util.urlEncode($message)"
)
#: What the client gets back: the id its feedback is stored under, not SQS's answer.
FEEDBACK_ACCEPTED_TEMPLATE = '{"feedback_id": "$context.requestId", "status": "accepted"}'

#: Every gateway error as JSON: the same three fields whatever refused the request.
ERROR_TEMPLATE = (
    '{"message": $context.error.messageString, "error": "$context.error.responseType", '
    '"request_id": "$context.requestId"}'
)
VALIDATION_ERROR_TEMPLATE = (
    '{"message": "Invalid request", "error": "$context.error.responseType", '
    # escapeJavaScript also escapes ' (not valid in JSON): the replaceAll undoes that.
    '"detail": "$util.escapeJavaScript($context.error.validationErrorString)'
    r""".replaceAll("\\'","'")", """
    '"request_id": "$context.requestId"}'
)


class ApiGateway(Construct):
    """REST API -> {catalog function, orders function, feedback queue -> consumer function}.

    Defaults:
    - a TOKEN authorizer verifies the `Authorization: Bearer <jwt>` (RS256 signature by a key
      of the set in `jwks_parameter`, issuer, audience, expiry) and allows the routes the
      token's scopes grant; API Gateway caches its answer per token for
      `authorizer_cache_ttl` (5 minutes);
    - every method needs an API key in a usage plan: `tiers` (basic 5 rps, burst 10,
      10,000 a day; premium 50 rps, burst 100, 100,000 a day), one key per tier created;
    - bodies are validated against their models and required headers checked before any
      backend runs (400);
    - every 4xx and 5xx the gateway produces is JSON with CORS headers; CORS preflights answer
      from `settings.cors_origins`;
    - JSON access logs and X-Ray tracing (execution logs are left to the account: they need
      its one API Gateway CloudWatch role);
    - the feedback consumer dead-letters a message that is not feedback at once, and any
      other failing message on its `max_receive_count`th (5) receive, with its reason;
    - a WAF web ACL: a rate-based rule (`waf_requests_per_five_minutes` per IP, 2,000) and
      AWS's common, known-bad-inputs and IP reputation rule groups.

    Attributes: `api`, `authorizer`, `catalog`, `orders`, `feedback_consumer`,
    `authorizer_function`, `feedback` (a `QueueToFunction`), `orders_table`, `feedback_table`,
    `jwks_parameter`, `api_keys` and `usage_plans` (by tier), `web_acl`, `access_log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        settings: ApiGatewayConfig | None = None,
        tiers: Mapping[Tier, UsageTier] = DEFAULT_TIERS,
        authorizer_cache_ttl: Duration = Duration.minutes(5),
        waf_requests_per_five_minutes: int = 2_000,
        max_receive_count: int = 5,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = settings or config.api_gateway
        # Lambda proxy answers carry their own CORS headers: API Gateway adds none to them.
        cors_origins = ",".join(settings.cors_origins)
        self.orders_table = Table(
            self, "OrdersTable", config=config, partition_key_name="order_id"
        ).table
        self.feedback_table = Table(
            self, "FeedbackTable", config=config, partition_key_name="feedback_id"
        ).table
        self.jwks_parameter = ssm.StringParameter(
            self,
            "JwksParameter",
            description="Public key set (JWKS) of the token issuer the API's authorizer trusts",
            string_value=json.dumps(settings.jwks),
        )

        self.authorizer_function = PythonFunction(
            self,
            "Authorizer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=AUTHORIZER_HANDLER,
            description="Verifies bearer JWTs and allows the routes their scopes grant",
            service_name=AUTHORIZER_SERVICE_NAME,
            environment={
                ENV_JWT_ISSUER: settings.issuer,
                ENV_JWT_AUDIENCE: settings.audience,
                ENV_JWKS_PARAMETER_NAME: self.jwks_parameter.parameter_name,
                ENV_JWKS_MAX_AGE_SECONDS: str(settings.jwks_max_age_seconds),
            },
        )
        self.jwks_parameter.grant_read(self.authorizer_function.function)

        self.catalog = PythonFunction(
            self,
            "Catalog",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=CATALOG_HANDLER,
            description="Catalog service behind the API gateway",
            service_name=CATALOG_SERVICE_NAME,
            environment={ENV_CORS_ORIGINS: cors_origins},
        )
        self.orders = PythonFunction(
            self,
            "Orders",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=ORDERS_HANDLER,
            description="Orders service behind the API gateway",
            service_name=ORDERS_SERVICE_NAME,
            environment={
                ENV_ORDERS_TABLE_NAME: self.orders_table.table_name,
                ENV_CORS_ORIGINS: cors_origins,
            },
        )
        # Orders are put once (conditionally) and read back: nothing else.
        self.orders_table.grant(self.orders.function, "dynamodb:PutItem", "dynamodb:GetItem")

        self.feedback_consumer = PythonFunction(
            self,
            "FeedbackConsumer",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=FEEDBACK_CONSUMER_HANDLER,
            description="Stores the feedback the API queued (storage-first)",
            service_name=FEEDBACK_CONSUMER_SERVICE_NAME,
            environment={ENV_FEEDBACK_TABLE_NAME: self.feedback_table.table_name},
        )
        self.feedback_table.grant(self.feedback_consumer.function, "dynamodb:PutItem")
        self.feedback = QueueToFunction(
            self,
            "Feedback",
            config=config,
            alarms=alarms,
            function=self.feedback_consumer.function,
            max_receive_count=max_receive_count,
        )
        self.feedback_consumer.function.add_environment(
            ENV_DEAD_LETTER_QUEUE_URL, self.feedback.dead_letter_queue.queue_url
        )
        self.feedback_consumer.function.add_environment(
            ENV_MAX_RECEIVE_COUNT, str(max_receive_count)
        )
        self.feedback.dead_letter_queue.grant_send_messages(self.feedback_consumer.function)

        self.access_log_group = StageLogGroup(self, "AccessLogs", config=config)
        self.api = apigw.RestApi(
            self,
            "RestApi",
            description="Single entry point for the catalog, orders and feedback backends",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logs need API Gateway's account-wide CloudWatch role
            # (AWS::ApiGateway::Account, one per account and region): a pattern's stack must
            # not replace it for every other API there. Access logs need no role.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.OFF,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(
                    json.dumps(
                        {
                            "requestId": "$context.requestId",
                            "requestTime": "$context.requestTime",
                            "httpMethod": "$context.httpMethod",
                            "resourcePath": "$context.resourcePath",
                            "status": "$context.status",
                            "responseLength": "$context.responseLength",
                            "ip": "$context.identity.sourceIp",
                            "principal": "$context.authorizer.principalId",
                            "apiKeyId": "$context.identity.apiKeyId",
                            "errorType": "$context.error.responseType",
                            "integrationLatency": "$context.integration.latency",
                            "wafStatus": "$context.waf.status",
                        }
                    )
                ),
            ),
        )
        # Preflights on the resources that have methods (`_method`): a path with nothing to
        # call would otherwise answer OPTIONS and look like part of the API.
        self._cors_origins = list(settings.cors_origins)
        # The stack outputs the URL under the registry's name; RestApi's own output would be a
        # second, differently named copy.
        self.api.node.try_remove_child("Endpoint")
        self._gateway_responses(settings.cors_origins)

        self.authorizer = apigw.TokenAuthorizer(
            self,
            "TokenAuthorizer",
            # Its name is the security scheme's name in the exported OpenAPI document.
            authorizer_name=AUTHORIZER_NAME,
            handler=self.authorizer_function.function,
            identity_source=apigw.IdentitySource.header(TOKEN_HEADER),
            results_cache_ttl=authorizer_cache_ttl,
        )
        body_validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        parameters_validator = self.api.add_request_validator(
            "ParametersValidator", validate_request_parameters=True
        )
        order_model = self._model("OrderRequestModel", ORDER_REQUEST_SCHEMA)
        feedback_model = self._model("FeedbackRequestModel", FEEDBACK_REQUEST_SCHEMA)

        error = self._model("ErrorModel", ERROR_RESPONSE_SCHEMA)
        catalog_items = self._model("CatalogItemsModel", CATALOG_ITEMS_SCHEMA)
        order_answer = self._model("OrderModel", ORDER_SCHEMA)
        feedback_accepted = self._model("FeedbackAcceptedModel", FEEDBACK_ACCEPTED_SCHEMA)

        catalog = apigw.LambdaIntegration(self.catalog.function)
        orders = apigw.LambdaIntegration(self.orders.function)
        self._method(
            ROUTE_LIST_CATALOG,
            catalog,
            validator=parameters_validator,
            parameters={"method.request.querystring.category": False},
            answers={"200": catalog_items},
            error=error,
        )
        self._method(
            ROUTE_CREATE_ORDER,
            orders,
            validator=body_validator,
            models={"application/json": order_model},
            parameters={f"method.request.header.{IDEMPOTENCY_KEY_HEADER}": True},
            # 200: the replay of an order this Idempotency-Key already created.
            answers={"200": order_answer, "201": order_answer},
            error=error,
            refusals=("400", "409", "422"),
        )
        self._method(
            ROUTE_GET_ORDER,
            orders,
            validator=parameters_validator,
            parameters={"method.request.path.order_id": True},
            answers={"200": order_answer},
            error=error,
            refusals=("404",),
        )
        self._method(
            ROUTE_SEND_FEEDBACK,
            self._feedback_integration(),
            validator=body_validator,
            models={"application/json": feedback_model},
            answers={"202": feedback_accepted},
            error=error,
            # 500: SQS refused the message (the integration's own answer).
            refusals=("400", "500"),
        )

        self.usage_plans: dict[Tier, apigw.UsagePlan] = {}
        self.api_keys: dict[Tier, apigw.IApiKey] = {}
        for tier, limits in tiers.items():
            name = tier.value.title()
            plan = self.api.add_usage_plan(
                f"{name}Plan",
                description=f"{tier.value} tier",
                throttle=apigw.ThrottleSettings(
                    rate_limit=limits.rate_limit, burst_limit=limits.burst_limit
                ),
                quota=apigw.QuotaSettings(limit=limits.daily_quota, period=apigw.Period.DAY),
            )
            plan.add_api_stage(stage=self.api.deployment_stage)
            # The key's value is generated by API Gateway: no secret in the template.
            key = self.api.add_api_key(f"{name}ApiKey", description=f"{tier.value} tier key")
            plan.add_api_key(key)
            self.usage_plans[tier] = plan
            self.api_keys[tier] = key

        self.web_acl = self._web_acl(waf_requests_per_five_minutes)
        alarms.alarm_on(
            self,
            "ServerErrorsAlarm",
            metric=self.api.metric_server_error(),
            description="The API gateway answered with a 5xx",
        )
        Validations.of(self.api).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-APIG6",
                reason="Every request is in the stage's JSON access log; execution logs would "
                "need the account-wide API Gateway CloudWatch role, which this stack must not "
                "replace for the other APIs of the account (enable it once per account).",
            ),
        )
        Validations.of(self.api).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-COG4",
                reason="Methods use a Lambda authorizer that verifies the issuer's JWTs; the "
                "issuer need not be a Cognito user pool.",
            ),
        )

    def _model(self, construct_id: str, schema: apigw.JsonSchema) -> apigw.Model:
        """A JSON model named after its schema's title: the name clients see for it in the
        exported OpenAPI document (unique within the API only, so no stack can collide)."""
        return self.api.add_model(
            construct_id,
            model_name=schema.title,
            content_type="application/json",
            schema=schema,
        )

    def _method(
        self,
        route: Route,
        integration: apigw.Integration,
        *,
        validator: apigw.IRequestValidator,
        answers: Mapping[str, apigw.IModel],
        error: apigw.IModel,
        refusals: tuple[str, ...] = (),
        models: dict[str, apigw.IModel] | None = None,
        parameters: dict[str, bool] | None = None,
    ) -> apigw.Method:
        """One route's method: its backend, its checks, and every answer it can give (a Lambda
        proxy's answers are not filtered by them; they document the API)."""
        method_responses = [
            apigw.MethodResponse(status_code=status, response_models={"application/json": model})
            for status, model in answers.items()
        ] + [
            apigw.MethodResponse(status_code=status, response_models={"application/json": error})
            for status in sorted({*refusals, *GATEWAY_REFUSALS})
        ]
        resource = self.api.root.resource_for_path(route.path.lstrip("/"))
        if resource.node.try_find_child("OPTIONS") is None:
            resource.add_cors_preflight(
                allow_origins=self._cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Content-Type", TOKEN_HEADER, "X-Api-Key", IDEMPOTENCY_KEY_HEADER],
                max_age=Duration.hours(1),
            )
        return resource.add_method(
            route.method,
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            api_key_required=True,
            request_validator=validator,
            request_models=models,
            request_parameters=parameters,
            method_responses=method_responses,
        )

    def _feedback_integration(self) -> apigw.AwsIntegration:
        """POST /feedback straight to SQS: the mapping template reshapes the body, no function."""
        role = iam.Role(
            self,
            "FeedbackIntegrationRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets the API send feedback messages to its queue, nothing else",
        )
        queue = self.feedback.queue
        queue.grant_send_messages(role)
        return apigw.AwsIntegration(
            service="sqs",
            path=f"{Stack.of(self).account}/{queue.queue_name}",
            integration_http_method="POST",
            options=apigw.IntegrationOptions(
                credentials_role=role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
                },
                request_templates={"application/json": FEEDBACK_MESSAGE_TEMPLATE},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="202",
                        selection_pattern="2\\d{2}",
                        response_templates={"application/json": FEEDBACK_ACCEPTED_TEMPLATE},
                    ),
                    # SQS refusing the message is the gateway's failure, not the client's.
                    apigw.IntegrationResponse(
                        status_code="500",
                        selection_pattern="[45]\\d{2}",
                        response_templates={
                            "application/json": '{"message": "The feedback could not be queued", '
                            '"request_id": "$context.requestId"}'
                        },
                    ),
                ],
            ),
        )

    def _gateway_responses(self, cors_origins: tuple[str, ...]) -> None:
        # A browser reads an error only with CORS headers; the gateway's errors are answered
        # before any backend could add them.
        headers = {"Access-Control-Allow-Origin": f"'{cors_origins[0]}'"} if cors_origins else {}
        for response_id, response_type, template in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX, ERROR_TEMPLATE),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX, ERROR_TEMPLATE),
            ("BadRequestBody", apigw.ResponseType.BAD_REQUEST_BODY, VALIDATION_ERROR_TEMPLATE),
            # "Missing required request parameters: [...]" is its message itself.
            ("BadRequestParameters", apigw.ResponseType.BAD_REQUEST_PARAMETERS, ERROR_TEMPLATE),
        ):
            self.api.add_gateway_response(
                response_id,
                type=response_type,
                response_headers=headers,
                templates={"application/json": template},
            )

    def _web_acl(self, requests_per_five_minutes: int) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=name,
                sampled_requests_enabled=True,
            )

        def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=visibility(name),
            )

        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("ApiGatewayWebAcl"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=requests_per_five_minutes, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=visibility("RateLimitPerIp"),
                ),
                managed(1, "AWSManagedRulesAmazonIpReputationList"),
                managed(2, "AWSManagedRulesCommonRuleSet"),
                managed(3, "AWSManagedRulesKnownBadInputsRuleSet"),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        return web_acl

    @property
    def url(self) -> str:
        return self.api.url
