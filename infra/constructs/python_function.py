"""A Lambda function for a pattern's handler, with the project's secure defaults."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Acknowledgment, BundlingOptions, Duration, ILocalBundling, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import FUNCTIONS_ROOT
from infra.config import AppConfig, LambdaArchitecture, PowertoolsSource
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.log_group import StageLogGroup

#: The one place the Lambda runtime is chosen; local tests run on the same Python (.python-version).
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13


def lambda_architecture(architecture: LambdaArchitecture) -> lambda_.Architecture:
    """The CDK architecture of the configured one (`AppConfig.architecture`, arm64 by default)."""
    return {
        LambdaArchitecture.ARM_64: lambda_.Architecture.ARM_64,
        LambdaArchitecture.X86_64: lambda_.Architecture.X86_64,
    }[architecture]


#: Powertools ships to Lambda as the official public layer, never inside the asset, at the same
#: release as the `aws-lambda-powertools` pin in pyproject.toml (a test keeps the two equal).
POWERTOOLS_VERSION = "3.37.0"

#: The packages of the Lambda asset root (`FUNCTIONS_ROOT`) every pattern's asset holds.
SHARED_PACKAGES = ("shared",)


def _asset_excludes(pattern: str) -> list[str]:
    """Glob excludes that keep only `pattern` and the shared packages in the asset."""
    keep = (pattern, *SHARED_PACKAGES)
    return [
        "*",
        *(f"!{name}" for name in keep),
        *(f"!{name}/**" for name in keep),
        "**/__pycache__",
        "**/*.pyc",
    ]


#: Lambda's runtime already holds the AWS SDK; a bundled asset leaves it out, as the layer does
#: (X-Ray's SDK would otherwise pull in a botocore that shadows the runtime's, unmatched to boto3).
_PROVIDED_BY_THE_RUNTIME = ("boto3", "botocore", "s3transfer")
_PIP_PLATFORM = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def function_requirements() -> list[str]:
    """The pinned packages the handlers import at run time (pyproject's `functions` group), but
    the AWS SDK: what a bundled asset installs in place of the Powertools layer."""
    pyproject = tomllib.loads((FUNCTIONS_ROOT.parent / "pyproject.toml").read_text())
    return [
        requirement
        for requirement in pyproject["dependency-groups"]["functions"]
        if _distribution_name(requirement) not in _PROVIDED_BY_THE_RUNTIME
    ]


def _distribution_name(requirement: str) -> str:
    for separator in ("[", "=", "<", ">", "!", "~", ";", " "):
        requirement = requirement.split(separator, 1)[0]
    return requirement.lower()


@jsii.implements(ILocalBundling)
class InstallIntoAsset:
    """Bundles one pattern's handlers with `function_requirements()` installed beside them, as
    wheels for Lambda's Python and `architecture` (pip only, no container)."""

    def __init__(
        self,
        pattern: str,
        requirements: list[str],
        architecture: LambdaArchitecture = LambdaArchitecture.ARM_64,
    ) -> None:
        self._pattern = pattern
        self._requirements = requirements
        self._architecture = architecture

    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        output = Path(output_dir)
        for package in (self._pattern, *SHARED_PACKAGES):
            shutil.copytree(
                FUNCTIONS_ROOT / package,
                output / package,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                dirs_exist_ok=True,
            )
        subprocess.run(  # noqa: S603 - our own interpreter and the pins from pyproject.toml
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(output),
                "--platform",
                _PIP_PLATFORM[self._architecture.value],
                "--implementation",
                "cp",
                "--python-version",
                LAMBDA_RUNTIME.name.removeprefix("python"),
                "--only-binary=:all:",
                *self._requirements,
            ],
            check=True,
        )
        for distribution in _PROVIDED_BY_THE_RUNTIME:
            for installed in (*output.glob(distribution), *output.glob(f"{distribution}-*-info")):
                shutil.rmtree(installed)
        return True


def powertools_layer_parameter(
    architecture: LambdaArchitecture = LambdaArchitecture.ARM_64,
) -> str:
    """The public SSM parameter AWS keeps with the layer ARN of exactly `POWERTOOLS_VERSION`.

    Powertools publishes one such parameter per release, runtime and architecture, so the
    release is pinned by its version number rather than by a layer number that differs per
    release line; CloudFormation resolves it at deploy time, in the stack's region.
    """
    python = LAMBDA_RUNTIME.name  # "python3.13"
    return f"/aws/service/powertools/python/{architecture.value}/{python}/{POWERTOOLS_VERSION}"


class PythonFunction(Construct):
    """A Python Lambda function running `handler` from `functions/<pattern>/`.

    Defaults (each can be overridden by passing the `aws_lambda.Function` keyword of the
    same name in `overrides`):
    - runtime `LAMBDA_RUNTIME` (Python 3.13) on `config.architecture` (arm64 by default);
    - memory 256 MB, timeout 10 s;
    - X-Ray active tracing;
    - JSON logs (Lambda advanced logging, application level INFO, system level WARN) into a
      `StageLogGroup` owned by this construct (the stage's retention and removal policy);
    - Powertools from the official public layer of release `POWERTOOLS_VERSION` (its ARN read
      from the public SSM parameter `powertools_layer_parameter()` at deploy time), or as
      `config.powertools` chooses: a layer named by its ARN, or bundled into the asset with
      the rest of `function_requirements()`; with
      `POWERTOOLS_SERVICE_NAME` (default: the pattern name) and
      `POWERTOOLS_METRICS_NAMESPACE` (default: "ServerlessPatterns") in the environment;
    - an asset holding only `functions/<pattern>/` and the shared packages;
    - its own role, with no managed policy: it may only write its own log group (and send
      X-Ray traces); grant it everything else with `grant_*` on the resources it uses;
    - an alarm on any error, routed to `alarms`; `alarm_on_count` adds one on a count the
      handler publishes itself.

    Attributes: `function`, `role`, `log_group`, `errors_alarm`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        pattern: str,
        handler: str,
        description: str,
        environment: dict[str, str] | None = None,
        service_name: str | None = None,
        metrics_namespace: str = "ServerlessPatterns",
        memory_size: int = 256,
        timeout: Duration = Duration.seconds(10),
        **overrides: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (FUNCTIONS_ROOT / pattern).is_dir():
            raise ValueError(f"no handler package functions/{pattern}/ for pattern {pattern!r}")
        self._alarms = alarms
        self._service_name = service_name or pattern
        self._metrics_namespace = metrics_namespace

        self.log_group = StageLogGroup(self, "LogGroup", config=config)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {pattern} {construct_id}",
        )
        self.log_group.grant_write(self.role)

        props: dict[str, Any] = {
            "runtime": LAMBDA_RUNTIME,
            "architecture": lambda_architecture(config.architecture),
            "handler": handler,
            "code": _code(config, pattern),
            "description": description,
            "memory_size": memory_size,
            "timeout": timeout,
            "role": self.role,
            "tracing": lambda_.Tracing.ACTIVE,
            "log_group": self.log_group,
            "logging_format": lambda_.LoggingFormat.JSON,
            "application_log_level_v2": lambda_.ApplicationLogLevel.INFO,
            "system_log_level_v2": lambda_.SystemLogLevel.WARN,
            "layers": self._powertools_layers(config),
            "environment": {
                "POWERTOOLS_SERVICE_NAME": self._service_name,
                "POWERTOOLS_METRICS_NAMESPACE": self._metrics_namespace,
                **(environment or {}),
            },
        }
        props.update(overrides)
        self.function = lambda_.Function(self, "Function", **props)
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level "
                "permissions; tests/infra checks that no other statement has a '*' resource.",
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason="The runtime is pinned on purpose (LAMBDA_RUNTIME, Python 3.13) to match "
                "the Python the tests run on and the Powertools layer build; it moves in one "
                "place.",
            ),
        )

        self.errors_alarm = alarms.alarm_on(
            self,
            "ErrorsAlarm",
            metric=self.function.metric_errors(),
            description=f"{pattern} {construct_id} raised an error",
        )

    def alarm_on_count(
        self, construct_id: str, *, metric_name: str, description: str
    ) -> cloudwatch.Alarm:
        """An alarm, routed like the errors alarm, on any `metric_name` the handler counts with
        Powertools' Metrics (this function's namespace, dimension `service`).

        For what a successful invocation can still leave undone (entries a batch call
        rejected), which the errors alarm cannot see.
        """
        return self._alarms.alarm_on(
            self,
            construct_id,
            metric=cloudwatch.Metric(
                namespace=self._metrics_namespace,
                metric_name=metric_name,
                dimensions_map={"service": self._service_name},
                statistic="Sum",
            ),
            description=description,
        )

    def _powertools_layers(self, config: AppConfig) -> list[lambda_.ILayerVersion]:
        match config.powertools:
            case PowertoolsSource.BUNDLED:
                return []
            case PowertoolsSource.LAYER_ARN:
                layer_arn = config.powertools_layer_arn
            case PowertoolsSource.SSM_PARAMETER:
                layer_arn = ssm.StringParameter.value_for_string_parameter(
                    self, powertools_layer_parameter(config.architecture)
                )
        return [lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", layer_arn)]


def _code(config: AppConfig, pattern: str) -> lambda_.Code:
    if config.powertools is not PowertoolsSource.BUNDLED:
        return lambda_.Code.from_asset(str(FUNCTIONS_ROOT), exclude=_asset_excludes(pattern))
    return lambda_.Code.from_asset(
        str(FUNCTIONS_ROOT),
        exclude=_asset_excludes(pattern),
        bundling=BundlingOptions(
            image=LAMBDA_RUNTIME.bundling_image,
            local=InstallIntoAsset(pattern, function_requirements(), config.architecture),
        ),
    )
