"""The one SNS topic per stack that every alarm in the stack notifies."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import AppConfig
from infra.constructs.encrypted_topic import EncryptedTopic, topic_key


class AlarmTopic(Construct):
    """An encrypted SNS topic that receives every alarm of its stack.

    Defaults:
    - an `EncryptedTopic` (customer-managed KMS key with rotation, TLS-only policy) whose key
      policy also lets CloudWatch publish; AWS-managed SNS keys cannot grant that.
    - an e-mail subscription when `config.alarm_email` is set.

    Attributes: `topic`, `key`, `action` (the alarm action to attach to alarms).
    Use `alarm(...)` / `add_alarm(...)` so that no alarm is created without this action.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = topic_key(
            self, "Key", config=config, description="Encrypts the alarm notifications topic"
        )
        self.key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = EncryptedTopic(self, "Topic", config=config, key=self.key)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.action = cloudwatch_actions.SnsAction(self.topic)

    def add_alarm(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Route an existing alarm's ALARM and OK transitions to this topic."""
        alarm.add_alarm_action(self.action)
        alarm.add_ok_action(self.action)
        return alarm

    def alarm_on(
        self,
        scope: Construct,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        description: str,
        threshold: float = 1,
        evaluation_periods: int = 1,
        period: Duration = Duration.minutes(1),
    ) -> cloudwatch.Alarm:
        """An alarm that fires when `metric` reaches `threshold` in any one period.

        Missing data counts as healthy: a queue or function with no traffic is not failing.
        """
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric.with_(period=period) if isinstance(metric, cloudwatch.Metric) else metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        return self.add_alarm(alarm)
