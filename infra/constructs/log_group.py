"""A CloudWatch log group kept for the stage's retention and removed by the stage's policy."""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import AppConfig


class StageLogGroup(logs.LogGroup):
    """A `logs.LogGroup` whose retention and removal policy come from the stage.

    Defaults:
    - `retention`: the stage's (`config.log_retention`: a week in dev, a year in prod);
    - removal policy: the stage's (`DESTROY` in dev, `RETAIN` in prod);
    - a generated name (no physical name).

    It is the log group itself: pass it wherever a `logs.ILogGroup` is expected.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        retention: logs.RetentionDays | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            retention=retention or config.log_retention,
            removal_policy=config.removal_policy,
        )
