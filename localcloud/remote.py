"""A client of a running `localcloud up`: the same interface as the in-process `LocalCloud`.

Scenarios take either, so one scenario runs in tests (in-process) and against the endpoint.
"""

from __future__ import annotations

import base64
import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config

from localcloud.core.apifront import (
    HttpResponse,
    gateway_error,
    local_url,
    split_api_url,
    text_or_bytes,
)
from localcloud.core.runner import Invocation
from localcloud.server import CONTROL_PREFIX


class EndpointUnreachableError(RuntimeError):
    """No localcloud answers at the endpoint."""


class RemoteCloud:
    """Talks to localcloud at `endpoint_url` through AWS APIs, the API front and its controls."""

    def __init__(self, endpoint_url: str = "http://localhost:4566", *, region: str = "eu-west-1"):
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self._clients: dict[str, Any] = {}

    def health(self) -> dict[str, Any]:
        return self._control("GET", "health")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id="localcloud",
                aws_secret_access_key="localcloud",  # noqa: S106 - moto accepts any value
                config=Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 1}),
            )
        return self._clients[service]

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}

    def apis(self) -> list[dict[str, str]]:
        return self._control("GET", "apis")

    @property
    def invocations(self) -> list[Invocation]:
        return [Invocation.from_dict(item) for item in self._control("GET", "invocations")]

    def invocations_since(self, index: int) -> list[Invocation]:
        return [
            Invocation.from_dict(item)
            for item in self._control("GET", f"invocations?since={index}")
        ]

    def settle(self) -> int:
        return self._control("POST", "settle")["invocations"]

    @contextlib.contextmanager
    def delivery_held(self) -> Iterator[None]:
        """No background delivery inside the block (`settle()` still delivers): what a scenario
        reads there is what was sent, not what is left of it."""
        self._control("POST", "hold")
        try:
            yield
        finally:
            self._control("POST", "release")

    def invoke(self, function_name: str, event: Any) -> Invocation:
        """Invoke through the Lambda API (RequestResponse, log tail) and report it."""
        response = self.client("lambda").invoke(
            FunctionName=function_name, Payload=json.dumps(event).encode(), LogType="Tail"
        )
        payload = json.loads(response["Payload"].read() or b"null")
        logs = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
        failed = "FunctionError" in response
        return Invocation(
            function=function_name,
            trigger="Invoke",
            cold_start=False,
            duration_ms=0.0,
            payload=None if failed else payload,
            error=payload if failed else None,
            logs=logs,
        )

    def http(
        self,
        method: str,
        url: str,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Send a request to a deployed HTTP API by its URL (AWS-shaped URLs map to the front)."""
        target = split_api_url(url)
        if target is None:
            return gateway_error(404, "Not Found")
        api_id, path, query = target
        local = local_url(self.endpoint_url, api_id).rstrip("/") + path
        if query:
            local += f"?{query}"
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(  # noqa: S310 - the URL is localcloud's own endpoint
            local, data=data, method=method.upper(), headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return HttpResponse(
                    response.status,
                    {key.lower(): value for key, value in response.headers.items()},
                    text_or_bytes(response.read()),
                )
        except urllib.error.HTTPError as error:
            return HttpResponse(
                error.code,
                {key.lower(): value for key, value in error.headers.items()},
                text_or_bytes(error.read()),
            )

    def throttle_batch_writes(self, table_name: str, *, unprocessed: int, calls: int = 1) -> None:
        """The next `calls` BatchWriteItem calls on the table leave their last `unprocessed`
        requests unprocessed, as a throttled table does (`services/dynamodb`)."""
        query = urllib.parse.urlencode(
            {"table": table_name, "unprocessed": unprocessed, "calls": calls}
        )
        self._control("POST", f"throttle-batch-writes?{query}")

    def _control(self, method: str, action: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the URL is localcloud's own endpoint
            f"{self.endpoint_url}{CONTROL_PREFIX}{action}",
            method=method,
            data=b"" if method == "POST" else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            # Something answers, but not as localcloud does (another server on the port).
            raise EndpointUnreachableError(
                f"{self.endpoint_url} answered {error.code} to a localcloud control call: "
                "is it localcloud?"
            ) from error
        except urllib.error.URLError as error:
            raise EndpointUnreachableError(
                f"no localcloud at {self.endpoint_url} ({error}); start it with `localcloud up`"
            ) from error
