"""Builds the CDK app: one stack per registered pattern, project tags, cdk-nag on every synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra import registry
from infra.config import AppConfig

#: The context keys AppConfig reads; cdk.json holds their defaults.
CONFIG_CONTEXT_KEYS = (
    "stage",
    "alarm_email",
    "powertools",
    "architecture",
    "batching",
    "stream_processing",
    "peer_to_peer",
    "api_gateway",
    "orchestration",
    "event_sourcing",
    "etl",
)
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def project_context() -> dict[str, Any]:
    """The context in cdk.json (defaults and feature flags).

    The CDK CLI passes it to the app itself; reading it here too makes `python app.py` and the
    tests synthesize exactly what `cdk synth` does. Values from the CLI (`-c`) still win.
    """
    return json.loads(CDK_JSON.read_text())["context"]


def build_app(*, context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """Create the app with every pattern's stack. `app.synth()` raises on any cdk-nag finding.

    `context` overrides cdk.json's defaults (tests use it to pick a stage); the CDK CLI's own
    context, including `-c key=value`, takes precedence over both.
    """
    app = App(context={**project_context(), **(context or {})}, outdir=outdir)
    config = AppConfig.from_context(
        {key: app.node.try_get_context(key) for key in CONFIG_CONTEXT_KEYS}
    )
    Tags.of(app).add("project", "serverless-patterns")
    Tags.of(app).add("stage", config.stage.value)
    for pattern in registry.deployable():
        stack_class = pattern.stack_class()
        stack = stack_class(app, pattern.stack_name, config=config, description=stack_class.__doc__)
        Tags.of(stack).add("pattern", pattern.stack_name)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
