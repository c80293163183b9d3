"""localcloud: an embedded AWS on moto that runs a CDK app's real templates and code, no Docker.

Two ways in:
- `localcloud up` serves an AWS-compatible endpoint (moto's server inside this process) that
  the real `cdk deploy` deploys onto; `localcloud.server` and `localcloud.cli`.
- `LocalCloud` deploys synthesized templates onto moto's in-process mock, for tests.

Both share the engine (`localcloud.engine`): functions run in-process from their deployed code,
event sources are delivered with Lambda's rules, and HTTP APIs are served by the API front.
"""

from localcloud.apifront import HttpResponse
from localcloud.inprocess import LocalCloud
from localcloud.runner import Invocation

__all__ = ["HttpResponse", "Invocation", "LocalCloud"]
