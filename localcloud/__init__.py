"""localcloud: an embedded AWS on moto that runs a CDK app's real templates and code, no Docker.

Two ways in:
- `localcloud up` serves an AWS-compatible endpoint (moto's server inside this process) that
  the real `cdk deploy` deploys onto; `localcloud.server` and `localcloud.cli`.
- `LocalCloud` deploys synthesized templates onto moto's in-process mock, for tests.

Both share the engine (`localcloud.core.engine`): functions run in-process from their deployed
code, event sources are delivered with Lambda's rules, and APIs are served by the API front.
`localcloud/README.md` describes the layers (rules, core, services, entry points).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.core.apifront import HttpResponse
    from localcloud.core.runner import Invocation
    from localcloud.inprocess import LocalCloud

__all__ = ["HttpResponse", "Invocation", "LocalCloud"]

# Loaded on first use: the engine brings in moto's whole CloudFormation (seconds), which
# `import localcloud.<module>` for the CLI's help, the pytest plugin or the rules must not pay.
_EXPORTED_FROM = {
    "HttpResponse": "localcloud.core.apifront",
    "Invocation": "localcloud.core.runner",
    "LocalCloud": "localcloud.inprocess",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTED_FROM:
        raise AttributeError(f"module 'localcloud' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTED_FROM[name]), name)
