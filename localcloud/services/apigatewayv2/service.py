"""HTTP APIs (API Gateway v2): the template's APIs, routes, integrations and stages, served by the
API front: a request becomes the v2 proxy event of its route and runs the route's function.

moto's CloudFormation skips every `AWS::ApiGatewayV2::*` resource; the models here create them
in moto's API Gateway v2 backend, so `Ref` and `Fn::GetAtt` to them resolve.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.cloudformation.exceptions import ValidationError

from localcloud.core import apifront
from localcloud.core.apifront import HttpRequest, HttpResponse
from localcloud.core.cloudformation import OwnedResource
from localcloud.core.service import Service

logger = logging.getLogger("localcloud")


class HttpApis(Service):
    """HTTP APIs from the template, answered as API Gateway v2 would (see the module docstring)."""

    NAME = "apigatewayv2"

    def apis(self) -> list[dict[str, str]]:
        """The HTTP APIs served: id, name and local URL (when served over an endpoint)."""
        backend = apigatewayv2_backends[self.engine.account_id][self.engine.region]
        return [
            {
                "id": api.api_id,
                "name": api.name,
                "url": apifront.local_url(self.engine.endpoint_url or "", api.api_id),
            }
            for api in backend.apis.values()
            if api.protocol_type == "HTTP"
        ]

    def handle_http(self, api_id: str, request: HttpRequest) -> HttpResponse | None:
        api = apigatewayv2_backends[self.engine.account_id][self.engine.region].apis.get(api_id)
        if api is None or api.protocol_type != "HTTP":
            return None
        if len(request.body) > apifront.MAX_BODY_BYTES:
            return apifront.gateway_error(413, "Request Entity Too Large")
        path, stage = request.path, "$default"
        if "$default" not in api.stages:
            stage_name, _, rest = path.lstrip("/").partition("/")
            if stage_name not in api.stages:
                return apifront.gateway_error(404, "Not Found")
            path, stage = "/" + rest, stage_name
        routes = {route.route_key: route for route in api.routes.values()}
        selected = apifront.select_route(list(routes), request.method, path)
        if selected is None:
            return apifront.gateway_error(404, "Not Found")
        route_key, path_parameters = selected
        route = routes[route_key]
        integration_id = (route.target or "").removeprefix("integrations/")
        integration = api.integrations.get(integration_id)
        if integration is None or integration.integration_type != "AWS_PROXY":
            return apifront.gateway_error(500, "Internal Server Error")
        if str(integration.payload_format_version) != "2.0":
            return apifront.gateway_error(500, "Internal Server Error")
        event = apifront.http_api_event(
            api_id=api_id,
            stage=stage,
            route_key=route_key,
            request=HttpRequest(request.method, path, request.query, request.headers, request.body),
            path_parameters=path_parameters,
            region=self.engine.region,
            account_id=self.engine.account_id,
            stage_variables=api.stages[stage].stage_variables or None,
        )
        function = self.engine.function(integration.integration_uri)
        invocation = self.engine.invoke(function, event, trigger=f"HTTP {request.method} {path}")
        if invocation.error is not None:
            if invocation.error.get("errorType") == "Sandbox.Timedout":
                return apifront.gateway_error(503, "Service Unavailable")
            return apifront.gateway_error(500, "Internal Server Error")
        return apifront.proxy_response(invocation.payload)


class _HttpApiPart(OwnedResource):
    """A part of an HTTP API (integration, route, stage), created inside its API."""

    # The API's collection that holds this part; a part's attributes all name its id.
    collection: ClassVar[str] = ""

    @staticmethod
    def _backend(account_id: str, region_name: str) -> Any:
        return apigatewayv2_backends[account_id][region_name]

    @classmethod
    def _part(cls, physical_id: str, props: dict[str, Any], region: str, account: str) -> Any:
        part = cls(physical_id, props, region, account)
        part.api_id = props["ApiId"]
        return part

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.attributes:
            return self.physical_id
        return super().get_cfn_attribute(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        api = self._backend(account_id, region_name).apis.get(self.api_id)
        if api is not None:
            getattr(api, self.collection).pop(self.physical_id, None)


class HttpApi(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Api"
    attributes = ("ApiEndpoint", "ApiId")

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApi:
        props = cloudformation_json["Properties"]
        if props.get("Body") or props.get("BodyS3Location"):
            raise ValidationError(resource_name, "an API imported from OpenAPI is not supported")
        api = cls._backend(account_id, region_name).create_api(
            api_key_selection_expression=props.get("ApiKeySelectionExpression"),
            cors_configuration=props.get("CorsConfiguration"),
            description=props.get("Description", ""),
            disable_schema_validation=props.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
            name=props.get("Name", resource_name),
            protocol_type=props.get("ProtocolType", "HTTP"),
            route_selection_expression=props.get("RouteSelectionExpression"),
            tags=props.get("Tags") or {},
            version=props.get("Version"),
        )
        return cls(api.api_id, props, region_name, account_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name == "ApiId":
            return self.physical_id
        if attribute_name == "ApiEndpoint":
            return f"https://{self.physical_id}.execute-api.{self.region}.amazonaws.com"
        return super().get_cfn_attribute(attribute_name)

    def update_in_place(self, properties: dict[str, Any]) -> bool:
        # An update keeps the API and its id (and so its URL), as CloudFormation does.
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        backend = self._backend(account_id, region_name)
        if self.physical_id in backend.apis:
            backend.delete_api(self.physical_id)


class HttpApiIntegration(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Integration"
    attributes = ("IntegrationId",)
    collection = "integrations"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApiIntegration:
        props = cloudformation_json["Properties"]
        integration = cls._backend(account_id, region_name).create_integration(
            api_id=props["ApiId"],
            connection_id=props.get("ConnectionId"),
            connection_type=props.get("ConnectionType", "INTERNET"),
            content_handling_strategy=props.get("ContentHandlingStrategy"),
            credentials_arn=props.get("CredentialsArn"),
            description=props.get("Description", ""),
            integration_method=props.get("IntegrationMethod", "POST"),
            integration_subtype=props.get("IntegrationSubtype"),
            integration_type=props["IntegrationType"],
            integration_uri=props.get("IntegrationUri"),
            passthrough_behavior=props.get("PassthroughBehavior"),
            payload_format_version=str(props.get("PayloadFormatVersion", "2.0")),
            request_parameters=props.get("RequestParameters"),
            request_templates=props.get("RequestTemplates"),
            response_parameters=props.get("ResponseParameters"),
            template_selection_expression=props.get("TemplateSelectionExpression"),
            timeout_in_millis=props.get("TimeoutInMillis"),
            tls_config=props.get("TlsConfig"),
        )
        return cls._part(integration.id, props, region_name, account_id)


class HttpApiRoute(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Route"
    attributes = ("RouteId",)
    collection = "routes"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApiRoute:
        props = cloudformation_json["Properties"]
        route = cls._backend(account_id, region_name).create_route(
            api_id=props["ApiId"],
            api_key_required=props.get("ApiKeyRequired", False),
            authorization_scopes=props.get("AuthorizationScopes", []),
            authorization_type=props.get("AuthorizationType", "NONE"),
            authorizer_id=props.get("AuthorizerId"),
            model_selection_expression=props.get("ModelSelectionExpression"),
            operation_name=props.get("OperationName"),
            request_models=props.get("RequestModels"),
            request_parameters=props.get("RequestParameters"),
            route_key=props["RouteKey"],
            route_response_selection_expression=props.get("RouteResponseSelectionExpression"),
            target=props.get("Target"),
        )
        return cls._part(route.route_id, props, region_name, account_id)


class HttpApiStage(_HttpApiPart):
    resource_type = "AWS::ApiGatewayV2::Stage"
    collection = "stages"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> HttpApiStage:
        props = cloudformation_json["Properties"]
        config = {
            "stageName": props["StageName"],
            "autoDeploy": props.get("AutoDeploy", False),
            "defaultRouteSettings": props.get("DefaultRouteSettings"),
            "stageVariables": props.get("StageVariables", {}),
            "accessLogSettings": props.get("AccessLogSettings"),
            "description": props.get("Description"),
        }
        config = {key: value for key, value in config.items() if value is not None}
        cls._backend(account_id, region_name).create_stage(props["ApiId"], config)
        return cls._part(props["StageName"], props, region_name, account_id)


HttpApis.MODELS = (HttpApi, HttpApiIntegration, HttpApiRoute, HttpApiStage)
