"""A Lambda layer of pinned Python packages, built from arm64 wheels with pip (no Docker) and
kept on disk between synths.

`python -m infra.constructs.dependency_layer GROUP` builds a group's layer ahead of time
(`make install` does, so no test synth downloads anything).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import AssetHashType, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import FUNCTIONS_ROOT
from infra.config import LambdaArchitecture
from infra.constructs.python_function import LAMBDA_RUNTIME, lambda_architecture

PROJECT_ROOT = FUNCTIONS_ROOT.parent
#: Built layers, one zip per group and set of pins (git ignores it).
LAYER_CACHE = PROJECT_ROOT / ".cache" / "layers"
#: Lambda's limit on a function's code and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024

#: Distributions a layer leaves out because Lambda already has them: the runtime's AWS SDK
#: and what the Powertools layer brings (pydantic, which two layers must not both hold: the
#: later one would shadow the other's files half-way).
PROVIDED_ELSEWHERE = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "python_dateutil",
    "dateutil",
    "six",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "annotated_types",
    "typing_inspection",
)
#: What no import needs at run time: C headers, Cython sources, the packages' own tests.
STRIPPED_GLOBS = (
    "**/__pycache__",
    "pyarrow/include",
    "pyarrow/tests",
    "pyarrow/src",
    "**/*.pyx",
    "**/*.pxd",
)
#: Wheels for Lambda's Python on each architecture: manylinux_2_28 (newer pyarrow only ships
#: those; Lambda's Python 3.13 runs on Amazon Linux 2023, glibc 2.34) and manylinux2014.
_PLATFORMS = {
    "arm64": ("manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_28_x86_64", "manylinux2014_x86_64"),
}


def group_requirements(group: str) -> list[str]:
    """The pinned requirements of pyproject's dependency group `group`."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    requirements = pyproject["dependency-groups"][group]
    for requirement in requirements:
        if not isinstance(requirement, str) or "==" not in requirement:
            raise ValueError(f"layer group {group!r} must pin each package (==): {requirement!r}")
    return list(requirements)


@dataclass(frozen=True)
class BuiltLayer:
    """A layer's zip on disk, and its sizes (measured when it was built)."""

    zip_path: Path
    unzipped_bytes: int
    zipped_bytes: int
    #: The key the cache holds it under: the group, its pins, the runtime and architecture.
    key: str


def layer_key(
    group: str,
    requirements: list[str],
    architecture: LambdaArchitecture = LambdaArchitecture.ARM_64,
) -> str:
    identity = json.dumps(
        {
            "group": group,
            "requirements": sorted(requirements),
            "runtime": LAMBDA_RUNTIME.name,
            "architecture": architecture.value,
            "provided_elsewhere": PROVIDED_ELSEWHERE,
            "stripped": STRIPPED_GLOBS,
        },
        sort_keys=True,
    )
    return f"{group}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def pip_install(
    requirements: list[str],
    target: Path,
    architecture: LambdaArchitecture = LambdaArchitecture.ARM_64,
) -> None:
    """Install `requirements` as Lambda's wheels for `architecture` into `target` (pip only,
    no container)."""
    platforms = [
        argument
        for platform in _PLATFORMS[architecture.value]
        for argument in ("--platform", platform)
    ]
    subprocess.run(  # noqa: S603 - our own interpreter and the pins from pyproject.toml
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            # pip would hold the layer's resolution against this environment's packages (a
            # newer python-dateutil than its botocore takes) and print a conflict that is not
            # one: the layer is installed on its own, and leaves the SDK's packages out.
            "--no-warn-conflicts",
            "--target",
            str(target),
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_RUNTIME.name.removeprefix("python"),
            "--only-binary=:all:",
            *requirements,
        ],
        check=True,
    )


def _strip(site: Path) -> None:
    for name in PROVIDED_ELSEWHERE:
        for path in (*site.glob(name), *site.glob(f"{name}-*.dist-info")):
            shutil.rmtree(path)
    for pattern in STRIPPED_GLOBS:
        for path in list(site.glob(pattern)):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


def _size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def build_layer(
    group: str,
    *,
    architecture: LambdaArchitecture = LambdaArchitecture.ARM_64,
    cache: Path = LAYER_CACHE,
    install: Callable[[list[str], Path], None] | None = None,
) -> BuiltLayer:
    """The layer of `group`'s pins for `architecture`: from the cache when it holds it, else
    built once (pip install into `python/`, stripped, zipped) and cached under its key."""
    if install is None:
        install = functools.partial(pip_install, architecture=architecture)
    requirements = group_requirements(group)
    key = layer_key(group, requirements, architecture)
    zip_path = cache / f"{key}.zip"
    sizes_path = cache / f"{key}.json"
    if zip_path.exists() and sizes_path.exists():
        sizes = json.loads(sizes_path.read_text())
        return BuiltLayer(zip_path, sizes["unzipped_bytes"], sizes["zipped_bytes"], key)

    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        site = Path(scratch) / "python"
        install(requirements, site)
        _strip(site)
        unzipped = _size(site)
        if unzipped > LAMBDA_UNZIPPED_LIMIT_BYTES:
            raise ValueError(
                f"layer {group} unzips to {unzipped / 2**20:.0f} MiB, over Lambda's 250 MB"
            )
        partial = Path(scratch) / "layer.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(site.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(site.parent).as_posix())
        # Renamed into place last, so a build stopped half-way leaves no zip to trust.
        sizes_path.write_text(
            json.dumps({"unzipped_bytes": unzipped, "zipped_bytes": partial.stat().st_size})
        )
        partial.replace(zip_path)
    return build_layer(group, architecture=architecture, cache=cache, install=install)


class DependencyLayer(Construct):
    """A `lambda_.LayerVersion` of pyproject's dependency group `group`, for `LAMBDA_RUNTIME`
    on `architecture` (the app's `config.architecture`).

    Defaults:
    - built from the group's pinned wheels with pip (no Docker), without what the runtime and
      the Powertools layer provide (`PROVIDED_ELSEWHERE`) and what no import needs
      (`STRIPPED_GLOBS`); refused at synth if it unzips to more than Lambda's 250 MB;
    - cached in `LAYER_CACHE` under a key of the pins: a synth reuses the zip, and the asset's
      hash is that key, so CDK does not hash the zip again either;
    - the stage's removal policy (`RETAIN` in prod keeps the versions functions use).

    Attributes: `layer`, `built` (the zip and its sizes).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group: str,
        removal_policy: RemovalPolicy,
        architecture: LambdaArchitecture = LambdaArchitecture.ARM_64,
    ) -> None:
        super().__init__(scope, construct_id)
        self.built = build_layer(group, architecture=architecture)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(self.built.zip_path),
                asset_hash=self.built.key,
                asset_hash_type=AssetHashType.CUSTOM,
            ),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[lambda_architecture(architecture)],
            description=f"pyproject group {group}: {', '.join(group_requirements(group))}",
            removal_policy=removal_policy,
        )


if __name__ == "__main__":
    for name in sys.argv[1:]:
        built = build_layer(name)
        print(
            f"{name}: {built.zip_path.relative_to(PROJECT_ROOT)} "
            f"({built.unzipped_bytes / 2**20:.1f} MiB unzipped, "
            f"{built.zipped_bytes / 2**20:.1f} MiB zipped)"
        )
