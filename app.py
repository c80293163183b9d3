#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth|deploy <Stack>` runs this; so does `python app.py`."""

import os

from infra.node_runtime import announce_node_version

# Before aws_cdk (imported by infra.application) starts Node.
announce_node_version()

from infra.application import build_app  # noqa: E402

# The CDK CLI names the output folder in CDK_OUTDIR; run directly, the app writes ./cdk.out.
build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out")).synth()
