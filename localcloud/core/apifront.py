"""The API front for HTTP APIs: a request becomes the API Gateway v2 proxy event of its route.

An HTTP API (what CloudFormation's `AWS::ApiGatewayV2::*` declared, held in moto's API Gateway
v2 backend) is reached locally at `/execute-api/{api_id}/...` on localcloud's endpoint. A
request that names no known API or route, or whose backend fails, gets the answer API Gateway
gives, never an exception.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LOCAL_PREFIX = "/execute-api/"
# An AWS URL of an API (`https://{id}.execute-api.{region}.amazonaws.com/...`), as stack
# outputs give it; the front serves those too, so a scenario can call what the output says.
_AWS_API_HOST = re.compile(r"^(?P<api_id>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com$")
# Stands in for API Gateway's 10 MB payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    # Text, or bytes for a binary answer (a base64 body that is not UTF-8 once decoded).
    body: str | bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content(self) -> bytes:
        """The body as the bytes sent to the client."""
        return self.body if isinstance(self.body, bytes) else self.body.encode()


def text_or_bytes(raw: bytes) -> str | bytes:
    """A response body as `HttpResponse` holds it: text when it is UTF-8, else the bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


def gateway_error(status: int, message: str) -> HttpResponse:
    return HttpResponse(
        status,
        {"content-type": "application/json", "apigw-requestid": uuid.uuid4().hex[:16]},
        json.dumps({"message": message}),
    )


def split_api_url(url: str) -> tuple[str, str, str] | None:
    """(api id, path within the API, query) for a local or AWS-shaped URL of an API, else None."""
    parts = urlsplit(url)
    match = _AWS_API_HOST.match(parts.hostname or "")
    if match:
        return match["api_id"], parts.path or "/", parts.query
    if parts.path.startswith(LOCAL_PREFIX):
        api_id, _, rest = parts.path[len(LOCAL_PREFIX) :].partition("/")
        return api_id, "/" + rest, parts.query
    return None


def local_url(endpoint: str, api_id: str) -> str:
    return f"{endpoint.rstrip('/')}{LOCAL_PREFIX}{api_id}/"


_AWS_API_URL = re.compile(
    r"https://(?P<api_id>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?=[/?#\s\"']|$)"
)


def with_local_api_urls(text: str, endpoint: str, served: set[str]) -> str:
    """`text` with each AWS URL of a served API (`https://{id}.execute-api.{region}.
    amazonaws.com/{stage}/...`) replaced by the URL the endpoint serves it at
    (`{endpoint}/execute-api/{id}/{stage}/...`); URLs of other APIs are left as they are."""

    def local(match: re.Match[str]) -> str:
        if match["api_id"] not in served:
            return match[0]
        return local_url(endpoint, match["api_id"]).rstrip("/")

    return _AWS_API_URL.sub(local, text)


def match_route(route_key: str, method: str, path: str) -> dict[str, str] | None:
    """Path parameters if `route_key` ("GET /items/{id}", "ANY /{proxy+}") matches, else None."""
    if route_key == "$default":
        return {}
    route_method, _, route_path = route_key.partition(" ")
    if route_method not in (method.upper(), "ANY"):
        return None
    pattern = re.escape(route_path)
    pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", pattern)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    match = re.fullmatch(pattern, path)
    return match.groupdict() if match else None


def select_route(route_keys: list[str], method: str, path: str) -> tuple[str, dict] | None:
    """The route API Gateway picks: the most specific match, `$default` last."""
    candidates = []
    for key in route_keys:
        parameters = match_route(key, method, path)
        if parameters is None:
            continue
        if key == "$default":
            rank = (2, 0, 0)
        else:
            route_path = key.partition(" ")[2]
            greedy = "+}" in route_path
            literal = len(re.sub(r"\{[^}]+\}", "", route_path))
            rank = (1 if greedy else 0, -literal, 1 if key.startswith("ANY ") else 0)
        candidates.append((rank, key, parameters))
    if not candidates:
        return None
    _, key, parameters = min(candidates)
    return key, parameters


def http_api_event(
    *,
    api_id: str,
    stage: str,
    route_key: str,
    request: HttpRequest,
    path_parameters: dict[str, str],
    region: str,
    account_id: str,
    stage_variables: dict[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends to a Lambda proxy integration;
    `request_id` is the one API Gateway gave the request (its access log names it)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[lowered] = f"{headers[lowered]},{value}" if lowered in headers else value
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    headers.setdefault("host", domain)
    now = time.time()
    content_type = headers.get("content-type", "")
    is_text = not request.body or _is_text(content_type, request.body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": request.method.upper(),
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id or uuid.uuid4().hex[:16],
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if stage_variables:
        event["stageVariables"] = stage_variables
    if request.body:
        event["body"] = (
            request.body.decode() if is_text else base64.b64encode(request.body).decode()
        )
    return event


def _is_text(content_type: str, body: bytes) -> bool:
    if not content_type or content_type.startswith("text/") or "json" in content_type:
        try:
            body.decode()
        except UnicodeDecodeError:
            return False
        return True
    return "xml" in content_type or "x-www-form-urlencoded" in content_type


class MalformedProxyResponseError(ValueError):
    """A Lambda proxy answer API Gateway cannot map to HTTP (it answers 500)."""


def proxy_response(payload: Any) -> HttpResponse:
    """Map a payload 2.0 Lambda response to HTTP as API Gateway does.

    A response without `statusCode` is taken as a 200 JSON body; a malformed one is a 500.
    """
    try:
        return mapped_proxy_response(payload)
    except MalformedProxyResponseError:
        return gateway_error(500, "Internal Server Error")


def mapped_proxy_response(payload: Any) -> HttpResponse:
    """`proxy_response`, raising `MalformedProxyResponseError` for what cannot be mapped."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        body = payload if isinstance(payload, str) else json.dumps(payload)
        return HttpResponse(200, {"content-type": "application/json"}, body)
    try:
        status = int(payload["statusCode"])
        body = payload.get("body") or ""
        if not isinstance(body, str):
            raise TypeError("body must be a string")
        if payload.get("isBase64Encoded"):
            body = text_or_bytes(base64.b64decode(body))
        headers = {key.lower(): str(value) for key, value in (payload.get("headers") or {}).items()}
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ",".join(str(value) for value in values)
        if payload.get("cookies"):
            headers["set-cookie"] = ", ".join(payload["cookies"])
    except (TypeError, ValueError, AttributeError) as error:
        raise MalformedProxyResponseError(str(error)) from error
    return HttpResponse(status, headers, body)
