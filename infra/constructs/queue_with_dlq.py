"""An SQS queue with its dead-letter queue and an alarm on the DLQ's depth."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import AppConfig
from infra.constructs.alarm_topic import AlarmTopic


class DeadLetterQueue(sqs.Queue):
    """An `sqs.Queue` that holds what failed: for a redrive policy or an on-failure destination.

    Defaults:
    - SSE with SQS-managed keys (works as an SNS subscription target and as a Lambda
      on-failure destination, which an AWS-managed KMS key does not);
    - a TLS-only queue policy (`enforce_ssl`);
    - retention 14 days (the maximum), so failures can be inspected and redriven;
    - the stage's removal policy; a generated name.

    It is the queue itself; `alarm_on_depth(...)` adds the alarm every DLQ needs.

    `dead_letters_for` names what sends its failures here when that is not a queue's redrive
    policy (an on-failure destination, an EventBridge target's or a pipe's dead-letter
    config): cdk-nag recognises a dead-letter queue only in a redrive policy and would ask this
    one for a DLQ of its own (AwsSolutions-SQS3), so that finding is acknowledged, naming it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        dead_letters_for: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=config.removal_policy,
        )
        if dead_letters_for is not None:
            Validations.of(self).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-SQS3",
                    reason=f"This queue is the dead-letter queue of {dead_letters_for}, which "
                    "cdk-nag only recognises in a redrive policy.",
                )
            )

    def alarm_on_depth(
        self, scope: Construct, construct_id: str, *, alarms: AlarmTopic, description: str
    ) -> cloudwatch.Alarm:
        """An alarm, routed to `alarms`, when any message is visible in this queue."""
        return alarms.alarm_on(
            scope,
            construct_id,
            metric=self.metric_approximate_number_of_messages_visible(statistic="Maximum"),
            description=description,
        )


class QueueWithDlq(Construct):
    """A work queue whose poison messages end in a dead-letter queue that raises an alarm.

    Defaults (the `sqs.Queue` keywords in `overrides` replace the work queue's):
    - SSE with SQS-managed keys on both queues (works as an SNS subscription target, which an
      AWS-managed KMS key does not);
    - TLS-only queue policies (`enforce_ssl`) on both queues;
    - `max_receive_count` 5: a message received five times without being deleted moves to
      the DLQ (AWS advises at least 5 for Lambda sources, so throttling alone does not
      dead-letter a message);
    - `visibility_timeout` 60 s: set it to at least six times the consumer's timeout
      (`QueueToFunction` does);
    - the DLQ is a `DeadLetterQueue` (14 days' retention), with an alarm when any message is
      visible in it.

    Attributes: `queue`, `dead_letter_queue`, `dlq_alarm`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        max_receive_count: int = 5,
        visibility_timeout: Duration = Duration.seconds(60),
        **overrides: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = DeadLetterQueue(self, "DeadLetterQueue", config=config)
        props: dict[str, Any] = {
            "encryption": sqs.QueueEncryption.SQS_MANAGED,
            "enforce_ssl": True,
            "visibility_timeout": visibility_timeout,
            "dead_letter_queue": sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=max_receive_count
            ),
            "removal_policy": config.removal_policy,
        }
        props.update(overrides)
        self.queue = sqs.Queue(self, "Queue", **props)
        self.dlq_alarm = self.dead_letter_queue.alarm_on_depth(
            self,
            "DeadLetterQueueDepthAlarm",
            alarms=alarms,
            description=f"Messages dead-lettered from {self.node.path}",
        )
