"""Synthesizes the CDK app for tests and reads what the synth wrote."""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra import registry

if TYPE_CHECKING:
    from aws_cdk.assertions import Template


@dataclass(frozen=True)
class CloudAssembly:
    """What one synth wrote: the folder, each stack's template, and cdk-nag's report."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    validation_report: dict[str, Any]

    def plugin_report(self, plugin_name: str) -> dict[str, Any]:
        """What one validation plugin reported (CDK leaves out a plugin that found nothing)."""
        (report,) = (
            report
            for report in self.validation_report["pluginReports"]
            if report["pluginName"] == plugin_name
        )
        return report

    def template(self, stack_name: str) -> Template:
        # Imported when used: loading aws_cdk starts Node (seconds), which only the tests that
        # read a template through CDK's assertions need.
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[stack_name])

    def template_paths(self) -> list[Path]:
        return [self.outdir / f"{name}.template.json" for name in self.templates]


def synth(outdir: Path, stage: str) -> CloudAssembly:
    from infra.application import build_app  # imports aws_cdk, so Node: only for a synth

    # A cdk-nag finding makes synth() raise, so every test below fails if one appears.
    build_app(context={"stage": stage}, outdir=str(outdir)).synth()
    return read_assembly(outdir)


def synth_once(root: Path, stage: str) -> CloudAssembly:
    """The app synthesized for `stage` into `root/cdk-<stage>`, by the first process to ask.

    Parallel test processes share `root`: the others wait on the lock, then read what the first
    wrote, so a run pays for one synth per stage whatever the number of processes.
    """
    outdir = root / f"cdk-{stage}"
    finished = root / f"cdk-{stage}.synthesized"
    with (root / f"cdk-{stage}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not finished.exists():
            # A synth that failed half way in another process left a partial folder.
            shutil.rmtree(outdir, ignore_errors=True)
            synth(outdir, stage)
            finished.touch()
    return read_assembly(outdir)


def read_assembly(outdir: Path) -> CloudAssembly:
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
