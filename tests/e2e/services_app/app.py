"""A small CDK app for driving localcloud's extensions through the real CDK CLI.

One stack: a REST API (TOKEN authorizer, API key and usage plan, Lambda proxy, direct SQS
integration), a Kinesis stream consumed with a tumbling window, bisect on error and an
on-failure queue, a state machine started by an EventBridge rule on a custom bus, and a bucket
notifying a function about objects created under a prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aws_cdk import App, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3_notifications
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

HERE = Path(__file__).resolve().parent
STACK_NAME = "LocalcloudServices"
API_KEY_VALUE = "localcloud-services-api-key-0001"
UPLOAD_PREFIX = "incoming/"
EVENT_SOURCE = "services.orders"
EVENT_DETAIL_TYPE = "OrderPlaced"


class ServicesStack(Stack):
    """The services of the module docstring, each wired as a production stack would wire it."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Every function reports what reached it here, so the test sees outcomes, not calls.
        seen = sqs.Queue(self, "Seen")
        code = lambda_.Code.from_asset(str(HERE / "functions"), exclude=["__pycache__"])

        def function(name: str, handler: str) -> lambda_.Function:
            fn = lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler=f"handlers.{handler}",
                code=code,
                timeout=Duration.seconds(10),
                environment={"SEEN_QUEUE_URL": seen.queue_url},
            )
            seen.grant_send_messages(fn)
            return fn

        self._rest_api(function("Authorizer", "authorize"), function("Greet", "greet"))
        self._stream(function("StreamConsumer", "consume_stream"))
        self._workflow(function("ReviewOrder", "review_order"))
        self._uploads(function("OnObjectCreated", "on_object_created"))
        CfnOutput(self, "SeenQueueUrl", value=seen.queue_url)

    def _rest_api(self, authorizer_fn: lambda_.IFunction, greet_fn: lambda_.IFunction) -> None:
        api = apigateway.RestApi(
            self, "Api", cloud_watch_role=False, deploy_options={"stage_name": "live"}
        )
        authorizer = apigateway.TokenAuthorizer(
            self, "TokenAuthorizer", handler=authorizer_fn, results_cache_ttl=Duration.seconds(0)
        )
        api.root.add_resource("hello").add_method(
            "GET",
            apigateway.LambdaIntegration(greet_fn),
            authorizer=authorizer,
            api_key_required=True,
        )
        key = api.add_api_key("Key", value=API_KEY_VALUE)
        plan = api.add_usage_plan(
            "Plan", throttle=apigateway.ThrottleSettings(burst_limit=2, rate_limit=1)
        )
        plan.add_api_key(key)
        plan.add_api_stage(stage=api.deployment_stage)

        orders = sqs.Queue(self, "Orders")
        role = iam.Role(
            self, "ApiToSqs", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com")
        )
        orders.grant_send_messages(role)
        # The body is reshaped before it is queued: only the order id and the quantity, renamed.
        # The JSON around them is written URL-encoded, as a form body needs it.
        reshape = (
            "Action=SendMessage&MessageBody="
            + quote('{"order":', safe="")
            + "$util.urlEncode($input.json('$.id'))"
            + quote(',"units":', safe="")
            + "$util.urlEncode($input.json('$.qty'))"
            + quote("}", safe="")
        )
        api.root.add_resource("orders").add_method(
            "POST",
            apigateway.AwsIntegration(
                service="sqs",
                path=f"{self.account}/{orders.queue_name}",
                integration_http_method="POST",
                options=apigateway.IntegrationOptions(
                    credentials_role=role,
                    passthrough_behavior=apigateway.PassthroughBehavior.NEVER,
                    request_parameters={
                        "integration.request.header.Content-Type": (
                            "'application/x-www-form-urlencoded'"
                        )
                    },
                    request_templates={"application/json": reshape},
                    integration_responses=[
                        apigateway.IntegrationResponse(
                            status_code="200",
                            response_templates={"application/json": json.dumps({"queued": True})},
                        )
                    ],
                ),
            ),
            method_responses=[apigateway.MethodResponse(status_code="200")],
        )
        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "OrdersQueueUrl", value=orders.queue_url)

    def _stream(self, consumer: lambda_.Function) -> None:
        stream = kinesis.Stream(self, "Stream", shard_count=1)
        failures = sqs.Queue(self, "StreamFailures")
        consumer.add_event_source(
            sources.KinesisEventSource(
                stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=10,
                bisect_batch_on_error=True,
                retry_attempts=1,
                tumbling_window=Duration.seconds(2),
                on_failure=sources.SqsDlq(failures),
            )
        )
        CfnOutput(self, "StreamName", value=stream.stream_name)
        CfnOutput(self, "StreamFailuresQueueUrl", value=failures.queue_url)

    def _workflow(self, review: lambda_.IFunction) -> None:
        task = tasks.LambdaInvoke(
            self, "Review", lambda_function=review, payload_response_only=True
        )
        approved = sfn.Succeed(self, "Approved")
        wait = sfn.Wait(self, "AwaitReview", time=sfn.WaitTime.duration(Duration.seconds(60)))
        definition = task.next(
            sfn.Choice(self, "NeedsReview?")
            .when(
                sfn.Condition.string_equals("$.verdict", "review"),
                wait.next(sfn.Succeed(self, "Reviewed")),
            )
            .otherwise(approved)
        )
        machine = sfn.StateMachine(
            self, "OrderReview", definition_body=sfn.DefinitionBody.from_chainable(definition)
        )
        bus = events.EventBus(self, "Bus")
        events.Rule(
            self,
            "OrderPlaced",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE]
            ),
            targets=[
                targets.SfnStateMachine(
                    machine, input=events.RuleTargetInput.from_event_path("$.detail")
                )
            ],
        )
        CfnOutput(self, "BusName", value=bus.event_bus_name)
        CfnOutput(self, "StateMachineArn", value=machine.state_machine_arn)

    def _uploads(self, on_created: lambda_.IFunction) -> None:
        bucket = s3.Bucket(self, "Uploads", removal_policy=RemovalPolicy.DESTROY, enforce_ssl=True)
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3_notifications.LambdaDestination(on_created),
            s3.NotificationKeyFilter(prefix=UPLOAD_PREFIX),
        )
        CfnOutput(self, "BucketName", value=bucket.bucket_name)


def build_app(*, outdir: str | None = None, context: dict[str, Any] | None = None) -> App:
    """The app with its one stack; `context` defaults to this folder's cdk.json."""
    if context is None:
        context = json.loads((HERE / "cdk.json").read_text())["context"]
    app = App(context=context, outdir=outdir)
    ServicesStack(app, STACK_NAME)
    return app


if __name__ == "__main__":
    build_app().synth()
