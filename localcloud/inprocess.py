"""localcloud in this process, on moto's in-process mock: for tests (no server, no CDK CLI).

    with LocalCloud("cdk.out") as cloud:
        cloud.deploy("PubSub")                   # the synthesized template, through CloudFormation
        outputs = cloud.outputs("PubSub")
        cloud.client("sns").publish(TopicArn=outputs["TopicArn"], Message="...")
        cloud.settle()                           # deliver everything pending, deterministically

Deploying does what `cdk deploy` does against an endpoint, without the CLI: the stack's file
assets are published to the bootstrap bucket, then the template goes through CloudFormation
change sets, so the same template handling (what localcloud adds to moto's CloudFormation)
serves both this mode and `localcloud up`. Functions, delivery and the API front are the
engine's, as in server mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

from localcloud.core.apifront import HttpRequest, HttpResponse, gateway_error, split_api_url
from localcloud.core.assembly import StackTemplate, file_assets, load_assembly
from localcloud.core.engine import DEFAULT_ACCOUNT_ID, Engine
from localcloud.core.runner import Invocation

# Clients for the process, not per LocalCloud: building one takes tens of milliseconds (its
# class is generated from the service model), a test suite starts thousands of LocalClouds, and
# every client answers from whichever mock is active (moto's stubber is process-wide). They hold
# only the fake credentials and the region.
_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def _shared_client(service: str, region: str, *, checksum_when_required: bool = False) -> Any:
    """`checksum_when_required` leaves out the CRC32 botocore otherwise adds to every upload:
    computed in Python over an aws-chunked body, which moto then decodes again, it made
    publishing a 60 MB layer asset take ten seconds; the asset's own hash already names it."""
    with _clients_lock:
        key = (service, region, checksum_when_required)
        if key not in _clients:
            _clients[key] = boto3.client(
                service,
                region_name=region,
                aws_access_key_id=_FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=_FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=_FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
                config=Config(
                    account_id_endpoint_mode="disabled",
                    request_checksum_calculation="when_required"
                    if checksum_when_required
                    else "when_supported",
                ),
            )
        return _clients[key]


BOOTSTRAP_QUALIFIER = "hnb659fds"
#: Where `cdk bootstrap` leaves its version, and where the CDK CLI reads it before a deploy.
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
# What `cdk bootstrap` records; templates check it is at least the version they need.
BOOTSTRAP_VERSION = "30"
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "localcloud",
    "AWS_SECRET_ACCESS_KEY": "localcloud",
    "AWS_SESSION_TOKEN": "localcloud",
}


class DeployError(RuntimeError):
    """CloudFormation (moto's, with localcloud's additions) refused or failed the stack."""


class LocalCloud:
    """An in-process AWS for a CDK app's synthesized templates (see the module docstring)."""

    def __init__(self, assembly_dir: str | Path = "cdk.out", *, region: str = "eu-west-1"):
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.stacks: dict[str, StackTemplate] = load_assembly(assembly_dir)
        self._mock = mock_aws()
        self._code_root: Path | None = None
        self._saved_environ: dict[str, str] = {}
        self.engine: Engine | None = None
        self._clients: dict[str, Any] = {}

    def __enter__(self) -> LocalCloud:
        self._saved_environ = dict(os.environ)
        # Fake credentials keep every call on moto; nothing here can reach an AWS account.
        os.environ.update(_FAKE_CREDENTIALS)
        # A shell set up for `localcloud up` (or a real account) must not steer in-process
        # clients, the engine's or the handlers', away from moto.
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            os.environ.pop(name, None)
        self._mock.start()
        self._code_root = Path(tempfile.mkdtemp(prefix="localcloud-code-"))
        self.engine = Engine(region=self.region, code_root=self._code_root, time_scale=0.0)
        self.engine.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.engine is not None:
            self.engine.stop()
        self._mock.stop()
        os.environ.clear()
        os.environ.update(self._saved_environ)
        if self._code_root is not None:
            shutil.rmtree(self._code_root, ignore_errors=True)

    # -- clients and state ----------------------------------------------------------------

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = _shared_client(service, self.region)
        return self._clients[service]

    @property
    def invocations(self) -> list[Invocation]:
        return list(self._engine.invocations)

    @property
    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("use LocalCloud as a context manager: `with LocalCloud(...)`")
        return self.engine

    # -- deploy ---------------------------------------------------------------------------

    def deploy(self, *stack_names: str) -> None:
        """Deploy stacks (all, if none named) as `cdk deploy` would, creating or updating."""
        unknown = [name for name in stack_names if name not in self.stacks]
        if unknown:
            # Before anything is deployed: a typo leaves the cloud as it was.
            raise KeyError(
                f"no stack {', '.join(map(repr, unknown))} in the assembly; "
                f"it has {', '.join(self.stacks)}"
            )
        self._bootstrap()
        for name in stack_names or tuple(self.stacks):
            self._publish_assets(self.stacks[name])
            self._deploy_template(name, self.stacks[name].template)

    def _bootstrap(self) -> None:
        ssm = self.client("ssm")
        ssm.put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER,
            Value=BOOTSTRAP_VERSION,
            Type="String",
            Overwrite=True,
        )

    def _publish_assets(self, stack: StackTemplate) -> None:
        s3 = _shared_client("s3", self.region, checksum_when_required=True)
        for asset in file_assets(stack, account_id=self.account_id, region=self.region):
            try:
                s3.head_bucket(Bucket=asset.bucket)
            except s3.exceptions.ClientError:
                s3.create_bucket(
                    Bucket=asset.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},
                )
            s3.put_object(Bucket=asset.bucket, Key=asset.key, Body=asset.content())

    def _deploy_template(self, name: str, template: dict) -> None:
        cloudformation = self.client("cloudformation")
        try:
            cloudformation.describe_stacks(StackName=name)
            change_set_type = "UPDATE"
        except cloudformation.exceptions.ClientError:
            change_set_type = "CREATE"
        change_set_name = f"localcloud-{uuid.uuid4().hex[:8]}"
        with warnings.catch_warnings():
            # Alarms, resource policies and CDK metadata have no local effect; moto skips them.
            warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto")
            self._execute(cloudformation, name, change_set_name, change_set_type, template)

    def _execute(
        self,
        cloudformation: Any,
        name: str,
        change_set_name: str,
        change_set_type: str,
        template: dict,
    ) -> None:
        try:
            cloudformation.create_change_set(
                StackName=name,
                ChangeSetName=change_set_name,
                TemplateBody=json.dumps(template),
                ChangeSetType=change_set_type,
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
            described = cloudformation.describe_change_set(
                StackName=name, ChangeSetName=change_set_name
            )
            if described["Status"] == "FAILED":
                if "didn't contain changes" in described.get("StatusReason", ""):
                    return
                raise DeployError(f"{name}: {described.get('StatusReason')}")
            cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set_name)
        except cloudformation.exceptions.ClientError as error:
            raise DeployError(f"{name}: {error}") from error

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}

    def physical_id(self, stack_name: str, logical_id: str) -> str:
        resource = self.client("cloudformation").describe_stack_resource(
            StackName=stack_name, LogicalResourceId=logical_id
        )
        return resource["StackResourceDetail"]["PhysicalResourceId"]

    # -- use ------------------------------------------------------------------------------

    def invoke(self, function_name: str, event: Any) -> Invocation:
        """Invoke a function synchronously (RequestResponse) by name or ARN."""
        engine = self._engine
        return engine.invoke(engine.function(function_name), event, trigger="Invoke")

    def http(
        self,
        method: str,
        url: str,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Send a request to a deployed HTTP API by its URL (AWS-shaped or local)."""
        target = split_api_url(url)
        if target is None:
            return gateway_error(404, "Not Found")
        api_id, path, query = target
        data = body.encode() if isinstance(body, str) else (body or b"")
        request = HttpRequest(method.upper(), path, query, dict(headers or {}), data)
        return self._engine.handle_http(api_id, request)

    def throttle_batch_writes(self, table_name: str, *, unprocessed: int, calls: int = 1) -> None:
        """The next `calls` BatchWriteItem calls on the table leave their last `unprocessed`
        requests unprocessed, as a throttled table does (`services/dynamodb`)."""
        self._engine.service("dynamodb").throttle_batch_writes(
            table_name, unprocessed=unprocessed, calls=calls
        )

    def settle(self) -> int:
        """Deliver everything pending (see `Engine.settle`); returns invocations made."""
        return self._engine.settle()

    @contextlib.contextmanager
    def delivery_held(self) -> Iterator[None]:
        """The same block as `RemoteCloud.delivery_held`; in-process, delivery runs only when
        the cloud settles, so nothing else changes."""
        self._engine.hold_delivery()
        try:
            yield
        finally:
            self._engine.release_delivery()
