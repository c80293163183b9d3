"""Builds the CDK app: one stack per pattern, project tags, and cdk-nag on every synth."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import AppConfig
from infra.stacks import STACKS

#: The context keys AppConfig reads; cdk.json holds their defaults.
CONFIG_CONTEXT_KEYS = ("stage", "alarm_email")


def build_app(*, context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """Create the app with every pattern's stack. `app.synth()` raises on any cdk-nag finding.

    `context` adds to (and overrides) what the CDK CLI passes in; tests use it to pick a stage.
    """
    app = App(context=context, outdir=outdir)
    config = AppConfig.from_context({key: app.node.try_get_context(key) for key in CONFIG_CONTEXT_KEYS})
    Tags.of(app).add("project", "serverless-patterns")
    Tags.of(app).add("stage", config.stage.value)
    for stack_name, stack_class in STACKS.items():
        stack = stack_class(app, stack_name, config=config, description=stack_class.__doc__)
        Tags.of(stack).add("pattern", stack_name)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
