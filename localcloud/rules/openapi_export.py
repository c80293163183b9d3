"""API Gateway's export of a REST API stage as an OpenAPI document (`GetExport`).

The document is built from what the API declares, as API Gateway builds it: one path per
resource and one operation per method; a method's request parameters (`method.request.
{path|querystring|header}.{name}`, required or not) as parameters; its request models as the
body (required when the method's validator validates bodies); its method responses as the
responses, with their header parameters and models; models as schemas (API Gateway's model
URLs turned into local references); API keys and authorizers as security schemes, each method
requiring those it uses. `oas30` gives OpenAPI 3.0.1, `swagger` gives Swagger 2.0.

The `extensions` parameter adds API Gateway's own `x-amazon-apigateway-*` fields: `integrations`
the methods' integrations, `authorizers` the authorizers' settings, `apigateway` both plus the
request validators.

The API arrives as plain values (`RestApiDescription`): this module knows nothing of where they
are stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXPORT_TYPES = ("oas30", "swagger")
#: `extensions` values and the extension groups each adds.
EXTENSIONS: Mapping[str, frozenset[str]] = {
    "integrations": frozenset({"integrations"}),
    "authorizers": frozenset({"authorizers"}),
    "apigateway": frozenset({"integrations", "authorizers", "validators"}),
    "postman": frozenset(),
}

API_KEY_SCHEME = "api_key"
SIGV4_SCHEME = "sigv4"
ANY_METHOD = "x-amazon-apigateway-any-method"

_PARAMETER = re.compile(r"^method\.request\.(?P<where>path|querystring|header)\.(?P<name>.+)$")
_RESPONSE_HEADER = re.compile(r"^method\.response\.header\.(?P<name>.+)$")
_MODEL_URL = re.compile(
    r"^https://apigateway\.amazonaws\.com/restapis/[^/]+/models/(?P<name>[^/#]+)"
)
_PATH_PARAMETER = re.compile(r"\{([^}+]+)\+?\}")
_IN = {"path": "path", "querystring": "query", "header": "header"}


class ExportError(ValueError):
    """A request for an export API Gateway refuses (its message is API Gateway's)."""


@dataclass(frozen=True)
class RestApiDescription:
    """What a REST API declares, in the API's own JSON shapes (`GetMethod`, `GetModels`...)."""

    api_id: str
    name: str
    #: The URL the stage is served under, without the stage (ends with `/`).
    base_url: str
    stage: str
    #: The stage's deployment time, as the document's version.
    version: str
    description: str | None = None
    #: Resource path -> HTTP method -> the method as `GetMethod` answers it.
    methods: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    #: Model name -> the model as `GetModel` answers it (`schema` a JSON text).
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Authorizer id -> the authorizer as `GetAuthorizer` answers it.
    authorizers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Request validator id -> the validator as `GetRequestValidator` answers it.
    validators: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def export(api: RestApiDescription, export_type: str, extensions: str | None = None) -> dict:
    """The OpenAPI document of `api`'s stage (see the module docstring)."""
    if export_type not in EXPORT_TYPES:
        raise ExportError(f"No API exporter for type '{export_type}'")
    groups = frozenset()
    if extensions:
        if extensions not in EXTENSIONS:
            raise ExportError(f"Invalid extensions value: '{extensions}'")
        groups = EXTENSIONS[extensions]
    return _Exporter(api, oas3=export_type == "oas30", groups=groups).document()


class _Exporter:
    def __init__(self, api: RestApiDescription, *, oas3: bool, groups: frozenset[str]) -> None:
        self.api = api
        self.oas3 = oas3
        self.groups = groups
        self.schema_prefix = "#/components/schemas/" if oas3 else "#/definitions/"

    def document(self) -> dict[str, Any]:
        info: dict[str, Any] = {"title": self.api.name}
        if self.api.description:
            info["description"] = self.api.description
        info["version"] = self.api.version
        paths = {
            path: {
                _operation_key(verb): self._operation(path, method)
                for verb, method in sorted(methods.items())
            }
            for path, methods in sorted(self.api.methods.items())
            if methods
        }
        schemas = {name: self._schema(model) for name, model in sorted(self.api.models.items())}
        schemes = self._security_schemes()
        if self.oas3:
            document: dict[str, Any] = {
                "openapi": "3.0.1",
                "info": info,
                "servers": [
                    {
                        "url": f"{self.api.base_url}{{basePath}}",
                        "variables": {"basePath": {"default": self.api.stage}},
                    }
                ],
                "paths": paths,
                "components": {"schemas": schemas},
            }
            if schemes:
                document["components"]["securitySchemes"] = schemes
        else:
            scheme, _, rest = self.api.base_url.partition("://")
            host, _, base_path = rest.partition("/")
            document = {
                "swagger": "2.0",
                "info": info,
                "host": host,
                "basePath": f"/{base_path}{self.api.stage}",
                "schemes": [scheme],
                "paths": paths,
                "definitions": schemas,
            }
            if schemes:
                document["securityDefinitions"] = schemes
        if "validators" in self.groups and self.api.validators:
            document["x-amazon-apigateway-request-validators"] = {
                validator["name"]: {
                    "validateRequestBody": bool(validator.get("validateRequestBody")),
                    "validateRequestParameters": bool(validator.get("validateRequestParameters")),
                }
                for validator in self.api.validators.values()
            }
        return document

    # -- an operation -------------------------------------------------------------------------

    def _operation(self, path: str, method: Mapping[str, Any]) -> dict[str, Any]:
        operation: dict[str, Any] = {}
        if method.get("operationName"):
            operation["operationId"] = method["operationName"]
        parameters = self._parameters(path, method)
        models = method.get("requestModels") or {}
        validator = self.api.validators.get(method.get("requestValidatorId") or "") or {}
        body_required = bool(validator.get("validateRequestBody"))
        if models and self.oas3:
            operation["requestBody"] = {
                "content": {
                    content_type: {"schema": self._ref(model)}
                    for content_type, model in sorted(models.items())
                },
                "required": body_required,
            }
        elif models:
            model = next(iter(sorted(models.items())))[1]
            parameters.append(
                {"in": "body", "name": model, "required": body_required, "schema": self._ref(model)}
            )
            operation["consumes"] = sorted(models)
        if parameters:
            operation["parameters"] = parameters
        responses = method.get("methodResponses") or {}
        if not self.oas3:
            produces = sorted(
                {
                    content_type
                    for response in responses.values()
                    for content_type in (response.get("responseModels") or {})
                }
            )
            if produces:
                operation["produces"] = produces
        operation["responses"] = {
            str(status): self._response(response) for status, response in sorted(responses.items())
        }
        security = self._security(method)
        if security:
            operation["security"] = [security]
        if "validators" in self.groups and validator:
            operation["x-amazon-apigateway-request-validator"] = validator["name"]
        integration = method.get("methodIntegration")
        if "integrations" in self.groups and integration:
            operation["x-amazon-apigateway-integration"] = _integration(integration)
        return operation

    def _parameters(self, path: str, method: Mapping[str, Any]) -> list[dict[str, Any]]:
        # Every parameter of the resource's path, declared or not (an OPTIONS method CDK adds
        # for CORS declares none): the operation's path names them.
        declared = {f"method.request.path.{name}": True for name in _PATH_PARAMETER.findall(path)}
        declared.update(method.get("requestParameters") or {})
        parameters = []
        for source, required in sorted(declared.items()):
            found = _PARAMETER.match(source)
            if found is None:
                continue
            where = _IN[found["where"]]
            parameter: dict[str, Any] = {
                "name": found["name"],
                "in": where,
                # A path parameter is always required: the path does not match without it.
                "required": where == "path" or bool(required),
            }
            if self.oas3:
                parameter["schema"] = {"type": "string"}
            else:
                parameter["type"] = "string"
            parameters.append(parameter)
        return parameters

    def _response(self, response: Mapping[str, Any]) -> dict[str, Any]:
        status = response.get("statusCode")
        answer: dict[str, Any] = {"description": f"{status} response"}
        headers = {}
        for source in sorted(response.get("responseParameters") or {}):
            found = _RESPONSE_HEADER.match(source)
            if found is not None:
                headers[found["name"]] = (
                    {"schema": {"type": "string"}} if self.oas3 else {"type": "string"}
                )
        if headers:
            answer["headers"] = headers
        models = response.get("responseModels") or {}
        if models and self.oas3:
            answer["content"] = {
                content_type: {"schema": self._ref(model)}
                for content_type, model in sorted(models.items())
            }
        elif models:
            answer["schema"] = self._ref(next(iter(sorted(models.items())))[1])
        return answer

    def _security(self, method: Mapping[str, Any]) -> dict[str, list[str]]:
        requirement: dict[str, list[str]] = {}
        authorization = (method.get("authorizationType") or "NONE").upper()
        if authorization == "AWS_IAM":
            requirement[SIGV4_SCHEME] = []
        elif authorization in ("CUSTOM", "COGNITO_USER_POOLS"):
            authorizer = self.api.authorizers.get(method.get("authorizerId") or "")
            if authorizer is not None:
                requirement[authorizer["name"]] = list(method.get("authorizationScopes") or [])
        if method.get("apiKeyRequired"):
            requirement[API_KEY_SCHEME] = []
        return requirement

    # -- components ---------------------------------------------------------------------------

    def _ref(self, model_name: str) -> dict[str, str]:
        return {"$ref": f"{self.schema_prefix}{model_name}"}

    def _schema(self, model: Mapping[str, Any]) -> Any:
        schema = model.get("schema") or "{}"
        parsed = json.loads(schema) if isinstance(schema, str) else dict(schema)
        return self._local_refs(parsed, top=True)

    def _local_refs(self, value: Any, *, top: bool = False) -> Any:
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                # A model is a JSON Schema draft 4 document; a schema object names no dialect.
                if top and key == "$schema":
                    continue
                if key == "$ref" and isinstance(item, str) and _MODEL_URL.match(item):
                    item = f"{self.schema_prefix}{_MODEL_URL.match(item)['name']}"
                result[key] = self._local_refs(item)
            return result
        if isinstance(value, list):
            return [self._local_refs(item) for item in value]
        return value

    def _security_schemes(self) -> dict[str, Any]:
        methods = [method for by_verb in self.api.methods.values() for method in by_verb.values()]
        schemes: dict[str, Any] = {}
        if any(method.get("apiKeyRequired") for method in methods):
            schemes[API_KEY_SCHEME] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
        if any((method.get("authorizationType") or "").upper() == "AWS_IAM" for method in methods):
            schemes[SIGV4_SCHEME] = {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        used = {method.get("authorizerId") for method in methods}
        for authorizer_id, authorizer in sorted(self.api.authorizers.items()):
            if authorizer_id in used:
                schemes[authorizer["name"]] = self._authorizer_scheme(authorizer)
        return schemes

    def _authorizer_scheme(self, authorizer: Mapping[str, Any]) -> dict[str, Any]:
        kind = (authorizer.get("type") or "TOKEN").upper()
        sources = [
            source.strip()
            for source in (authorizer.get("identitySource") or "").split(",")
            if source.strip()
        ]
        header = next(
            (
                source.removeprefix("method.request.header.")
                for source in sources
                if source.startswith("method.request.header.")
            ),
            "Unused",
        )
        scheme: dict[str, Any] = {
            "type": "apiKey",
            "name": header,
            "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools"
            if kind == "COGNITO_USER_POOLS"
            else "custom",
        }
        if "authorizers" in self.groups:
            settings: dict[str, Any] = {"type": kind.lower()}
            for key, name in (
                ("authorizerUri", "authorizerUri"),
                ("authorizerCredentials", "authorizerCredentials"),
                ("providerARNs", "providerARNs"),
                ("identityValidationExpression", "identityValidationExpression"),
                ("authorizerResultTtlInSeconds", "authorizerResultTtlInSeconds"),
            ):
                if authorizer.get(key) is not None:
                    settings[name] = authorizer[key]
            if kind == "REQUEST" and sources:
                settings["identitySource"] = ", ".join(sources)
            scheme["x-amazon-apigateway-authorizer"] = settings
        return scheme


def _operation_key(verb: str) -> str:
    return ANY_METHOD if verb.upper() == "ANY" else verb.lower()


def _integration(integration: Mapping[str, Any]) -> dict[str, Any]:
    """A method's integration in the `x-amazon-apigateway-integration` shape."""
    exported: dict[str, Any] = {"type": str(integration.get("type") or "").lower()}
    for key in (
        "httpMethod",
        "uri",
        "credentials",
        "requestParameters",
        "requestTemplates",
        "passthroughBehavior",
        "contentHandling",
        "timeoutInMillis",
        "cacheNamespace",
        "cacheKeyParameters",
    ):
        if integration.get(key) not in (None, {}, []):
            exported[key] = integration[key]
    responses = integration.get("integrationResponses") or {}
    if responses:
        exported["responses"] = {
            response.get("selectionPattern") or "default": {
                key: value
                for key, value in (
                    ("statusCode", response.get("statusCode")),
                    ("responseParameters", response.get("responseParameters")),
                    ("responseTemplates", response.get("responseTemplates")),
                    ("contentHandling", response.get("contentHandling")),
                )
                if value not in (None, {})
            }
            for response in responses.values()
        }
    return exported
