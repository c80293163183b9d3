"""A tiny stack to build one construct on, for tests of the shared constructs and joins."""

from __future__ import annotations

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra.config import AppConfig, Stage
from infra.constructs import AlarmTopic, PythonFunction, Table
from pub_sub.contract import SUBSCRIBER_HANDLER

DEV = AppConfig(stage=Stage.DEV)
PROD = AppConfig(stage=Stage.PROD)


class Tiny:
    """A stack with an alarm topic, and a function to join things to."""

    def __init__(self, config: AppConfig = DEV, *, app: App | None = None) -> None:
        self.app = app or App()
        self.stack = Stack(self.app, "Tiny")
        self.config = config
        self.alarms = AlarmTopic(self.stack, "Alarms", config=config)

    def function(self, construct_id: str = "Consumer", timeout: int = 20) -> lambda_.Function:
        return PythonFunction(
            self.stack,
            construct_id,
            config=self.config,
            alarms=self.alarms,
            pattern="pub_sub",
            handler=SUBSCRIBER_HANDLER,
            description="A consumer for the join tests",
            timeout=Duration.seconds(timeout),
        ).function

    def kinesis_stream(self) -> kinesis.Stream:
        return kinesis.Stream(
            self.stack, "Stream", encryption=kinesis.StreamEncryption.MANAGED, shard_count=1
        )

    def streamed_table(self) -> dynamodb.Table:
        return Table(
            self.stack,
            "Events",
            config=self.config,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        ).table

    def template(self) -> Template:
        return Template.from_stack(self.stack)
