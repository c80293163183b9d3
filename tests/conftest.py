"""Fixtures shared by every test level: a fake AWS environment, a Lambda context, and the
synthesized app (once per run and stage, shared by parallel workers, only for the tests that
ask for it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import config as moto_config

from tests.synth import CloudAssembly, synth_once

# The `localcloud` fixture: every stack deployed onto in-process localcloud.
pytest_plugins = ["localcloud.pytest_plugin"]

AWS_REGION = "eu-west-1"
AWS_ACCOUNT_ID = "123456789012"  # moto's default account

# CDK checks every synthesized template with its own validation engine, which takes about 7 s of
# CPU to start in each process that synthesizes: the test processes, and every app the CDK CLI
# runs for the end-to-end deploys. Off for all of them (they inherit this environment); one test
# starts the engine itself and runs its rules on every template of the app, once
# (tests/infra/test_compliance.py).
os.environ["CDK_VALIDATION"] = "false"


# Powertools reads these when a handler module is imported, which pytest does at collection,
# before any fixture runs; the autouse fixture below sets them again for each test.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatternsTests",
    "POWERTOOLS_DEV": "false",
}
for _name, _value in POWERTOOLS_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_models() -> Iterator[None]:
    """moto starts each mock with a fresh boto3 session, whose clients would parse every
    service model again; one loader for the session's tests, as localcloud's engine keeps."""
    # Imported in the fixture, which runs in the processes that run tests: the engine brings
    # in moto's CloudFormation, seconds that pytest-xdist's controller need not spend.
    from localcloud.core.engine import SHARED_MODEL_LOADER
    from localcloud.core.hooks import InstalledHooks

    hooks = InstalledHooks([SHARED_MODEL_LOADER])
    yield
    hooks.remove()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so no test can reach a real account; tracing off."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": AWS_REGION,
        "AWS_REGION": AWS_REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **POWERTOOLS_ENVIRONMENT,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


#: moto's own defaults, except that a mock keeps boto3's default session: moto drops it on each
#: start so no client made before the mock reaches AWS, but here every test runs with the fake
#: credentials above, and a new session per test costs tens of milliseconds (models, endpoint
#: rules and credential chain built again) in every functional test.
MOTO_CONFIG = {"core": {**moto_config.default_user_config["core"], "reset_boto3_session": False}}


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for one test: every AWS call the test or the handler makes reaches moto, whose
    state starts empty and is dropped at the end."""
    with mock_aws(config=MOTO_CONFIG):
        yield


@pytest.fixture
def receive_all(aws: None) -> Callable[[str], list[dict[str, Any]]]:
    """`receive_all(queue_url)`: every message in a queue, received once, with its attributes.

    The receive holds the messages invisible for a while, so that each is returned once.
    """
    sqs = boto3.client("sqs")

    def receive(queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            messages.extend(batch)
        return messages

    return receive


@dataclass
class LambdaContext:
    """The fields of the context object Lambda passes to a Python handler."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/27/[$LATEST]0123456789abcdef"
    remaining_time_ms: int = 10_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{AWS_REGION}:{AWS_ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_time_ms


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def localcloud_assembly_dir(dev_assembly: CloudAssembly) -> Path:
    """End-to-end tests deploy the app synthesized once for the session."""
    return dev_assembly.outdir


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every process of this run shares: under pytest-xdist each worker's base
    temporary folder (`popen-gw<N>`) sits in the run's own; alone, the base folder is the run's.
    """
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def dev_assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    return synth_once(_run_folder(tmp_path_factory), "dev")


@pytest.fixture(scope="session")
def prod_assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    return synth_once(_run_folder(tmp_path_factory), "prod")
