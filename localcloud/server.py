"""`localcloud up`: moto's server inside this process, with the engine, the API front and controls.

One port serves three things:
- `/execute-api/{api_id}/...` (or a request whose Host is `{api_id}.execute-api...`): the API
  front for HTTP APIs;
- `/_localcloud/...`: controls for tools and scenarios (`GET health`, `GET apis`,
  `GET invocations?since=N`, `POST settle`, `POST hold` and `POST release` of background
  delivery, `POST throttle-batch-writes?table=T&unprocessed=N&calls=C`);
- everything else: moto's AWS endpoint, which the CDK CLI, boto3 and the AWS CLI talk to.
"""

from __future__ import annotations

import contextlib
import functools
import http
import io
import json
import os
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from botocore.exceptions import ClientError
from moto.core.request import normalize_request
from moto.moto_api import recorder
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import (
    BackendRequest,
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

from localcloud.core import apifront, local_calls
from localcloud.core.apifront import HttpRequest
from localcloud.core.engine import CHAIN_HEADER, Engine, serving_chain

CONTROL_PREFIX = "/_localcloud/"
# Where the request handler keeps the headers as sent (name case included) for the front.
RAW_HEADERS_KEY = "localcloud.raw_headers"
LAMBDA_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "localcloud",
    "AWS_SECRET_ACCESS_KEY": "localcloud",
    "AWS_SESSION_TOKEN": "localcloud",
}


#: The longest header line and the most header lines a request may have, as `http.server`
#: allows (a request beyond either is answered 431).
_MAX_HEADER_LINE = 65536
_MAX_HEADERS = 100
_HTTP_VERSION = re.compile(r"HTTP/(?P<major>\d{1,10})\.(?P<minor>\d{1,10})")

#: How often the serving loop looks for a shutdown request: `stop()` (and so SIGTERM under
#: `localcloud up`) waits up to this long for it; the loop costs nothing between requests.
_SHUTDOWN_POLL_SECONDS = 0.05


class _OneRequestsBody:
    """The connection's read file as one request's application sees it: once the request's
    body has been read, nothing more (what follows on the connection is the next request)."""

    def __init__(self, connection_file: Any) -> None:
        self._file = connection_file
        self.body_read = False

    def read(self, size: int = -1) -> bytes:
        return b"" if self.body_read else self._file.read(size)

    def readline(self, size: int = -1) -> bytes:
        return b"" if self.body_read else self._file.readline(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (the CDK CLI makes hundreds),
    keeping each connection open for the client's next request.

    werkzeug closes every connection after one response, because `http.server` cannot tell
    where a body the application left unread ends (and after the response it reads whatever
    the client sent next, to throw it away). Here a body with a Content-Length is read whole
    before the application sees it and nothing after it is read for this request, so the next
    request on the connection starts where this one ended: a client (boto3, the CDK CLI) then
    reuses its connection instead of opening one (and the server starting a thread) per
    request. A chunked body still closes its connection.
    """

    #: An idle connection's thread ends after this many seconds without a request.
    timeout = 60
    # A response goes out as two writes (head, then body); on a kept connection, Nagle's
    # algorithm would hold the body until the client acknowledges the head, which a client
    # delays by up to 40 ms.
    disable_nagle_algorithm = True
    _keeps_connection = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def parse_request(self) -> bool:
        # `http.server` reads the header block with the email package's parser: a third of the
        # time this server spends on a trivial request (py-spy), even for an empty block. Here
        # the request line is split into its three parts, and each header line at its first
        # colon, as that parser splits a header; what it would accept otherwise (a line
        # without a colon, a value folded onto the next line, which HTTP/1.1 lets a server
        # refuse, an HTTP/0.9 request) is answered 400.
        self.command = None
        # An error answer carries its status line (`http.server` leaves it out for HTTP/0.9).
        self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        version = _HTTP_VERSION.fullmatch(words[-1])
        if len(words) != 3 or version is None:
            self.send_error(http.HTTPStatus.BAD_REQUEST, f"Bad request line ({self.requestline!r})")
            return False
        if int(version["major"]) >= 2:
            self.send_error(http.HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid {words[-1]}")
            return False
        self.command, path, self.request_version = words
        # As `http.server`: a target starting `//` would read as a host to a URL parser.
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        self.close_connection = not (
            (int(version["major"]), int(version["minor"])) >= (1, 1)
            and self.protocol_version >= "HTTP/1.1"
        )
        return self._read_headers()

    def _read_headers(self) -> bool:
        headers = self.MessageClass()
        for _ in range(_MAX_HEADERS + 1):
            line = self.rfile.readline(_MAX_HEADER_LINE + 1)
            if len(line) > _MAX_HEADER_LINE:
                self.send_error(http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1").rstrip("\r\n")
            name, colon, value = text.partition(":")
            if not colon or text[0] in " \t":
                self.send_error(http.HTTPStatus.BAD_REQUEST, f"Bad header line ({text!r})")
                return False
            headers.set_raw(name, value.lstrip(" \t"))
        else:
            self.send_error(http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.headers = headers
        # What `http.server` decides from the headers; werkzeug answers an
        # `Expect: 100-continue` itself, before the body is read.
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        return True

    def setup(self) -> None:
        super().setup()
        # Kept open, a connection outlives its request: the server closes what is left of
        # them when it stops, so a stopped endpoint answers nobody.
        self.server.open_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def run_wsgi(self) -> None:
        connection_file, self.rfile = self.rfile, _OneRequestsBody(self.rfile)
        try:
            super().run_wsgi()
        finally:
            self.rfile = connection_file

    def make_environ(self) -> dict:
        # WSGI keeps header names only upper-cased; a REST API passes them on as sent.
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = list(self.headers.items())
        length = environ.get("CONTENT_LENGTH") or "0"
        self._keeps_connection = "wsgi.input_terminated" not in environ and length.isdigit()
        if self._keeps_connection and isinstance(self.rfile, _OneRequestsBody):
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length)) if int(length) else b"")
            self.rfile.body_read = True
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if self._keeps_connection and keyword.lower() == "connection" and value == "close":
            return
        super().send_header(keyword, value)


class LocalCloudServer:
    """An AWS-compatible endpoint on localhost with localcloud's engine (see the module)."""

    def __init__(
        self,
        *,
        port: int = 4566,
        host: str = "localhost",
        region: str = "eu-west-1",
        time_scale: float = 1.0,
        background: bool = True,
    ) -> None:
        self.host = host
        self.background = background
        self.port = port
        self.region = region
        self.time_scale = time_scale
        self.engine: Engine | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._code_root: Path | None = None
        self._listener: socket.socket | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalCloudServer:
        try:
            return self._start()
        except BaseException:
            # A port in use, a second engine...: nothing started may outlive the failure (the
            # code folder, the engine's hooks on moto).
            self.stop()
            raise

    def _start(self) -> LocalCloudServer:
        # The port first, as an OSError when it is taken (werkzeug would print and exit), and
        # before anything else is set up for an endpoint that cannot be.
        self._listener = socket.create_server((self.host, self.port))
        # moto's state is per process: a new endpoint starts from an empty cloud.
        moto_api_backend.reset()
        self._code_root = Path(tempfile.mkdtemp(prefix="localcloud-code-"))
        engine = Engine(
            region=self.region,
            code_root=self._code_root,
            time_scale=self.time_scale,
            endpoint_url=self.endpoint_url,
            credentials=LAMBDA_CREDENTIALS,
        )
        engine.start()
        # Kept only once started, so stopping after a failed start stops only what started.
        self.engine = engine
        front = _Front(self.engine, _MotoRoutes(_Dispatcher(create_backend_app)))
        self.engine.answer_locally = functools.partial(
            local_calls.answer, front, chain_header=CHAIN_HEADER, raw_headers_key=RAW_HEADERS_KEY
        )
        self._server = make_server(
            self.host,
            self.port,
            front,
            threaded=True,
            request_handler=_QuietRequestHandler,
            fd=self._listener.fileno(),
        )
        self._server.open_connections = set()  # type: ignore[attr-defined]
        # The server listens on its own duplicate of the socket.
        self._listener.close()
        self._listener = None
        self.port = self._server.port
        self.engine.endpoint_url = self.engine.runner.endpoint_url = self.endpoint_url
        self._thread = threading.Thread(
            target=functools.partial(
                self._server.serve_forever, poll_interval=_SHUTDOWN_POLL_SECONDS
            ),
            name="localcloud-server",
            daemon=True,
        )
        self._thread.start()
        if self.background:
            self.engine.start_background()
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                # shutdown() waits for serve_forever to end: only a serving server is asked.
                self._server.shutdown()
                self._thread.join()
                self._thread = None
            self._server.server_close()
            for connection in list(self._server.open_connections):  # type: ignore[attr-defined]
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._server = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self.engine is not None:
            self.engine.stop()
        if self._code_root is not None:
            shutil.rmtree(self._code_root, ignore_errors=True)
            self._code_root = None

    def __enter__(self) -> LocalCloudServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _request_headers(environ: dict) -> dict[str, str]:
    """The request's headers, with their names as the client sent them when known."""
    sent = environ.get(RAW_HEADERS_KEY)
    if sent is not None:
        headers: dict[str, str] = {}
        for name, value in sent:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return headers
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def _raw_path(environ: dict) -> str:
    """The request's path as the client sent it, percent-encoding kept (PATH_INFO is decoded):
    APIs see it as API Gateway passes it on."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if "://" in raw:
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    return raw.partition("?")[0]


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which service answers each host: it tests the host
    against every service's URL patterns on every request (a tenth of a trivial request's time
    in this server, py-spy), and the patterns do not change while it runs."""

    #: Distinct hosts remembered: a client sets Host as it likes, the lookups must not grow.
    _KEPT_HOSTS = 1024

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backend_of_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host in self._backend_of_host:
            return self._backend_of_host[host]
        backend = super().get_backend_for_host(host)
        if len(self._backend_of_host) < self._KEPT_HOSTS:
            self._backend_of_host[host] = backend
        return backend


class _MotoRoutes:
    """moto's server application, answering each request from its route's callback directly.

    moto serves each service with a Flask application whose routes each wrap one callback
    (`convert_to_flask_response`). Flask's request context, its CORS extension and its
    response handling cost about a tenth of a warm invoke through the endpoint (py-spy); here
    the callback is found in the service application's routes and called as that wrapper
    calls it, and the response gets the header the CORS extension adds. What only Flask
    answers (moto's own API, CORS preflights, a path no route matches) still goes to Flask.
    """

    def __init__(self, dispatcher: DomainDispatcherApplication) -> None:
        self._dispatcher = dispatcher

    def __call__(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "OPTIONS" or path.startswith("/moto-api"):
            return self._dispatcher(environ, start_response)
        application = self._dispatcher.get_application(environ)
        try:
            endpoint, _ = application.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return self._dispatcher(environ, start_response)
        callback = application.view_functions[endpoint].callback
        request = normalize_request(BackendRequest(environ))
        recorder._record_request(request)
        try:
            try:
                result = callback(request, request.raw_url, dict(request.headers))
            except ClientError as error:
                result = 400, {}, error.response["Error"]["Message"]
        except HTTPException as error:
            response = error.get_response(environ)
        else:
            status, headers, content = result if len(result) == 3 else (200, {}, result)
            response = application.response_class(content, status=status, headers=headers)
            if request.method == "HEAD" and "content-length" in headers:
                response.headers["Content-Length"] = headers["content-length"]
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response(environ, start_response)


class _Front:
    """The WSGI application: API front and controls first, then moto."""

    def __init__(self, engine: Engine, moto_app: Any) -> None:
        self.engine = engine
        self.moto_app = moto_app

    def __call__(self, environ: dict, start_response: Any) -> Any:
        chain_header = "HTTP_" + CHAIN_HEADER.upper().replace("-", "_")
        with serving_chain(environ.get(chain_header)):
            return self._answer(environ, start_response)

    def _answer(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        host = environ.get("HTTP_HOST", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        target = apifront.split_api_url(f"http://{host}{_raw_path(environ) or path}")
        if target is not None:
            api_id, api_path, _ = target
            return self._api(environ, start_response, api_id, api_path)
        return self.moto_app(environ, start_response)

    def _api(self, environ: dict, start_response: Any, api_id: str, path: str) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = _request_headers(environ)
        request = HttpRequest(
            method=environ["REQUEST_METHOD"],
            path=path,
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        )
        response = self.engine.handle_http(api_id, request)
        payload = response.content
        start_response(
            f"{response.status} {_reason(response.status)}",
            [*response.headers.items(), ("content-length", str(len(payload)))],
        )
        return [payload]

    def _control(self, environ: dict, start_response: Any, action: str) -> Any:
        method = environ["REQUEST_METHOD"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if action == "health" and method == "GET":
            result: Any = {"status": "running", "region": self.engine.region}
        elif action == "apis" and method == "GET":
            result = self.engine.apis()
        elif action == "invocations" and method == "GET":
            since = int(query.get("since", ["0"])[0])
            result = [invocation.to_dict() for invocation in self.engine.invocations[since:]]
        elif action == "settle" and method == "POST":
            result = {"invocations": self.engine.settle()}
        elif action == "hold" and method == "POST":
            self.engine.hold_delivery()
            result = {"held": True}
        elif action == "release" and method == "POST":
            self.engine.release_delivery()
            result = {"held": False}
        elif action == "throttle-batch-writes" and method == "POST":
            self.engine.service("dynamodb").throttle_batch_writes(
                query["table"][0],
                unprocessed=int(query["unprocessed"][0]),
                calls=int(query.get("calls", ["1"])[0]),
            )
            result = {"throttled": query["table"][0]}
        else:
            return _json(start_response, 404, {"message": f"no control {method} {action}"})
        return _json(start_response, 200, result)


def _json(start_response: Any, status: int, value: Any) -> list[bytes]:
    payload = json.dumps(value, default=str).encode()
    start_response(
        f"{status} {_reason(status)}",
        [("content-type", "application/json"), ("content-length", str(len(payload)))],
    )
    return [payload]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def cdk_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """The environment under which the AWS CLI, SDKs and the CDK CLI talk to localcloud."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
    }
    return {
        **environment,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_PAGER": "",
    }
