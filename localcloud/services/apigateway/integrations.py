"""What a REST API method calls, and how requests and answers are mapped on the way.

- `AWS_PROXY`: the function gets the format 1.0 event and answers with a proxy response;
- `AWS` to Lambda: the request template's output is the event (a payload that is not JSON is
  a 400); the function's error message picks the integration response (`SelectionPattern`), as
  API Gateway does for Lambda; with `X-Amz-Invocation-Type: Event` the function is invoked
  asynchronously and the integration response maps Lambda's empty answer at once;
- `AWS` to another service: the request template's output is sent as API Gateway sends it (path
  or action URI, integration request parameters, `X-Amz-Target` for JSON protocols) to moto's
  own request handling, in this process; the status code picks the integration response;
- `MOCK`: the request template's `statusCode` picks the integration response.

Mapping templates are VTL (`localcloud.vtl`), chosen by content type with the integration's
`PassthroughBehavior`. Request validation (parameters, JSON Schema draft 4 body models) and the
rendering of customized gateway responses also live here.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import xmltodict
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.core.models import botocore_stubber

from localcloud.core.apifront import HttpResponse
from localcloud.rules import vtl
from localcloud.services.apigateway.access import GatewayError
from localcloud.services.apigateway.call import (
    STAGE_VARIABLE,
    RestCall,
    accepts_binary,
    lambda_function_arn,
    proxy_event,
    proxy_response,
)

if TYPE_CHECKING:
    from localcloud.core.service import Core

logger = logging.getLogger("localcloud")

DEFAULT_CONTENT_TYPE = "application/json"
# API Gateway's integration timeout when the method sets none (29 seconds).
DEFAULT_TIMEOUT_MS = 29_000
# JSON-protocol services: their X-Amz-Target prefix and JSON version.
_JSON_PROTOCOLS = {
    "dynamodb": ("DynamoDB_20120810", "1.0"),
    "states": ("AWSStepFunctions", "1.0"),
    "events": ("AWSEvents", "1.1"),
    "kinesis": ("Kinesis_20131202", "1.1"),
    "firehose": ("Firehose_20150804", "1.1"),
    "logs": ("Logs_20140328", "1.1"),
}
_LENIENT_STATUS_CODE = re.compile(r"""["']?statusCode["']?\s*:\s*["']?(?P<status>\d{3})""")
_AWS_URI = re.compile(
    r"^arn:[^:]+:apigateway:(?P<region>[^:]+):(?P<service>[^:]+):(?P<style>path|action)/(?P<rest>.*)$"
)


def integrate(engine: Core, call: RestCall) -> HttpResponse:
    integration = call.method.method_integration
    if integration is None:
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
    kind = (integration.integration_type or "").upper()
    if kind == "AWS_PROXY":
        return _lambda_proxy(engine, call, integration)
    if kind == "MOCK":
        return _mock(engine, call, integration)
    if kind == "AWS":
        if ":lambda:path/" in (integration.uri or ""):
            return _lambda_custom(engine, call, integration)
        return _aws_service(engine, call, integration)
    logger.warning("REST API %s: %s integrations are not run locally", call.api.id, kind)
    raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")


def _timeout_ms(integration: Any) -> float:
    return float(integration.timeout_in_millis or DEFAULT_TIMEOUT_MS)


def _function(engine: Core, call: RestCall, integration: Any) -> Any:
    function_arn = lambda_function_arn(integration.uri or "", call.stage_variables)
    try:
        return engine.function(function_arn)
    except Exception:
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error") from None


def _trigger(call: RestCall) -> str:
    return f"REST {call.request.method} {call.resource_path}"


def _invoke(engine: Core, call: RestCall, integration: Any, event: Any) -> Any:
    function = _function(engine, call, integration)
    invocation = engine.invoke(function, event, trigger=_trigger(call))
    call.invocation = invocation
    if invocation.error is not None:
        call.integration_error = (
            "Lambda execution failed with status 200 due to customer function error: "
            f"{invocation.error.get('errorMessage', '')}"
        )
    if invocation.duration_ms >= _timeout_ms(integration):
        # The function may still finish, but API Gateway has stopped waiting.
        raise GatewayError("INTEGRATION_TIMEOUT", "Endpoint request timed out")
    return invocation


def _lambda_proxy(engine: Core, call: RestCall, integration: Any) -> HttpResponse:
    event = proxy_event(call, region=engine.region, account_id=engine.account_id)
    invocation = _invoke(engine, call, integration, event)
    if invocation.error is not None:
        raise GatewayError("DEFAULT_5XX", "Internal server error", status=502)
    return proxy_response(invocation.payload, decode_base64=accepts_binary(call))


def _lambda_custom(engine: Core, call: RestCall, integration: Any) -> HttpResponse:
    rendered, overrides = _request_payload_and_overrides(engine, call, integration)
    try:
        event = json.loads(rendered) if rendered.strip() else {}
    except json.JSONDecodeError as error:
        # API Gateway parses the payload (the template's output, or the body passed through)
        # before invoking the function, and refuses one that is not JSON as a bad request.
        logger.warning("REST API %s: the Lambda payload is not JSON: %.200s", call.api.id, rendered)
        raise GatewayError(
            "BAD_REQUEST_BODY", f"Could not parse request body into json: {error}"
        ) from None
    if _invocation_type(call, integration, overrides).lower() == "event":
        # Lambda queues the event and answers 202 with no payload; the default integration
        # response maps that answer.
        engine.invoke_async(_function(engine, call, integration), event, trigger=_trigger(call))
        return _integration_response(engine, call, integration, None, "", {})
    invocation = _invoke(engine, call, integration, event)
    if invocation.error is not None:
        error_message = str(invocation.error.get("errorMessage", ""))
        body = json.dumps(invocation.error)
        return _integration_response(engine, call, integration, error_message, body, {})
    body = json.dumps(invocation.payload)
    return _integration_response(engine, call, integration, None, body, {})


def _invocation_type(call: RestCall, integration: Any, overrides: dict[str, Any]) -> str:
    """The `X-Amz-Invocation-Type` the integration request sends Lambda (`RequestResponse`).

    It comes from the integration's request parameters (`'Event'`, or mapped from the method
    request) or from the template's `$context.requestOverride.header`.
    """
    headers = _integration_request_parameters(call, integration)["header"]
    headers.update({str(k): str(v) for k, v in (overrides.get("header") or {}).items()})
    wanted = "x-amz-invocation-type"
    return next((v for k, v in headers.items() if k.lower() == wanted), "RequestResponse")


def _mock(engine: Core, call: RestCall, integration: Any) -> HttpResponse:
    rendered = _request_payload(engine, call, integration)
    status = "200"
    try:
        asked = json.loads(rendered) if rendered.strip() else {}
    except json.JSONDecodeError:
        # API Gateway reads the status leniently: CDK's CORS preflight template is
        # `{ statusCode: 200 }`, with its key unquoted.
        found = _LENIENT_STATUS_CODE.search(rendered)
        asked = {"statusCode": found["status"]} if found else {}
    if isinstance(asked, dict) and asked.get("statusCode") is not None:
        status = str(asked["statusCode"])
    return _integration_response(engine, call, integration, status, "", {})


# -- AWS service integrations -----------------------------------------------------------------


def _aws_service(engine: Core, call: RestCall, integration: Any) -> HttpResponse:
    uri = STAGE_VARIABLE.sub(
        lambda found: call.stage_variables.get(found[1], ""), integration.uri or ""
    )
    match = _AWS_URI.match(uri)
    if match is None:
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
    region, service_part, style, rest = (
        match["region"],
        match["service"],
        match["style"],
        match["rest"],
    )
    service = service_part.split(".")[-1]
    host = f"{service}.{region}.amazonaws.com"
    body, overrides = _request_payload_and_overrides(engine, call, integration)
    parameters = _integration_request_parameters(call, integration)
    for kind in ("header", "querystring", "path"):
        parameters[kind].update(
            {str(name): str(value) for name, value in (overrides.get(kind) or {}).items()}
        )
    # Templates read a service's answer with JSONPath, so it is asked for in JSON; an XML
    # (query protocol) answer from moto is turned into the JSON shape AWS gives for this Accept.
    headers = {"Accept": "application/json", **parameters["header"]}
    query = dict(parameters["querystring"])
    path = rest
    if style == "action":
        action, _, action_query = rest.partition("&")
        path = ""
        if service in _JSON_PROTOCOLS:
            prefix, version = _JSON_PROTOCOLS[service]
            headers["X-Amz-Target"] = f"{prefix}.{action}"
            headers.setdefault("Content-Type", f"application/x-amz-json-{version}")
        else:
            query = {"Action": action, **dict(_pairs(action_query)), **query}
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    for name, value in parameters["path"].items():
        path = path.replace("{" + name + "}", value)
    url = f"https://{host}/{path.lstrip('/')}"
    if query:
        url = f"{url}?{urlencode(query)}"
    method = (integration.http_method or "POST").upper()
    request = AWSRequest(method=method, url=url, data=body.encode(), headers=headers)
    # The integration's credentials role is not assumed locally: any signature will do.
    SigV4Auth(Credentials("localcloud", "localcloud"), service, region).add_auth(request)
    answered = botocore_stubber.process_request(request.prepare())
    if answered is None:
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
    status, response_headers, response_body = answered
    text = response_body.decode() if isinstance(response_body, bytes) else str(response_body or "")
    text = _as_json_when_asked(text, headers.get("Accept", ""))
    return _integration_response(
        engine, call, integration, str(status), text, dict(response_headers or {})
    )


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _as_json_when_asked(text: str, accept: str) -> str:
    """A query-protocol service's XML answer in the JSON shape AWS gives for `Accept: json`."""
    if "json" not in accept or not text.lstrip().startswith("<"):
        return text

    def without_namespaces(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_namespaces(v) for k, v in value.items() if not k.startswith("@")}
        if isinstance(value, list):
            return [without_namespaces(item) for item in value]
        return value

    try:
        return json.dumps(without_namespaces(xmltodict.parse(text)))
    except Exception:
        return text


def _integration_request_parameters(call: RestCall, integration: Any) -> dict[str, dict[str, str]]:
    mapped: dict[str, dict[str, str]] = {"header": {}, "querystring": {}, "path": {}}
    for target, source in (integration.request_parameters or {}).items():
        kind, _, name = target.removeprefix("integration.request.").partition(".")
        value = _parameter_value(call, source)
        if kind in mapped and value is not None:
            mapped[kind][name] = value
    return mapped


def _parameter_value(call: RestCall, source: str) -> str | None:
    """A mapping's source: a 'static value', a method request parameter or a stage variable."""
    source = source.strip()
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    return call.parameter(source)


# -- mapping templates ------------------------------------------------------------------------


def _content_type(call: RestCall) -> str:
    value = call.header("content-type") or DEFAULT_CONTENT_TYPE
    return value.split(";")[0].strip().lower()


def _variables(engine: Core, call: RestCall, body: str, error: Any = None) -> dict:
    context = call.context(region=engine.region, account_id=engine.account_id)
    if error is not None:
        context["error"] = error
    return vtl.apigateway_variables(
        body=body,
        path_parameters=call.path_parameters,
        query_parameters=call.query,
        headers=call.gateway_headers(region=engine.region),
        context=context,
        stage_variables=call.stage_variables,
    )


def _render(template: str, variables: dict) -> str:
    try:
        # API Gateway prints a reference to a missing value as nothing, where plain Velocity
        # would print the reference's own text.
        return vtl.render(template, variables, quiet_nulls=True)
    except vtl.VtlError as error:
        logger.warning("mapping template failed: %s", error)
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error") from None


def _request_payload(engine: Core, call: RestCall, integration: Any) -> str:
    """The integration request body: the matching template's output, or the body passed through."""
    return _request_payload_and_overrides(engine, call, integration)[0]


def _request_payload_and_overrides(
    engine: Core, call: RestCall, integration: Any
) -> tuple[str, dict[str, Any]]:
    """The request body, and what the template set in `$context.requestOverride`."""
    templates = {key.lower(): value for key, value in (integration.request_templates or {}).items()}
    content_type = _content_type(call)
    template = templates.get(content_type)
    if template is None:
        behavior = (integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
        if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
            raise GatewayError("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
        return call.body_text(), {}
    if not template:
        return "", {}
    variables = _variables(engine, call, call.body_text())
    body = _render(template, variables)
    return body, variables["context"].get("requestOverride") or {}


def _integration_response(
    engine: Core,
    call: RestCall,
    integration: Any,
    selector: str | None,
    body: str,
    response_headers: dict[str, str],
) -> HttpResponse:
    """Map an integration's answer through the integration response `selector` picks.

    `selector` is the status code (services, MOCK) or a Lambda error message; each response's
    `SelectionPattern` is matched against all of it, and the response without one is the default.
    """
    responses = list((integration.integration_responses or {}).values())
    default = next((r for r in responses if not r.selection_pattern), None)
    chosen = None
    if selector is not None:
        for response in responses:
            pattern = response.selection_pattern
            # A Java regex matched as a whole; `.` stops at a line end, as AWS warns for `.+`.
            if pattern and re.fullmatch(pattern, selector):
                chosen = response
                break
    chosen = chosen or default
    if chosen is None:
        logger.warning(
            "REST API %s %s %s: no integration response matches %r",
            call.api.id,
            call.request.method,
            call.resource_path,
            selector,
        )
        raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
    templates = chosen.response_templates or {}
    accept = (call.header("accept") or "").split(",")[0].split(";")[0].strip().lower()
    template = templates.get(accept) or templates.get(DEFAULT_CONTENT_TYPE)
    if template is None and templates:
        template = next(iter(templates.values()))
    status = int(chosen.status_code)
    headers = {"content-type": DEFAULT_CONTENT_TYPE}
    overrides: dict[str, Any] = {}
    # Response parameters map from what the integration answered, not from the template's output.
    integration_body = body
    if template:
        variables = _variables(engine, call, body)
        body = _render(template, variables)
        overrides = variables["context"].get("responseOverride") or {}
    for target, source in (chosen.response_parameters or {}).items():
        name = target.removeprefix("method.response.header.")
        if name == target:
            continue
        value = _response_parameter(source, response_headers, integration_body)
        if value is not None:
            headers[name.lower()] = value
    # A template may override the status and headers (`$context.responseOverride`).
    for name, value in (overrides.get("header") or {}).items():
        headers[str(name).lower()] = str(value)
    if overrides.get("status") not in (None, ""):
        status = int(overrides["status"])
    return HttpResponse(status, headers, body)


def _response_parameter(source: str, response_headers: dict[str, str], body: str) -> str | None:
    source = source.strip()
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    if source.startswith("integration.response.header."):
        wanted = source.removeprefix("integration.response.header.").lower()
        return next((v for k, v in response_headers.items() if k.lower() == wanted), None)
    if source == "integration.response.body":
        return body
    if source.startswith("integration.response.body."):
        # A JSON expression without its `$`: `integration.response.body.redirect.url`.
        try:
            document = json.loads(body)
            found, value = vtl.select_json_path(
                document, "$" + source.removeprefix("integration.response.body")
            )
        except ValueError:
            return None
        if not found or value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return None


# -- request validation -----------------------------------------------------------------------


def validate_request(call: RestCall, validator: Any) -> None:
    """A request validator's checks: required parameters, then the body against its model."""
    if validator.validate_request_parameters:
        missing = [
            name
            for name, required in (call.method.request_parameters or {}).items()
            if required and not _has_parameter(call, name)
        ]
        if missing:
            names = ", ".join(name.rsplit(".", 1)[-1] for name in missing)
            raise GatewayError(
                "BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{names}]"
            )
    if validator.validate_request_body:
        models = call.method.request_models or {}
        model_name = models.get(_content_type(call)) or models.get("$default")
        if model_name is None or model_name == "Empty":
            return
        model = call.api.models.get(model_name)
        if model is None:
            raise GatewayError("API_CONFIGURATION_ERROR", "Internal server error")
        _validate_body(call, model)


def _has_parameter(call: RestCall, name: str) -> bool:
    kind, _, parameter = name.removeprefix("method.request.").partition(".")
    if kind == "header":
        return bool(call.header(parameter))
    if kind == "querystring":
        # Present but blank (`?mode=`) is missing: the validator wants it included and not blank.
        return bool(call.query.get(parameter))
    if kind == "path":
        return bool(call.path_parameters.get(parameter))
    return True


def _validate_body(call: RestCall, model: Any) -> None:
    import jsonschema

    schema = json.loads(model.schema) if isinstance(model.schema, str) else (model.schema or {})
    try:
        document = json.loads(call.body_text() or "null")
    except json.JSONDecodeError:
        raise GatewayError("BAD_REQUEST_BODY", "Invalid request body") from None
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(document))
    if errors:
        details = "[" + ", ".join(error.message for error in errors) + "]"
        logger.info("REST API %s: request body refused: %s", call.api.id, details)
        raise GatewayError("BAD_REQUEST_BODY", "Invalid request body", validation_error=details)


# -- gateway responses ------------------------------------------------------------------------


def render_gateway_response(
    engine: Core, call: RestCall, error: GatewayError, custom: Any, default_body: str
) -> tuple[dict[str, str], str]:
    """A customized gateway response's headers and body (its template, else the default body)."""
    headers: dict[str, str] = {}
    for target, source in (custom.response_parameters or {}).items():
        name = target.removeprefix("gatewayresponse.header.")
        if name == target:
            continue
        value = _parameter_value(call, source)
        if value is not None:
            headers[name.lower()] = value
    templates = custom.response_templates or {}
    template = templates.get(DEFAULT_CONTENT_TYPE)
    if template is None and templates:
        template = next(iter(templates.values()))
    if template is None:
        return headers, default_body
    error_context = {
        "message": error.message,
        "messageString": json.dumps(error.message),
        "responseType": error.response_type,
        "validationErrorString": error.validation_error,
    }
    try:
        body = vtl.render(template, _variables(engine, call, "", error_context), quiet_nulls=True)
    except Exception:
        logger.exception("gateway response template of %s failed", error.response_type)
        body = default_body
    return headers, body
