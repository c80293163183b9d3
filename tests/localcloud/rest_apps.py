"""REST API (API Gateway v1) templates for localcloud's tests, as CDK's `RestApi` writes them.

    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    api.method("/items/{id}", "GET", api.lambda_proxy(backend))
    api.finish()                       # Deployment (after every method) + the `prod` stage
    cloud = launch(app)
    cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items/7")

Logical ids, property names, `Ref`/`Fn::GetAtt` uses and the deployment's `DependsOn` follow
what `cdk synth` wrote for a `RestApi` with Lambda and AWS integrations, token and request
authorizers, an API key in a usage plan, a request validator with a model and a gateway response.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from localcloud.testing import App, get_att, ref

REST_BACKEND = textwrap.dedent(
    '''
    """Answers with the event it got; a body {"fail": true} raises, {"malformed": true} answers
    a proxy response without a status code, {"base64": text} answers text base64-encoded,
    {"sleep": s} sleeps first."""
    import base64
    import json
    import time


    def handler(event, context):
        text = event.get("body") if not event.get("isBase64Encoded") else None
        asked = json.loads(text) if text and text.startswith("{") else {}
        if asked.get("fail"):
            raise RuntimeError("asked to fail")
        if asked.get("malformed"):
            return {"body": "no status code"}
        if "base64" in asked:
            return {
                "statusCode": 200,
                "headers": {"Content-Type": "image/png"},
                "isBase64Encoded": True,
                "body": base64.b64encode(asked["base64"].encode()).decode(),
            }
        time.sleep(asked.get("sleep", 0))
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"X-Seen": ["a", "b"]},
            "body": json.dumps(event),
        }
    '''
)

AUTHORIZER = textwrap.dedent(
    '''
    """A Lambda authorizer: "allow-<principal>" is allowed on every method, "deny" is denied,
    "only-items" is allowed on GET /items only, "all-but-other" on every method but is denied
    GET /other; anything else is Unauthorized. A REQUEST
    authorizer reads the token from the X-Token header. Each event is printed, for tests."""
    import json


    def handler(event, context):
        print("authorizer-event " + json.dumps(event))
        token = event.get("authorizationToken") or (event.get("headers") or {}).get("X-Token", "")
        arn_base = event["methodArn"].split("/", 1)[0]
        if token.startswith("allow-"):
            effect, resource = "Allow", arn_base + "/*"
        elif token == "deny":
            effect, resource = "Deny", arn_base + "/*"
        elif token == "only-items":
            effect, resource = "Allow", arn_base + "/*/GET/items"
        elif token == "all-but-other":
            effect, resource = "Allow", [arn_base + "/*"]
        else:
            raise Exception("Unauthorized")
        statements = [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]
        if token == "all-but-other":
            statements.append(
                {"Action": "execute-api:*", "Effect": "Deny", "Resource": arn_base + "/*/GET/other"}
            )
        return {
            "principalId": token.removeprefix("allow-"),
            "policyDocument": {"Version": "2012-10-17", "Statement": statements},
            "context": {"tier": "gold", "seats": 3, "admin": False},
        }
    '''
)


def authorizer_events(cloud: Any) -> list[dict[str, Any]]:
    """The events AUTHORIZER was invoked with, in order (read back from its log lines)."""
    prefix = "authorizer-event "
    return [
        json.loads(line.removeprefix(prefix))
        for invocation in cloud.invocations
        for line in invocation.logs.splitlines()
        if line.startswith(prefix)
    ]


def lambda_uri(function: str) -> dict[str, Any]:
    """The integration URI CDK writes for a function (`LambdaIntegration`, authorizers)."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                ref("AWS::Partition"),
                ":apigateway:",
                ref("AWS::Region"),
                ":lambda:path/2015-03-31/functions/",
                get_att(function),
                "/invocations",
            ],
        ]
    }


def service_uri(service: str, style: str, rest: Any) -> dict[str, Any]:
    """An `AwsIntegration` URI: `arn:aws:apigateway:{region}:{service}:{path|action}/{rest}`."""
    parts = rest if isinstance(rest, list) else [rest]
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                ref("AWS::Partition"),
                ":apigateway:",
                ref("AWS::Region"),
                f":{service}:{style}/",
                *parts,
            ],
        ]
    }


@dataclass
class RestApiBuilder:
    """One REST API of an `App` (see the module docstring); call `finish()` last."""

    app: App
    logical_id: str = "Api"
    stage_name: str = "prod"
    binary_media_types: list[str] | None = None
    api_key_source: str | None = None
    stage_variables: dict[str, str] | None = None
    method_settings: list[dict[str, Any]] | None = None
    _resources: dict[str, str] = field(default_factory=dict)
    _methods: list[str] = field(default_factory=list)
    _deployment_depends: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        properties: dict[str, Any] = {"Name": self.logical_id}
        if self.binary_media_types:
            properties["BinaryMediaTypes"] = self.binary_media_types
        if self.api_key_source:
            properties["ApiKeySourceType"] = self.api_key_source
        self.app.add(self.logical_id, "AWS::ApiGateway::RestApi", properties)
        role = self.app.role(f"{self.logical_id}CloudWatchRole", "apigateway.amazonaws.com")
        account = self.app.add(
            f"{self.logical_id}Account",
            "AWS::ApiGateway::Account",
            {"CloudWatchRoleArn": get_att(role)},
        )
        self.app.resources[account]["DependsOn"] = [self.logical_id]

    @property
    def api(self) -> dict[str, str]:
        return ref(self.logical_id)

    @property
    def stage(self) -> str:
        return f"{self.logical_id}DeploymentStage{self.stage_name}"

    # -- resources and methods ----------------------------------------------------------------

    def resource(self, path: str) -> dict[str, Any]:
        """The resource of `path` (its parents created first), as `Ref` or the root's `GetAtt`."""
        parts = [part for part in path.strip("/").split("/") if part]
        parent: dict[str, Any] = get_att(self.logical_id, "RootResourceId")
        for depth in range(len(parts)):
            sub_path = "/".join(parts[: depth + 1])
            if sub_path not in self._resources:
                name = "".join(c for c in sub_path.title() if c.isalnum())
                logical_id = self.app.add(
                    f"{self.logical_id}{name}Resource",
                    "AWS::ApiGateway::Resource",
                    {"ParentId": parent, "PathPart": parts[depth], "RestApiId": self.api},
                )
                self._resources[sub_path] = logical_id
                self._deployment_depends.append(logical_id)
            parent = ref(self._resources[sub_path])
        return parent

    def method(
        self,
        path: str,
        http_method: str,
        integration: dict[str, Any],
        *,
        authorizer: str | None = None,
        api_key_required: bool = False,
        request_validator: str | None = None,
        request_models: dict[str, str] | None = None,
        request_parameters: dict[str, bool] | None = None,
        method_responses: list[str] | None = None,
    ) -> str:
        properties: dict[str, Any] = {
            "AuthorizationType": "CUSTOM" if authorizer else "NONE",
            "HttpMethod": http_method,
            "Integration": integration,
            "ResourceId": self.resource(path),
            "RestApiId": self.api,
        }
        if authorizer:
            properties["AuthorizerId"] = ref(authorizer)
        if api_key_required:
            properties["ApiKeyRequired"] = True
        if request_validator:
            properties["RequestValidatorId"] = ref(request_validator)
        if request_models:
            properties["RequestModels"] = {ct: ref(m) for ct, m in request_models.items()}
        if request_parameters:
            properties["RequestParameters"] = request_parameters
        if method_responses:
            properties["MethodResponses"] = [{"StatusCode": code} for code in method_responses]
        name = "".join(c for c in path.title() if c.isalnum()) or "Root"
        logical_id = self.app.add(
            f"{self.logical_id}{name}{http_method}", "AWS::ApiGateway::Method", properties
        )
        self._methods.append(logical_id)
        self._deployment_depends.append(logical_id)
        return logical_id

    @staticmethod
    def lambda_proxy(function: str, *, timeout_ms: int | None = None) -> dict[str, Any]:
        integration: dict[str, Any] = {
            "IntegrationHttpMethod": "POST",
            "Type": "AWS_PROXY",
            "Uri": lambda_uri(function),
        }
        if timeout_ms is not None:
            integration["TimeoutInMillis"] = timeout_ms
        return integration

    # -- authorizers, keys and plans ----------------------------------------------------------

    def authorizer(
        self,
        logical_id: str,
        function: str,
        *,
        kind: str = "TOKEN",
        identity_source: str = "method.request.header.Authorization",
        ttl: int = 300,
        validation_expression: str | None = None,
    ) -> str:
        properties: dict[str, Any] = {
            "AuthorizerResultTtlInSeconds": ttl,
            "AuthorizerUri": lambda_uri(function),
            "IdentitySource": identity_source,
            "Name": logical_id,
            "RestApiId": self.api,
            "Type": kind,
        }
        if validation_expression is not None:
            properties["IdentityValidationExpression"] = validation_expression
        return self.app.add(logical_id, "AWS::ApiGateway::Authorizer", properties)

    def api_key(self, logical_id: str, *, value: str, enabled: bool = True) -> str:
        return self.app.add(
            logical_id,
            "AWS::ApiGateway::ApiKey",
            {
                "Enabled": enabled,
                "Value": value,
                "StageKeys": [{"RestApiId": self.api, "StageName": ref(self.stage)}],
            },
        )

    def usage_plan(
        self,
        logical_id: str,
        *,
        keys: list[str],
        throttle: dict[str, Any] | None = None,
        quota: dict[str, Any] | None = None,
        method_throttle: dict[str, dict[str, Any]] | None = None,
    ) -> str:
        properties: dict[str, Any] = {
            "ApiStages": [
                {"ApiId": self.api, "Stage": ref(self.stage), "Throttle": method_throttle or {}}
            ]
        }
        if throttle:
            properties["Throttle"] = throttle
        if quota:
            properties["Quota"] = quota
        plan = self.app.add(logical_id, "AWS::ApiGateway::UsagePlan", properties)
        for key in keys:
            self.app.add(
                f"{logical_id}UsagePlanKey{key}",
                "AWS::ApiGateway::UsagePlanKey",
                {"KeyId": ref(key), "KeyType": "API_KEY", "UsagePlanId": ref(plan)},
            )
        return plan

    # -- validation and gateway responses -------------------------------------------------

    def validator(self, logical_id: str, *, body: bool, parameters: bool) -> str:
        validator = self.app.add(
            logical_id,
            "AWS::ApiGateway::RequestValidator",
            {
                "RestApiId": self.api,
                "ValidateRequestBody": body,
                "ValidateRequestParameters": parameters,
            },
        )
        self._deployment_depends.append(validator)
        return validator

    def model(self, logical_id: str, schema: dict[str, Any]) -> str:
        model = self.app.add(
            logical_id,
            "AWS::ApiGateway::Model",
            {
                "ContentType": "application/json",
                "RestApiId": self.api,
                "Schema": {"$schema": "http://json-schema.org/draft-04/schema#", **schema},
            },
        )
        self._deployment_depends.append(model)
        return model

    def gateway_response(
        self,
        logical_id: str,
        response_type: str,
        *,
        status_code: str | None = None,
        headers: dict[str, str] | None = None,
        templates: dict[str, str] | None = None,
    ) -> str:
        properties: dict[str, Any] = {"ResponseType": response_type, "RestApiId": self.api}
        if status_code:
            properties["StatusCode"] = status_code
        if headers:
            properties["ResponseParameters"] = {
                f"gatewayresponse.header.{name}": value for name, value in headers.items()
            }
        if templates:
            properties["ResponseTemplates"] = templates
        response = self.app.add(logical_id, "AWS::ApiGateway::GatewayResponse", properties)
        self._deployment_depends.append(response)
        return response

    # -- deployment -------------------------------------------------------------------------

    def finish(self) -> str:
        """The Deployment (after everything it deploys), its stage, and the `ApiUrl` output."""
        deployment = self.app.add(
            f"{self.logical_id}Deployment",
            "AWS::ApiGateway::Deployment",
            {
                "Description": "Automatically created by the RestApi construct",
                "RestApiId": self.api,
            },
        )
        self.app.resources[deployment]["DependsOn"] = list(reversed(self._deployment_depends))
        stage_properties: dict[str, Any] = {
            "DeploymentId": ref(deployment),
            "RestApiId": self.api,
            "StageName": self.stage_name,
        }
        if self.stage_variables:
            stage_properties["Variables"] = self.stage_variables
        if self.method_settings:
            stage_properties["MethodSettings"] = self.method_settings
        self.app.add(self.stage, "AWS::ApiGateway::Stage", stage_properties)
        self.app.resources[self.stage]["DependsOn"] = [f"{self.logical_id}Account"]
        self.app.output(
            "ApiUrl",
            {
                "Fn::Join": [
                    "",
                    [
                        "https://",
                        self.api,
                        ".execute-api.",
                        ref("AWS::Region"),
                        ".",
                        ref("AWS::URLSuffix"),
                        "/",
                        ref(self.stage),
                        "/",
                    ],
                ]
            },
        )
        self.app.output("ApiId", self.api)
        return deployment
