"""An SNS topic encrypted with its own customer-managed KMS key, reachable only over TLS."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import AppConfig


class EncryptedTopic(sns.Topic):
    """An `sns.Topic` encrypted at rest with a customer-managed key and refusing plain HTTP.

    Defaults:
    - `key`: a new customer-managed KMS key (`topic_key`: rotation on, the stage's removal
      policy) created beside the topic as `<construct_id>Key`; pass a key to use another
      (one whose policy lets a service such as CloudWatch publish, for instance). A
      customer-managed key, not SNS's AWS-managed one, because only its policy can let
      other services (CloudWatch, S3, EventBridge) publish to the topic;
    - `enforce_ssl`: a topic policy that denies every request not made over TLS;
    - a generated name (no physical name).

    It is the topic itself; attribute `key` is its KMS key. Publishers granted with
    `grant_publish` also get `kms:Decrypt` and `kms:GenerateDataKey*` on that key only, and the
    cdk-nag finding that wildcard action raises is acknowledged on the publisher's role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key_description: str = "Encrypts an SNS topic",
        key: kms.IKey | None = None,
    ) -> None:
        # Beside the topic (not inside it), so the first patterns' keys keep their logical ids.
        topic_key_ = key or topic_key(
            scope, f"{construct_id}Key", config=config, description=key_description
        )
        super().__init__(scope, construct_id, master_key=topic_key_, enforce_ssl=True)
        self.key = topic_key_

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        grant = super().grant_publish(grantee)
        if isinstance(grantee.grant_principal, Construct):
            Validations.of(grantee.grant_principal).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                    reason="grant_publish lets a publisher encrypt for its encrypted topic: "
                    "GenerateDataKey* is scoped to the topic's own key, not to '*'.",
                )
            )
        return grant


def topic_key(
    scope: Construct, construct_id: str, *, config: AppConfig, description: str
) -> kms.Key:
    """A customer-managed KMS key for a topic: rotation on, the stage's removal policy."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=config.removal_policy,
    )
