#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth|deploy <Stack>` runs this; so does `python app.py`."""

import os

from infra.application import build_app

# The CDK CLI names the output folder in CDK_OUTDIR; run directly, the app writes ./cdk.out.
build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out")).synth()
