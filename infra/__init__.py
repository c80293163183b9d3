"""The CDK app's configuration, shared constructs, patterns, stacks and pattern registry.

Each pattern's `contract.py` lives in the Lambda asset root, `functions/`, where Lambda
imports it as `<pattern>.contract`. Infra imports it under that same name, so `functions/`
joins the import path here, once, for `cdk synth` (`python3 app.py`) and every other entry
point; pytest's `pythonpath` already has it.
"""

import sys
from pathlib import Path

FUNCTIONS_ROOT = Path(__file__).resolve().parents[1] / "functions"

if str(FUNCTIONS_ROOT) not in sys.path:
    sys.path.append(str(FUNCTIONS_ROOT))
