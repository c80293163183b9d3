"""An S3 bucket with the project's secure defaults, and the bucket its access logs go to."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import AppConfig


class SecureBucket(Construct):
    """A private bucket whose requests are logged to an access-log bucket of its own.

    Defaults (the `s3.Bucket` keywords in `overrides` replace the bucket's):
    - SSE-S3 encryption (Athena, Glue and Lambda read it with IAM alone) on both buckets;
    - every public access blocked, bucket-owner-enforced object ownership, TLS-only policies;
    - server access logs to `access_logs` (kept for the stage's log retention);
    - the stage's removal policy (a bucket that still holds objects survives `cdk destroy`).

    Attributes: `bucket`, `access_logs`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: AppConfig, **overrides: Any
    ) -> None:
        super().__init__(scope, construct_id)
        common: dict[str, Any] = {
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "enforce_ssl": True,
            "removal_policy": config.removal_policy,
        }
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            **common,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(365 if config.is_production else 7))
            ],
        )
        props: dict[str, Any] = {
            **common,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "server_access_logs_bucket": self.access_logs,
        }
        props.update(overrides)
        self.bucket = s3.Bucket(self, "Bucket", **props)
