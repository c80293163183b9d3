"""localcloud: an embedded AWS on moto that runs a CDK app's real templates and code, no Docker.

Two ways in:
- `localcloud up` serves an AWS-compatible endpoint (moto's server inside this process) that
  the real `cdk deploy` deploys onto; `localcloud.server` and `localcloud.cli`.
- `LocalCloud` deploys synthesized templates onto moto's in-process mock, for tests.

Both share the engine (`localcloud.core.engine`): functions run in-process from their deployed
code, event sources are delivered with Lambda's rules, and APIs are served by the API front.
`localcloud/README.md` describes the layers (rules, core, services, entry points).
"""

from localcloud.core.apifront import HttpResponse
from localcloud.core.runner import Invocation
from localcloud.inprocess import LocalCloud

__all__ = ["HttpResponse", "Invocation", "LocalCloud"]
