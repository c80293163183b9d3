"""Reads a CDK cloud assembly (cdk.out): each stack's template and where its assets are."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack: its name, its CloudFormation template and the assembly folder."""

    name: str
    template: dict[str, Any]
    assembly_dir: Path

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def asset_dir(self, logical_id: str) -> Path:
        """The unpacked code of a Lambda function, as CDK staged it in the assembly.

        The S3 key of the function's code names the asset; the stack's asset manifest says
        which folder it was staged from.
        """
        s3_key = self.resources[logical_id]["Properties"]["Code"].get("S3Key")
        if not isinstance(s3_key, str):
            raise ValueError(f"{self.name}/{logical_id} has no file asset: inline code is not run")
        asset_hash = s3_key.removesuffix(".zip")
        manifest = json.loads((self.assembly_dir / f"{self.name}.assets.json").read_text())
        source = manifest["files"][asset_hash]["source"]
        if source.get("packaging") != "zip":
            raise ValueError(f"{self.name}/{logical_id}: asset {asset_hash} is not a folder")
        return self.assembly_dir / source["path"]


@dataclass(frozen=True)
class FileAsset:
    """One file asset of a stack and where CDK would publish it."""

    source: Path
    packaging: str
    bucket: str
    key: str

    def content(self) -> bytes:
        """The bytes to upload: the file itself, or a zip of the folder (as cdk-assets makes)."""
        if self.packaging != "zip":
            return self.source.read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for root, dirs, files in os.walk(self.source):
                dirs.sort()
                for name in sorted(files):
                    path = Path(root) / name
                    archive.write(path, path.relative_to(self.source).as_posix())
        return buffer.getvalue()


def file_assets(stack: StackTemplate, *, account_id: str, region: str) -> Iterator[FileAsset]:
    """The stack's file assets, with the bootstrap bucket's placeholders filled in."""
    manifest_path = stack.assembly_dir / f"{stack.name}.assets.json"
    if not manifest_path.is_file():
        return
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("dockerImages"):
        raise ValueError(f"{stack.name}: container image assets cannot run without Docker")
    for asset in manifest.get("files", {}).values():
        source = asset["source"]
        if "path" not in source:
            raise ValueError(f"{stack.name}: only assets built from a path can be published")
        for destination in asset["destinations"].values():
            yield FileAsset(
                source=stack.assembly_dir / source["path"],
                packaging=source.get("packaging", "file"),
                bucket=_fill(destination["bucketName"], account_id, region),
                key=_fill(destination["objectKey"], account_id, region),
            )


def _fill(text: str, account_id: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account_id)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def load_assembly(assembly_dir: str | Path) -> dict[str, StackTemplate]:
    """Every stack in the assembly, by stack name, in the manifest's order."""
    assembly_dir = Path(assembly_dir)
    manifest_path = assembly_dir / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path} not found: synthesize the app first (make synth)")
    manifest = json.loads(manifest_path.read_text())
    stacks = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        name = artifact.get("displayName", artifact_id)
        template_file = assembly_dir / artifact["properties"]["templateFile"]
        stacks[name] = StackTemplate(name, json.loads(template_file.read_text()), assembly_dir)
    return stacks


BOOTSTRAP_BUCKET = "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"


def write_assembly(
    directory: Path, stack_name: str, template: dict[str, Any], code: dict[str, dict[str, str]]
) -> Path:
    """Write a one-stack cloud assembly as `cdk synth` lays it out, for hand-written templates.

    `code` maps each asset hash (the template's `S3Key` without `.zip`) to the files of its
    folder asset, by name. Returns `directory`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for asset_hash, sources in code.items():
        folder = directory / f"asset.{asset_hash}"
        folder.mkdir(exist_ok=True)
        for name, source in sources.items():
            (folder / name).write_text(source)
        files[asset_hash] = {
            "displayName": f"{stack_name}/Code",
            "source": {"path": folder.name, "packaging": "zip"},
            "destinations": {
                "current_account-current_region": {
                    "bucketName": BOOTSTRAP_BUCKET,
                    "objectKey": f"{asset_hash}.zip",
                }
            },
        }
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            f"{stack_name}.assets": {
                "type": "cdk:asset-manifest",
                "properties": {"file": f"{stack_name}.assets.json"},
            },
            stack_name: {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/unknown-region",
                "properties": {"templateFile": f"{stack_name}.template.json"},
                "dependencies": [f"{stack_name}.assets"],
                "displayName": stack_name,
            },
        },
    }
    assets = {"version": "48.0.0", "files": files, "dockerImages": {}}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (directory / f"{stack_name}.template.json").write_text(json.dumps(template, indent=1))
    (directory / f"{stack_name}.assets.json").write_text(json.dumps(assets, indent=1))
    return directory
