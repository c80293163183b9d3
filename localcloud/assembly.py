"""Reads a CDK cloud assembly (cdk.out): each stack's template and where its assets are."""

from __future__ import annotations

import json
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
