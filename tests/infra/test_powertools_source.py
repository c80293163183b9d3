"""Where the functions get Powertools from, as context `powertools` chooses: the public layer
through AWS's SSM parameter (the default), a layer named by its ARN, or bundled into the asset;
each for the architecture context `architecture` chooses."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App

from infra.config import AppConfig, LambdaArchitecture, PowertoolsSource, Stage
from infra.constructs import POWERTOOLS_VERSION
from infra.constructs.python_function import InstallIntoAsset, function_requirements
from tests.infra.tiny_stack import Tiny

LAYER_ARN = "arn:aws:lambda:eu-west-1:123456789012:layer:my-powertools:7"


def _function_properties(tiny: Tiny) -> dict:
    [function] = tiny.template().find_resources("AWS::Lambda::Function").values()
    return function["Properties"]


def test_a_layer_named_by_its_arn_replaces_the_public_parameter():
    tiny = Tiny(
        AppConfig(
            stage=Stage.DEV,
            powertools=PowertoolsSource.LAYER_ARN,
            powertools_layer_arn=LAYER_ARN,
        )
    )
    tiny.function()

    assert _function_properties(tiny)["Layers"] == [LAYER_ARN]
    parameters = tiny.template().to_json().get("Parameters", {})
    assert not [p for p in parameters.values() if "powertools" in str(p.get("Default"))]


def test_a_bundled_function_has_no_layer_and_installs_the_functions_pins():
    # Bundling itself (pip) is skipped here: the next test runs it.
    app = App(context={"aws:cdk:bundling-stacks": []})
    tiny = Tiny(AppConfig(stage=Stage.DEV, powertools=PowertoolsSource.BUNDLED), app=app)
    tiny.function()

    assert "Layers" not in _function_properties(tiny)
    requirements = function_requirements()
    assert f"aws-lambda-powertools[tracer,jwt]=={POWERTOOLS_VERSION}" in requirements
    assert not [pin for pin in requirements if pin.startswith(("boto3", "botocore"))]


def test_bundling_copies_the_pattern_installs_for_lambda_and_leaves_the_sdk_to_the_runtime(
    tmp_path: Path,
):
    # As pip may leave them when a dependency needs the SDK (X-Ray's SDK needs botocore).
    (tmp_path / "botocore").mkdir()
    (tmp_path / "botocore-1.0.0.dist-info").mkdir()

    bundled = InstallIntoAsset("pub_sub", ["jmespath==1.1.0"]).try_bundle(str(tmp_path))

    assert bundled is True
    assert (tmp_path / "pub_sub" / "subscriber.py").is_file()
    assert (tmp_path / "shared" / "aws.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    assert (tmp_path / "jmespath" / "__init__.py").is_file()
    assert not (tmp_path / "botocore").exists()
    assert not list(tmp_path.glob("botocore-*"))


def test_on_x86_64_a_function_and_its_public_layer_parameter_are_x86_64():
    tiny = Tiny(AppConfig(stage=Stage.DEV, architecture=LambdaArchitecture.X86_64))
    tiny.function()

    assert _function_properties(tiny)["Architectures"] == ["x86_64"]
    parameters = tiny.template().to_json().get("Parameters", {})
    assert [p["Default"] for p in parameters.values() if "powertools" in str(p.get("Default"))] == [
        f"/aws/service/powertools/python/x86_64/python3.13/{POWERTOOLS_VERSION}"
    ]


def test_a_bundled_asset_installs_wheels_for_the_architecture(tmp_path: Path):
    # MarkupSafe ships a compiled speed-up per platform: which one pip chose names it.
    InstallIntoAsset("pub_sub", ["markupsafe==3.0.3"], LambdaArchitecture.X86_64).try_bundle(
        str(tmp_path / "x86_64")
    )
    InstallIntoAsset("pub_sub", ["markupsafe==3.0.3"], LambdaArchitecture.ARM_64).try_bundle(
        str(tmp_path / "arm64")
    )

    [x86_64] = (tmp_path / "x86_64").glob("markupsafe/_speedups*.so")
    [arm64] = (tmp_path / "arm64").glob("markupsafe/_speedups*.so")
    assert "x86_64" in x86_64.name
    assert "aarch64" in arm64.name
