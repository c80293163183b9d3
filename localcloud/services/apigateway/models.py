"""CloudFormation models for REST APIs (`AWS::ApiGateway::*`), held in moto's API Gateway backend.

moto's own models fail a CDK `RestApi` ("The REST API doesn't contain any methods": its
Deployment model checks for methods its Method model has not created yet), drop most of a
method's properties (request models, validators, integration responses, templates) and skip
`Authorizer` and `Account`. These models create every part in moto's backend with all the
template's properties, so `boto3`'s `get_rest_apis`, `get_resources`, `get_api_keys`... answer,
and the API front reads the same objects. `Ref` and `Fn::GetAtt` give what CloudFormation
gives: RestApi `Ref` is its id and `GetAtt RootResourceId` its root resource; Stage and Model
`Ref` are their names; every other part's `Ref` is its id.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.apigateway.models import APIGatewayBackend, apigateway_backends
from moto.cloudformation.exceptions import ValidationError

from localcloud.core.cloudformation import OwnedResource


def _backend(account_id: str, region_name: str) -> APIGatewayBackend:
    return apigateway_backends[account_id][region_name]


def _flag(value: Any) -> bool:
    """A template boolean, which CloudFormation may hand over as "true"/"false"."""
    return value is True or str(value).lower() == "true"


class _RestApiPart(OwnedResource):
    """A part of a REST API, created inside the API its `RestApiId` names.

    A part's attributes all name its id; deleting it removes it from the API's `collection`.
    """

    collection: ClassVar[str] = ""

    def _api(self) -> Any:
        return _backend(self.account, self.region).apis.get(self.properties["RestApiId"])

    def _key(self) -> str:
        """The part's key in its collection."""
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.attributes:
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = self._api()
        if api is not None:
            getattr(api, self.collection).pop(self._key(), None)


class RestApi(_RestApiPart):
    resource_type = "AWS::ApiGateway::RestApi"
    attributes = ("RestApiId", "RootResourceId")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApi:
        props = cloudformation_json.get("Properties", {})
        if props.get("Body") or props.get("BodyS3Location"):
            raise ValidationError(
                resource_name, "a REST API imported from OpenAPI is not supported"
            )
        api = _backend(account_id, region_name).create_rest_api(
            name=props.get("Name", resource_name),
            description=props.get("Description", ""),
            api_key_source=props.get("ApiKeySourceType", "HEADER"),
            endpoint_configuration=props.get("EndpointConfiguration"),
            policy=json.dumps(props["Policy"]) if props.get("Policy") else None,
            minimum_compression_size=props.get("MinimumCompressionSize"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
        )
        api.binaryMediaTypes = list(props.get("BinaryMediaTypes") or [])
        return cls(api.id, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "RootResourceId":
            return _backend(self.account, self.region).apis[self.physical_id].root_resource_id
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        # An update keeps the API, its id (and so its URL) and its resources, as on AWS.
        api = _backend(self.account, self.region).apis.get(self.physical_id)
        if api is not None:
            api.binaryMediaTypes = list(properties.get("BinaryMediaTypes") or [])
            api.api_key_source = properties.get("ApiKeySourceType", "HEADER")
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).apis.pop(self.physical_id, None)


class RestApiResource(_RestApiPart):
    resource_type = "AWS::ApiGateway::Resource"
    collection = "resources"
    attributes = ("ResourceId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiResource:
        props = cloudformation_json["Properties"]
        resource = _backend(account_id, region_name).create_resource(
            function_id=props["RestApiId"],
            parent_resource_id=props["ParentId"],
            path_part=props["PathPart"],
        )
        return cls(resource.id, props, region_name, account_id)


class RestApiMethod(_RestApiPart):
    resource_type = "AWS::ApiGateway::Method"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiMethod:
        props = cloudformation_json["Properties"]
        api_id, resource_id = props["RestApiId"], props["ResourceId"]
        http_method = props["HttpMethod"].upper()
        backend = _backend(account_id, region_name)
        method = backend.put_method(
            function_id=api_id,
            resource_id=resource_id,
            method_type=http_method,
            authorization_type=props.get("AuthorizationType", "NONE"),
            api_key_required=_flag(props.get("ApiKeyRequired", False)),
            request_parameters={
                name: _flag(required)
                for name, required in (props.get("RequestParameters") or {}).items()
            },
            request_models=props.get("RequestModels") or {},
            operation_name=props.get("OperationName"),
            authorizer_id=props.get("AuthorizerId"),
            authorization_scopes=props.get("AuthorizationScopes"),
            request_validator_id=props.get("RequestValidatorId"),
        )
        for response in props.get("MethodResponses") or []:
            method.create_response(
                str(response["StatusCode"]),
                response.get("ResponseModels") or {},
                response.get("ResponseParameters") or {},
            )
        spec = props.get("Integration")
        if spec:
            # moto's put_integration refuses some URIs CloudFormation accepts (stage variables
            # in a function ARN); the template was validated by CDK, so it is taken as is.
            resource = backend.get_resource(api_id, resource_id)
            integration = resource.add_integration(
                http_method,
                spec["Type"],
                spec.get("Uri", ""),
                request_templates=spec.get("RequestTemplates") or {},
                passthrough_behavior=spec.get("PassthroughBehavior", "WHEN_NO_MATCH"),
                integration_method=spec.get("IntegrationHttpMethod") or http_method,
                timeout_in_millis=spec.get("TimeoutInMillis"),
                request_parameters=spec.get("RequestParameters") or {},
                content_handling=spec.get("ContentHandling"),
                credentials=spec.get("Credentials"),
                connection_type=spec.get("ConnectionType"),
            )
            for response in spec.get("IntegrationResponses") or []:
                integration.create_integration_response(
                    str(response["StatusCode"]),
                    response.get("SelectionPattern"),
                    response.get("ResponseTemplates") or {},
                    response.get("ResponseParameters") or {},
                    response.get("ContentHandling"),
                )
        return cls(f"{api_id}-{resource_id}-{http_method}", props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        api = self._api()
        resource = api.resources.get(self.properties["ResourceId"]) if api is not None else None
        if resource is not None:
            resource.resource_methods.pop(self.properties["HttpMethod"].upper(), None)


class RestApiDeployment(_RestApiPart):
    resource_type = "AWS::ApiGateway::Deployment"
    collection = "deployments"
    attributes = ("DeploymentId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiDeployment:
        props = cloudformation_json["Properties"]
        api = _backend(account_id, region_name).get_rest_api(props["RestApiId"])
        stage_name = props.get("StageName")
        stage_description = props.get("StageDescription") or {}
        deployment = api.create_deployment(
            stage_name, props.get("Description", ""), stage_description.get("Variables") or {}
        )
        if stage_name:
            _apply_stage_settings(api.stages[stage_name], stage_description)
        return cls(deployment.id, props, region_name, account_id)


class RestApiStage(_RestApiPart):
    resource_type = "AWS::ApiGateway::Stage"
    collection = "stages"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiStage:
        props = cloudformation_json["Properties"]
        api = _backend(account_id, region_name).get_rest_api(props["RestApiId"])
        name = props["StageName"]
        # A Deployment with a StageName has made this stage already; the Stage resource wins.
        api.stages.pop(name, None)
        stage = api.create_stage(
            name,
            props.get("DeploymentId"),
            variables=dict(props.get("Variables") or {}),
            description=props.get("Description", ""),
            cacheClusterEnabled=props.get("CacheClusterEnabled"),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=None,
            tracing_enabled=props.get("TracingEnabled"),
        )
        _apply_stage_settings(stage, props)
        return cls(name, props, region_name, account_id)


def _apply_stage_settings(stage: Any, props: dict[str, Any]) -> None:
    """Keep a stage's access log setting, and its method settings (throttling) keyed as API
    Gateway keys them.

    The key is the template's `ResourcePath` without its leading slash (slashes within it are
    written `~1`) and the method: `*/*` for all, `~1items~1{id}/GET` for one method.
    """
    for setting in props.get("MethodSettings") or []:
        key = f"{setting.get('ResourcePath', '/*')[1:]}/{setting.get('HttpMethod', '*')}"
        stage.method_settings[key] = {
            "throttlingBurstLimit": setting.get("ThrottlingBurstLimit"),
            "throttlingRateLimit": setting.get("ThrottlingRateLimit"),
        }
    access_log = props.get("AccessLogSetting") or {}
    if access_log:
        # Kept as the API writes it (GetStage's accessLogSettings); the front writes the log.
        stage.access_log_settings = {
            "destinationArn": access_log.get("DestinationArn"),
            "format": access_log.get("Format"),
        }
    for source, target in (
        ("ThrottlingBurstLimit", "throttlingBurstLimit"),
        ("ThrottlingRateLimit", "throttlingRateLimit"),
    ):
        if source in props:
            stage.method_settings.setdefault("*/*", {})[target] = props[source]


class RestApiAuthorizer(_RestApiPart):
    resource_type = "AWS::ApiGateway::Authorizer"
    collection = "authorizers"
    attributes = ("AuthorizerId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiAuthorizer:
        props = cloudformation_json["Properties"]
        authorizer = _backend(account_id, region_name).create_authorizer(
            restapi_id=props["RestApiId"],
            name=props.get("Name", resource_name),
            authorizer_type=props["Type"],
            provider_arns=props.get("ProviderARNs"),
            auth_type=props.get("AuthType"),
            authorizer_uri=props.get("AuthorizerUri"),
            authorizer_credentials=props.get("AuthorizerCredentials"),
            identity_source=props.get("IdentitySource"),
            # CloudFormation's default; 0 turns caching off.
            authorizer_result_ttl=int(props.get("AuthorizerResultTtlInSeconds", 300)),
        )
        # moto's backend drops this argument (a misspelt keyword), so it is set here.
        authorizer.identity_validation_expression = props.get("IdentityValidationExpression")
        return cls(authorizer.id, props, region_name, account_id)


class RestApiKey(OwnedResource):
    resource_type = "AWS::ApiGateway::ApiKey"
    attributes = ("APIKeyId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiKey:
        props = cloudformation_json.get("Properties", {})
        payload: dict[str, Any] = {
            "name": props.get("Name", resource_name),
            "description": props.get("Description"),
            # CloudFormation's default is a disabled key.
            "enabled": _flag(props.get("Enabled", False)),
            "customerId": props.get("CustomerId"),
            "stageKeys": [
                f"{key.get('RestApiId')}/{key.get('StageName')}"
                for key in props.get("StageKeys") or []
            ],
        }
        if props.get("Value"):
            payload["value"] = props["Value"]
        key = _backend(account_id, region_name).create_api_key(payload)
        return cls(key.id, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "APIKeyId":
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).keys.pop(self.physical_id, None)


class RestApiUsagePlan(OwnedResource):
    resource_type = "AWS::ApiGateway::UsagePlan"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiUsagePlan:
        props = cloudformation_json.get("Properties", {})
        payload: dict[str, Any] = {
            "name": props.get("UsagePlanName", resource_name),
            "description": props.get("Description"),
            "apiStages": [
                {
                    "apiId": stage["ApiId"],
                    "stage": stage["Stage"],
                    # "/{resource path}/{METHOD}" -> {"burstLimit", "rateLimit"}
                    "throttle": {
                        path: _throttle(settings)
                        for path, settings in (stage.get("Throttle") or {}).items()
                    },
                }
                for stage in props.get("ApiStages") or []
            ],
            "throttle": _throttle(props.get("Throttle") or {}),
            "quota": {
                key[0].lower() + key[1:]: value for key, value in (props.get("Quota") or {}).items()
            },
        }
        plan = _backend(account_id, region_name).create_usage_plan(payload)
        return cls(plan.id, props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        backend.usage_plans.pop(self.physical_id, None)
        backend.usage_plan_keys.pop(self.physical_id, None)


def _throttle(settings: dict[str, Any]) -> dict[str, Any]:
    throttle: dict[str, Any] = {}
    if settings.get("BurstLimit") is not None:
        throttle["burstLimit"] = int(settings["BurstLimit"])
    if settings.get("RateLimit") is not None:
        throttle["rateLimit"] = float(settings["RateLimit"])
    return throttle


class RestApiUsagePlanKey(OwnedResource):
    resource_type = "AWS::ApiGateway::UsagePlanKey"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiUsagePlanKey:
        props = cloudformation_json["Properties"]
        key = _backend(account_id, region_name).create_usage_plan_key(
            props["UsagePlanId"], {"keyId": props["KeyId"], "keyType": props["KeyType"]}
        )
        return cls(key.id, props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        keys = _backend(account_id, region_name).usage_plan_keys
        keys.get(self.properties["UsagePlanId"], {}).pop(self.physical_id, None)


class RestApiRequestValidator(_RestApiPart):
    resource_type = "AWS::ApiGateway::RequestValidator"
    collection = "request_validators"
    attributes = ("RequestValidatorId",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiRequestValidator:
        props = cloudformation_json["Properties"]
        validator = _backend(account_id, region_name).create_request_validator(
            props["RestApiId"],
            props.get("Name", resource_name),
            _flag(props.get("ValidateRequestBody", False)),
            _flag(props.get("ValidateRequestParameters", False)),
        )
        return cls(validator.id, props, region_name, account_id)


class RestApiModel(_RestApiPart):
    resource_type = "AWS::ApiGateway::Model"
    collection = "models"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiModel:
        props = cloudformation_json["Properties"]
        schema = props.get("Schema") or {}
        model = _backend(account_id, region_name).create_model(
            props["RestApiId"],
            props.get("Name", resource_name),
            props.get("ContentType", "application/json"),
            props.get("Description", ""),
            schema if isinstance(schema, str) else json.dumps(schema),
        )
        return cls(model.name, props, region_name, account_id)


class RestApiGatewayResponse(_RestApiPart):
    resource_type = "AWS::ApiGateway::GatewayResponse"
    collection = "gateway_responses"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiGatewayResponse:
        props = cloudformation_json["Properties"]
        api = _backend(account_id, region_name).get_rest_api(props["RestApiId"])
        api.put_gateway_response(
            response_type=props["ResponseType"],
            status_code=props.get("StatusCode"),
            response_parameters=props.get("ResponseParameters") or {},
            response_templates=props.get("ResponseTemplates") or {},
        )
        physical_id = f"{props['RestApiId']}-{props['ResponseType']}"
        return cls(physical_id, props, region_name, account_id)

    def _key(self) -> str:
        return self.properties["ResponseType"]


class RestApiAccount(OwnedResource):
    """The account's API Gateway settings: only its CloudWatch role, which has no local effect."""

    resource_type = "AWS::ApiGateway::Account"
    attributes = ("Id",)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> RestApiAccount:
        props = cloudformation_json.get("Properties", {})
        _backend(account_id, region_name).account.cloudwatch_role_arn = props.get(
            "CloudWatchRoleArn"
        )
        return cls(f"{account_id}-apigateway-account", props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "Id":
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)


MODELS: tuple[type[OwnedResource], ...] = (
    RestApi,
    RestApiResource,
    RestApiMethod,
    RestApiDeployment,
    RestApiStage,
    RestApiAuthorizer,
    RestApiKey,
    RestApiUsagePlan,
    RestApiUsagePlanKey,
    RestApiRequestValidator,
    RestApiModel,
    RestApiGatewayResponse,
    RestApiAccount,
)
"""Every `AWS::ApiGateway::*` type CDK's `RestApi` emits, as owned models."""
