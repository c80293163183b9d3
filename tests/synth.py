"""Synthesizes the CDK app for tests and reads what the synth wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from infra import registry
from infra.application import build_app


@dataclass(frozen=True)
class CloudAssembly:
    """What one synth wrote: the folder, each stack's template, and cdk-nag's report."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    validation_report: dict[str, Any]

    def template(self, stack_name: str) -> Template:
        return Template.from_json(self.templates[stack_name])

    def template_paths(self) -> list[Path]:
        return [self.outdir / f"{name}.template.json" for name in self.templates]


def synth(outdir: Path, stage: str) -> CloudAssembly:
    # A cdk-nag finding makes synth() raise, so every test below fails if one appears.
    build_app(context={"stage": stage}, outdir=str(outdir)).synth()
    templates = {
        pattern.stack_name: json.loads((outdir / f"{pattern.stack_name}.template.json").read_text())
        for pattern in registry.deployable()
    }
    report = json.loads((outdir / "validation-report.json").read_text())
    return CloudAssembly(outdir=outdir, templates=templates, validation_report=report)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }
