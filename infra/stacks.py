"""Thin deployable stacks: each instantiates one pattern, its alarm topic, and its outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.config import AppConfig
from infra.constructs import AlarmTopic
from infra.patterns.pub_sub import PubSub
from infra.patterns.request_response import RequestResponse


class RequestResponseStack(Stack):
    """`cdk deploy RequestResponse`: HTTP API -> Lambda -> DynamoDB."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms", config=config)
        self.pattern = RequestResponse(self, "RequestResponse", config=config, alarms=alarms)
        CfnOutput(self, "ApiUrl", value=self.pattern.url, description="Invoke URL of the API")
        CfnOutput(self, "ItemsTableName", value=self.pattern.items_table.table_name)
        CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)


class PubSubStack(Stack):
    """`cdk deploy PubSub`: publisher -> SNS topic -> filtered SQS queues -> consumers."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms", config=config)
        self.pattern = PubSub(self, "PubSub", config=config, alarms=alarms)
        CfnOutput(self, "TopicArn", value=self.pattern.topic.topic_arn)
        CfnOutput(
            self, "PublisherFunctionName", value=self.pattern.publisher.function.function_name
        )
        CfnOutput(self, "LedgerTableName", value=self.pattern.ledger_table.table_name)
        for name, pipeline in self.pattern.pipelines.items():
            prefix = pipeline.node.id
            CfnOutput(
                self,
                f"{prefix}QueueUrl",
                value=pipeline.queue.queue.queue_url,
                description=f"Inbox of the {name} subscriber",
            )
            CfnOutput(
                self,
                f"{prefix}DeadLetterQueueUrl",
                value=pipeline.queue.dead_letter_queue.queue_url,
                description=f"Dead-letter queue of the {name} subscriber",
            )
        CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)


#: Stack name (what `cdk deploy X` takes) -> stack class, in the order the README lists them.
STACKS: dict[str, type[Stack]] = {
    "RequestResponse": RequestResponseStack,
    "PubSub": PubSubStack,
}
