"""Under `localcloud up`, a handler's AWS SDK calls to the endpoint are answered in this process.

A handler runs inside the server's process, and its boto3 clients point at the server
(`AWS_ENDPOINT_URL`). Sent over the socket, each call costs a connection, a server thread and
HTTP parsing both ways, and is answered by the same WSGI application in this same process.
botocore's `before-send` event lets a client take a response instead of sending the request
(moto's `mock_aws` works this way): the request goes to that application directly, as a WSGI
call on the handler's own thread, so what answers it (the API front, the controls, moto) and
how (the invocation chain header included) stay those of a request over the socket.

Only requests from a handler's thread to the endpoint are answered here; the rest of the
process (tests, tools) still goes over the socket.
"""

from __future__ import annotations

import io
import re
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto.core.botocore_stubber import MockRawResponse

# A botocore `hostPrefix` (the service model's `endpoint.hostPrefix`, such as `data-`).
_HOST_PREFIX = re.compile(r"[a-z0-9-]+[-.]")
# Headers that describe the socket, not the request: they mean nothing to a WSGI call.
_HOP_HEADERS = {"expect", "connection", "transfer-encoding"}


def answer(
    app: Any, request: Any, *, chain: str, chain_header: str, raw_headers_key: str
) -> AWSResponse:
    """Run `request` (botocore's `AWSPreparedRequest`) through the WSGI `app`."""
    headers = [
        (str(name), _text(value))
        for name, value in request.headers.items()
        if str(name).lower() not in _HOP_HEADERS
    ]
    headers.append((chain_header, chain))
    environ = wsgi_environ(request.method, request.url, headers, request.body)
    environ[raw_headers_key] = headers
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list, exc_info: Any = None) -> Any:
        started["status"], started["headers"] = status, response_headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    response_headers = HTTPHeaders()
    for name, value in started["headers"]:
        response_headers[name] = value
    status = int(started["status"].split(" ", 1)[0])
    return AWSResponse(request.url, status, response_headers, MockRawResponse(content))


def wsgi_environ(method: str, url: str, headers: list[tuple[str, str]], body: Any) -> dict:
    """The WSGI environment of a request sent to `url`, as a server would make it of what it
    read: `headers` as sent (a repeated name's values joined with commas), `body` as bytes, a
    string or a stream to read."""
    parts = urlsplit(url)
    data = _body_bytes(body)
    scheme = parts.scheme or "http"
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        # WSGI gives the path decoded (as latin-1 text) and keeps the raw one apart.
        "PATH_INFO": unquote(parts.path or "/", encoding="latin-1"),
        "RAW_URI": target,
        "REQUEST_URI": target,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_HOST": parts.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    sent: set[str] = set()
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            continue
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        environ[key] = f"{environ[key]},{value}" if key in sent else value
        sent.add(key)
    return environ


def is_endpoint_request(url: str, endpoint_url: str) -> bool:
    """Whether `url` is addressed to the endpoint (by any name of this host), also with a host
    prefix botocore puts before the endpoint's name for some operations (Cloud Map's
    `DiscoverInstances` goes to `data-<host>`), which no resolver here knows."""
    target, endpoint = urlsplit(url), urlsplit(endpoint_url)
    names = (endpoint.hostname, "localhost", "127.0.0.1")
    hostname = target.hostname or ""
    return target.port == endpoint.port and (
        hostname in names
        or any(name and _HOST_PREFIX.fullmatch(hostname.removesuffix(name)) for name in names)
    )


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    # A stream (an S3 upload): read it from where botocore left it.
    data = body.read()
    return data.encode() if isinstance(data, str) else data


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
