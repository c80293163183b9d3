"""A DynamoDB table with the project's durability and encryption defaults."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.config import AppConfig


class Table(Construct):
    """A DynamoDB table (`aws_dynamodb.Table`, not `TableV2`: see docs for why).

    Defaults (the `dynamodb.Table` keywords in `overrides` replace them):
    - on-demand billing;
    - point-in-time recovery on;
    - encryption at rest with the AWS-managed DynamoDB key;
    - deletion protection and removal policy from the stage (on / RETAIN in prod);
    - a string partition key named `partition_key_name` (default "pk").

    Attribute: `table`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        partition_key_name: str = "pk",
        sort_key_name: str | None = None,
        time_to_live_attribute: str | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        props: dict[str, Any] = {
            "partition_key": dynamodb.Attribute(
                name=partition_key_name, type=dynamodb.AttributeType.STRING
            ),
            "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            "encryption": dynamodb.TableEncryption.AWS_MANAGED,
            "deletion_protection": config.deletion_protection,
            "removal_policy": config.removal_policy,
        }
        if sort_key_name:
            props["sort_key"] = dynamodb.Attribute(
                name=sort_key_name, type=dynamodb.AttributeType.STRING
            )
        if time_to_live_attribute:
            props["time_to_live_attribute"] = time_to_live_attribute
        props.update(overrides)
        self.table = dynamodb.Table(self, "Table", **props)

    @classmethod
    def for_idempotency(cls, scope: Construct, construct_id: str, *, config: AppConfig) -> Table:
        """The table Powertools idempotency expects: key `id`, TTL on `expiration`."""
        return cls(
            scope,
            construct_id,
            config=config,
            partition_key_name="id",
            time_to_live_attribute="expiration",
        )
