"""HTTP APIs (API Gateway v2): the template's APIs, routes, integrations and stages, served by the
API front: a request becomes the v2 proxy event of its route and runs the route's function.
A stage with access log settings gets one line per request, in its format, in its log group.

moto's CloudFormation skips every `AWS::ApiGatewayV2::*` resource; the models here create them
in moto's API Gateway v2 backend, so `Ref` and `Fn::GetAtt` to them resolve.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.cloudformation.exceptions import ValidationError

from localcloud.core import apifront
from localcloud.core.apifront import HttpRequest, HttpResponse
from localcloud.core.cloudformation import OwnedResource
from localcloud.core.runner import Invocation
from localcloud.core.service import Service
from localcloud.rules import access_logs

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
        access = _Access(request_id=_request_id(), started=time.time())
        response = self._serve(api, request, access)
        self._log_access(api, request, access, response)
        headers = {**response.headers, "apigw-requestid": access.request_id}
        return HttpResponse(response.status, headers, response.body)

    def _serve(self, api: Any, request: HttpRequest, access: _Access) -> HttpResponse:
        if len(request.body) > apifront.MAX_BODY_BYTES:
            return access.failed(413, "Request Entity Too Large")
        path, stage = request.path, "$default"
        if "$default" not in api.stages:
            stage_name, _, rest = path.lstrip("/").partition("/")
            if stage_name not in api.stages:
                return access.failed(404, "Not Found")
            path, stage = "/" + rest, stage_name
        access.stage = stage
        routes = {route.route_key: route for route in api.routes.values()}
        selected = apifront.select_route(list(routes), request.method, path)
        if selected is None:
            return access.failed(404, "Not Found")
        route_key, path_parameters = selected
        access.route_key = route_key
        route = routes[route_key]
        integration_id = (route.target or "").removeprefix("integrations/")
        integration = api.integrations.get(integration_id)
        if integration is None or integration.integration_type != "AWS_PROXY":
            return access.failed(500, "Internal Server Error")
        if str(integration.payload_format_version) != "2.0":
            return access.failed(500, "Internal Server Error")
        event = apifront.http_api_event(
            api_id=api.api_id,
            stage=stage,
            route_key=route_key,
            request=HttpRequest(request.method, path, request.query, request.headers, request.body),
            path_parameters=path_parameters,
            region=self.engine.region,
            account_id=self.engine.account_id,
            stage_variables=api.stages[stage].stage_variables or None,
            request_id=access.request_id,
        )
        function = self.engine.function(integration.integration_uri)
        invocation = self.engine.invoke(function, event, trigger=f"HTTP {request.method} {path}")
        access.invocation = invocation
        if invocation.error is not None:
            # What API Gateway logs for a function that failed (the function's own error is in
            # the function's log group).
            access.integration_error = (
                "The Lambda function returned the following error: Unhandled. "
                "Check your Lambda function code and try again."
            )
            if invocation.error.get("errorType") == "Sandbox.Timedout":
                return access.failed(503, "Service Unavailable")
            return access.failed(500, "Internal Server Error")
        try:
            return apifront.mapped_proxy_response(invocation.payload)
        except apifront.MalformedProxyResponseError:
            access.integration_error = (
                "The response from the Lambda function doesn't match the format that API "
                "Gateway expects."
            )
            return access.failed(500, "Internal Server Error")

    def _log_access(
        self, api: Any, request: HttpRequest, access: _Access, response: HttpResponse
    ) -> None:
        """One line in the stage's access log group, in the stage's format, if it has one."""
        stage = api.stages.get(access.stage) if access.stage else None
        settings = (getattr(stage, "access_log_settings", None) or {}) if stage else {}
        destination, log_format = settings.get("destinationArn"), settings.get("format")
        if not destination or not log_format:
            return
        group = destination.split(":log-group:", 1)[-1].removesuffix(":*")
        line = access_logs.render(log_format, access.context(api, request, response, self.engine))
        if not self.engine.write_log_events(group, f"{api.api_id}_{access.stage}", [line]):
            logger.warning("access log group %s of API %s does not exist", group, api.api_id)


def _request_id() -> str:
    # HTTP APIs name a request with 16 base64 characters (`Jk1mQh8TIAMEVzw=`).
    return base64.b64encode(uuid.uuid4().bytes[:11]).decode()[:15] + "="


@dataclass
class _Access:
    """What an access log line tells of one request: learned as the request goes through."""

    request_id: str
    started: float
    stage: str | None = None
    route_key: str | None = None
    invocation: Invocation | None = None
    integration_error: str | None = None
    error_message: str | None = None

    def failed(self, status: int, message: str) -> HttpResponse:
        self.error_message = message
        return apifront.gateway_error(status, message)

    def context(
        self, api: Any, request: HttpRequest, response: HttpResponse, engine: Any
    ) -> dict[str, Any]:
        """`$context` of an HTTP API's access log for this request and its response."""
        invocation = self.invocation
        payload = invocation.payload if invocation is not None else None
        function_status = payload.get("statusCode") if isinstance(payload, dict) else None
        integration = (
            {
                "requestId": invocation.request_id,
                "status": 200,
                "integrationStatus": function_status or (200 if invocation.succeeded else None),
                "latency": round(invocation.duration_ms),
                "error": self.integration_error,
            }
            if invocation is not None
            else {}
        )
        return {
            "accountId": engine.account_id,
            "apiId": api.api_id,
            "domainName": f"{api.api_id}.execute-api.{engine.region}.amazonaws.com",
            "domainPrefix": api.api_id,
            "requestId": self.request_id,
            "extendedRequestId": self.request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.started)),
            "requestTimeEpoch": int(self.started * 1000),
            "httpMethod": request.method.upper(),
            "path": request.path,
            "protocol": "HTTP/1.1",
            "routeKey": self.route_key,
            "stage": self.stage,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": _header(request.headers, "user-agent"),
            },
            "status": response.status,
            "responseLength": len(response.content),
            "responseLatency": round((time.time() - self.started) * 1000),
            "integration": integration,
            "integrationErrorMessage": self.integration_error,
            "integrationStatus": integration.get("status"),
            "integrationLatency": integration.get("latency"),
            "error": {
                "message": self.error_message,
                "messageString": json.dumps(self.error_message) if self.error_message else None,
            },
        }


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


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
        access_log = props.get("AccessLogSettings") or {}
        config = {
            "stageName": props["StageName"],
            "autoDeploy": props.get("AutoDeploy", False),
            "defaultRouteSettings": props.get("DefaultRouteSettings"),
            "stageVariables": props.get("StageVariables", {}),
            # Kept as the API writes it (GetStage), from the template's property names.
            "accessLogSettings": {
                "destinationArn": access_log.get("DestinationArn"),
                "format": access_log.get("Format"),
            }
            if access_log
            else None,
            "description": props.get("Description"),
        }
        config = {key: value for key, value in config.items() if value is not None}
        cls._backend(account_id, region_name).create_stage(props["ApiId"], config)
        return cls._part(props["StageName"], props, region_name, account_id)


HttpApis.MODELS = (HttpApi, HttpApiIntegration, HttpApiRoute, HttpApiStage)
