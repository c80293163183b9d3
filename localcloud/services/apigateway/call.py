"""One request to a REST API as it goes through API Gateway, and the Lambda proxy's shapes.

`RestCall` carries what the request asked and what API Gateway has learned about it (resource,
method, path parameters, authorizer decision, API key); from it come `requestContext` (also
`$context` in mapping templates) and the format 1.0 event of a Lambda proxy integration.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from localcloud.core.apifront import HttpRequest, HttpResponse, text_or_bytes
from localcloud.services.apigateway.access import AuthorizerDecision, GatewayError


@dataclass
class RestCall:
    """One request on its way through a REST API: what was asked and what is known so far."""

    api: Any
    stage: Any
    request: HttpRequest
    path: str  # within the stage
    request_id: str
    started: float
    resource: Any = None
    method: Any = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    decision: AuthorizerDecision | None = None
    api_key: Any = None
    # What the access log tells: the function's invocation, the integration's error, and the
    # gateway error API Gateway answered with, if any.
    invocation: Any = None
    integration_error: str | None = None
    error: GatewayError | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.request.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def parameter(self, source: str) -> str | None:
        """What a mapping or an identity source names: `method.request.header.X`,
        `method.request.querystring.X`, `method.request.path.X` or `stageVariables.X`."""
        for prefix, values in (
            ("method.request.querystring.", self.query),
            ("method.request.path.", self.path_parameters),
            ("stageVariables.", self.stage_variables),
        ):
            if source.startswith(prefix):
                return values.get(source.removeprefix(prefix))
        if source.startswith("method.request.header."):
            return self.header(source.removeprefix("method.request.header."))
        return None

    def gateway_headers(self, *, region: str) -> dict[str, str]:
        """The request's headers as API Gateway passes them on (proxy event, `$input.params()`).

        API Gateway sets `Host` to the API's domain and adds the `X-Forwarded-*` headers of
        its HTTPS front end, appending the caller's address to `X-Forwarded-For`.
        """
        added = {"host", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
        headers = {
            name: value for name, value in self.request.headers.items() if name.lower() not in added
        }
        forwarded = self.header("x-forwarded-for")
        source_ip = self.request.source_ip
        headers.update(
            {
                "Host": self.domain_name(region),
                "X-Forwarded-For": f"{forwarded}, {source_ip}" if forwarded else source_ip,
                "X-Forwarded-Port": "443",
                "X-Forwarded-Proto": "https",
            }
        )
        return headers

    def domain_name(self, region: str) -> str:
        return f"{self.api.id}.execute-api.{region}.amazonaws.com"

    @property
    def multi_query(self) -> dict[str, list[str]]:
        values: dict[str, list[str]] = {}
        for name, value in parse_qsl(self.request.query, keep_blank_values=True):
            values.setdefault(name, []).append(value)
        return values

    @property
    def query(self) -> dict[str, str]:
        return {name: values[-1] for name, values in self.multi_query.items()}

    @property
    def resource_path(self) -> str:
        return self.resource.get_path() if self.resource is not None else self.path

    @property
    def stage_variables(self) -> dict[str, str]:
        return dict(self.stage.variables or {}) if self.stage is not None else {}

    def body_text(self) -> str:
        return self.request.body.decode("utf-8", errors="replace")

    def identity(self) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": self.request.source_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": self.header("user-agent") or "",
            "user": None,
        }
        if self.api_key is not None:
            identity["apiKey"] = self.api_key.value
            identity["apiKeyId"] = self.api_key.id
        return identity

    def context(self, *, region: str, account_id: str) -> dict[str, Any]:
        """`requestContext` of the proxy event, and `$context` of mapping templates."""
        stage_name = self.stage.name if self.stage is not None else ""
        context: dict[str, Any] = {
            "resourceId": self.resource.id if self.resource is not None else None,
            "resourcePath": self.resource_path,
            "httpMethod": self.request.method,
            "extendedRequestId": self.request_id[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.started)),
            "path": f"/{stage_name}{self.path}",
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": stage_name,
            "domainPrefix": self.api.id,
            "requestTimeEpoch": int(self.started * 1000),
            "requestId": self.request_id,
            "identity": self.identity(),
            "domainName": self.domain_name(region),
            "apiId": self.api.id,
        }
        if self.decision is not None:
            context["authorizer"] = self.decision.request_context()
        return context

    def access_log_context(
        self, response: HttpResponse, *, region: str, account_id: str
    ) -> dict[str, Any]:
        """`$context` of a REST API's access log for this request and its response."""
        context = self.context(region=region, account_id=account_id)
        invocation = self.invocation
        integration: dict[str, Any] = {}
        if invocation is not None:
            integration = {
                "requestId": invocation.request_id,
                "status": 200,
                "integrationStatus": 200,
                "latency": round(invocation.duration_ms),
                "error": self.integration_error,
            }
        error = self.error
        message = error.message if error is not None else None
        context.update(
            {
                "status": response.status,
                "responseLength": len(response.content),
                "responseLatency": round((time.time() - self.started) * 1000),
                "integration": integration,
                "integrationStatus": integration.get("integrationStatus"),
                "integrationLatency": integration.get("latency"),
                "integrationErrorMessage": self.integration_error,
                "error": {
                    "message": message,
                    "messageString": f'"{message}"' if message is not None else None,
                    "responseType": error.response_type if error is not None else None,
                    "validationErrorString": error.validation_error if error else None,
                },
            }
        )
        return context


_FUNCTION_IN_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<function>.+?)/invocations$")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.(\w+)\}")


def lambda_function_arn(uri: str, stage_variables: dict[str, str]) -> str:
    """The function an integration or authorizer URI names, stage variables substituted."""
    uri = STAGE_VARIABLE.sub(lambda match: stage_variables.get(match[1], ""), uri)
    match = _FUNCTION_IN_URI.search(uri)
    if match is None:
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error", status=500)
    return match["function"]


def is_binary(api: Any, content_type: str | None) -> bool:
    """Whether API Gateway treats a payload of `content_type` as binary (`binaryMediaTypes`)."""
    if not content_type:
        return False
    media_type = content_type.split(";")[0].strip().lower()
    for pattern in api.binaryMediaTypes or []:
        wanted = pattern.replace("~1", "/").lower()
        if wanted == "*/*" or wanted == media_type:
            return True
        if wanted.endswith("/*") and media_type.startswith(wanted[:-1]):
            return True
    return False


def proxy_event(call: RestCall, *, region: str, account_id: str) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration of a REST API (format 1.0)."""
    headers = call.gateway_headers(region=region)
    multi_query = call.multi_query
    body: str | None = None
    binary = is_binary(call.api, call.header("content-type"))
    if call.request.body:
        body = base64.b64encode(call.request.body).decode() if binary else call.body_text()
    return {
        "resource": call.resource_path,
        "path": call.path,
        "httpMethod": call.request.method,
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": call.path_parameters or None,
        "stageVariables": call.stage_variables or None,
        "requestContext": call.context(region=region, account_id=account_id),
        "body": body,
        "isBase64Encoded": bool(call.request.body) and binary,
    }


def accepts_binary(call: RestCall) -> bool:
    """Whether API Gateway turns a base64 answer back into bytes for this request.

    It does when the request's first `Accept` type is one of the API's binary media types (a
    request without `Accept` only when every type is binary, `*/*`).
    """
    accept = (call.header("accept") or "*/*").split(",")[0]
    return is_binary(call.api, accept)


def proxy_response(payload: Any, *, decode_base64: bool = True) -> HttpResponse:
    """A Lambda proxy answer as HTTP; raises GatewayError (502) when it is malformed.

    With `decode_base64` False (the request did not accept a binary media type), a body the
    function base64-encoded is answered as that text, as API Gateway answers it.
    """
    malformed = GatewayError("DEFAULT_5XX", "Internal server error", status=502)
    if not isinstance(payload, dict):
        raise malformed
    try:
        status = int(payload.get("statusCode"))  # type: ignore[arg-type]
        body = payload.get("body")
        if body is None:
            body = ""
        if not isinstance(body, str):
            raise TypeError("body must be a string")
        if payload.get("isBase64Encoded") and decode_base64:
            body = text_or_bytes(base64.b64decode(body))
        headers: dict[str, str] = {}
        for name, value in (payload.get("headers") or {}).items():
            headers[name.lower()] = str(value)
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            if not isinstance(values, list):
                raise TypeError("multiValueHeaders values must be lists")
            headers[name.lower()] = ", ".join(str(value) for value in values)
    except (TypeError, ValueError, AttributeError):
        raise malformed from None
    headers.setdefault("content-type", "application/json")
    return HttpResponse(status, headers, body)
