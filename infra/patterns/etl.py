"""ETL: two sources landed in S3, transformed into one schema and merged into an Iceberg table."""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Aws, Duration, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from etl.contract import (
    ARCHIVE_PREFIX,
    ENV_DATA_BUCKET_NAME,
    ENV_GLUE_DATABASE_NAME,
    ENV_TABLE_NAME,
    ENV_WAREHOUSE_LOCATION,
    LANDING_PREFIX,
    LOAD_HANDLER,
    LOAD_SERVICE_NAME,
    ORDERS_TABLE,
    QUARANTINE_PREFIX,
    STAGING_PREFIX,
    TRANSFORM_HANDLER,
    TRANSFORM_SERVICE_NAME,
    WAREHOUSE_PREFIX,
)
from infra.config import AppConfig, EtlConfig
from infra.constructs import AlarmTopic, DeadLetterQueue, PythonFunction, StageLogGroup
from infra.constructs.bucket import SecureBucket
from infra.constructs.dependency_layer import DependencyLayer

PATTERN = "etl"
#: pyproject's group of what the load function imports beyond Powertools: pyiceberg, pyarrow.
LAYER_GROUP = "etl-layer"
#: Errors a step may succeed on when tried again: Lambda's own transient failures, the
#: bucket being briefly unavailable, another run's commit winning the table first.
TRANSIENT_LAMBDA_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
SOURCE_UNAVAILABLE = "SourceUnavailableError"
COMMIT_CONFLICT = "CommitConflictError"


class Etl(Construct):
    """Landing bucket -> Step Functions (JSONata): a Distributed Map transforms each landed file,
    then one load merges the run into an Iceberg table in the Glue Data Catalog.

    Defaults:
    - one data bucket (`SecureBucket`) with EventBridge notifications; its prefixes are
      `landing/` (sources drop files), `staging/`, `quarantine/` and `archive/` (kept
      `etl.retention_days`, 30) and `warehouse/` (the table's Parquet and metadata);
    - a run starts on every object created under `landing/` and on `etl.schedule`
      (`rate(1 hour)`); what EventBridge cannot start goes to a dead-letter queue;
    - the Distributed Map transforms up to `etl.max_concurrency` (10) files at once, each
      retried 3 times on transient errors (2 s, doubling, jittered); any file failing
      after that fails the run, whose files stay landed for the next one;
    - the load is retried 4 times on a lost commit race or a transient error;
    - alarms on failed, timed-out and aborted runs, on each function's errors and on the
      trigger's dead-letter queue; the run times out after `run_timeout` (1 hour);
    - the load function gets pyiceberg and pyarrow from a `DependencyLayer`.

    Attributes: `bucket`, `database_name`, `transform`, `load`, `layer`, `state_machine`,
    `trigger_dead_letter_queue`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        settings: EtlConfig | None = None,
        run_timeout: Duration = Duration.hours(1),
    ) -> None:
        super().__init__(scope, construct_id)
        settings = settings or config.etl
        retention = Duration.days(settings.retention_days)
        self.bucket = SecureBucket(
            self,
            "Data",
            config=config,
            lifecycle_rules=[
                s3.LifecycleRule(prefix=prefix, expiration=retention)
                for prefix in (STAGING_PREFIX, QUARANTINE_PREFIX, ARCHIVE_PREFIX)
            ],
        ).bucket
        # EventBridge notifications as the bucket's own property: CDK's `event_bridge_enabled`
        # would add a custom resource with a Node.js function to set them.
        cfn_bucket = self.bucket.node.default_child
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )

        # Glue names are lower case, letters, digits and underscores; one database per stack.
        self.database_name = re.sub(r"[^a-z0-9_]", "_", f"{Stack.of(self).stack_name}_lake".lower())
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description="ETL pattern: the orders table (Apache Iceberg)",
            ),
        )
        # The catalog entry of the table's data: kept with the bucket in prod.
        self.database.apply_removal_policy(config.removal_policy)
        self.table_name = ORDERS_TABLE
        warehouse = f"s3://{self.bucket.bucket_name}/{WAREHOUSE_PREFIX}"

        self.transform = PythonFunction(
            self,
            "Transform",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=TRANSFORM_HANDLER,
            description="Reads one landed file, normalizes its rows, quarantines bad ones",
            service_name=TRANSFORM_SERVICE_NAME,
            timeout=Duration.minutes(2),
            memory_size=1024,
            environment={ENV_DATA_BUCKET_NAME: self.bucket.bucket_name},
        )
        self._allow_objects(self.transform, ["s3:GetObject"], LANDING_PREFIX)
        self._allow_objects(self.transform, ["s3:PutObject"], STAGING_PREFIX, QUARANTINE_PREFIX)

        self.layer = DependencyLayer(
            self,
            "Dependencies",
            group=LAYER_GROUP,
            removal_policy=config.removal_policy,
            architecture=config.architecture,
        )
        self.load = PythonFunction(
            self,
            "Load",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=LOAD_HANDLER,
            description="Merges a run's rows into the Iceberg orders table, archives its files",
            service_name=LOAD_SERVICE_NAME,
            timeout=Duration.minutes(10),
            memory_size=2048,
            environment={
                ENV_DATA_BUCKET_NAME: self.bucket.bucket_name,
                ENV_GLUE_DATABASE_NAME: self.database_name,
                ENV_TABLE_NAME: self.table_name,
                ENV_WAREHOUSE_LOCATION: warehouse,
            },
        )
        self.load.function.add_layers(self.layer.layer)
        self._allow_objects(self.load, ["s3:GetObject"], STAGING_PREFIX, LANDING_PREFIX)
        self._allow_objects(self.load, ["s3:PutObject"], QUARANTINE_PREFIX, ARCHIVE_PREFIX)
        self._allow_objects(self.load, ["s3:DeleteObject"], LANDING_PREFIX)
        self._allow_objects(
            self.load, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], f"{WAREHOUSE_PREFIX}/"
        )
        # Without ListBucket, S3 answers a missing key with 403 instead of 404, and pyiceberg
        # checks that a file it is about to write does not exist yet.
        self.load.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        )
        glue_arn = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        self.load.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                ],
                resources=[
                    f"{glue_arn}:catalog",
                    f"{glue_arn}:database/{self.database_name}",
                    f"{glue_arn}:table/{self.database_name}/{self.table_name}",
                ],
            )
        )

        self.state_machine = self._state_machine(config, settings, run_timeout)
        Validations.of(self.state_machine).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="Step Functions' log delivery (logs:*LogDelivery, DescribeLogGroups...) "
                "and X-Ray actions have no resource-level permissions.",
            ),
            *(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{self._logical_id(f)}.Arn>:*]",
                    reason="LambdaInvoke grants invoke on the one function's versions and "
                    "aliases (`<arn>:*`), which a task may name.",
                )
                for f in (self.transform.function, self.load.function)
            ),
            *(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:"
                    '<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":'
                    f'[":",{{"Ref":"{self._logical_id(self.state_machine)}"}}]}}]}}{suffix}]',
                    reason="The Distributed Map describes and stops the child executions of "
                    "this state machine's own map runs, whose ids are only known at run time.",
                )
                for suffix in (":*", "/*:*")
            ),
        )

        self.trigger_dead_letter_queue = DeadLetterQueue(
            self,
            "TriggerDeadLetterQueue",
            config=config,
            dead_letters_for="the EventBridge rules' state machine targets",
        )
        self.trigger_dead_letter_queue.alarm_on_depth(
            self,
            "TriggerDeadLetterQueueDepthAlarm",
            alarms=alarms,
            description="EventBridge could not start ETL runs",
        )
        start_run = targets.SfnStateMachine(
            self.state_machine,
            dead_letter_queue=self.trigger_dead_letter_queue,
            retry_attempts=4,
            max_event_age=Duration.hours(2),
        )
        self.on_landing = events.Rule(
            self,
            "OnLanding",
            description="Starts an ETL run when a file lands",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"prefix": LANDING_PREFIX}]},
                },
            ),
            targets=[start_run],
        )
        self.on_schedule = events.Rule(
            self,
            "OnSchedule",
            description="Starts an ETL run for whatever has landed",
            schedule=events.Schedule.expression(settings.schedule),
            targets=[start_run],
        )

        for name, metric, description in (
            ("RunsFailedAlarm", self.state_machine.metric_failed(), "an ETL run failed"),
            ("RunsTimedOutAlarm", self.state_machine.metric_timed_out(), "an ETL run timed out"),
            ("RunsAbortedAlarm", self.state_machine.metric_aborted(), "an ETL run was aborted"),
        ):
            alarms.alarm_on(self, name, metric=metric, description=description)

    def _logical_id(self, construct: Construct) -> str:
        return Stack.of(self).get_logical_id(construct.node.default_child)

    def _allow_objects(self, function: PythonFunction, actions: list[str], *prefixes: str) -> None:
        Validations.of(function).acknowledge(
            *(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Resource::"
                    f"<{self._logical_id(self.bucket)}.Arn>/{prefix}*]",
                    reason=f"The objects under {prefix} are named at run time (by the source "
                    "systems, by run ids, by Iceberg's file names): one prefix per purpose.",
                )
                for prefix in prefixes
            )
        )
        function.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[self.bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
            )
        )

    def _state_machine(
        self, config: AppConfig, settings: EtlConfig, run_timeout: Duration
    ) -> sfn.StateMachine:
        start = sfn.Pass.jsonata(
            self,
            "StartRun",
            state_name="Start run",
            comment="The run's id (the execution's name) names its staging and quarantine; a "
            "run started by a landed file reads that file, a scheduled run the whole landing "
            "prefix (what earlier runs left)",
            assign={
                "runId": "{% $states.context.Execution.Name %}",
                "prefix": "{% $exists($states.input.detail.object.key) "
                f"? $states.input.detail.object.key : '{LANDING_PREFIX}' %}}",
            },
        )
        transform_file = tasks.LambdaInvoke.jsonata(
            self,
            "TransformFile",
            state_name="Transform file",
            lambda_function=self.transform.function,
            # The item as the Map's ItemSelector built it: a child execution of a Distributed Map
            # cannot read its parent's variables, so the run id travels in each item.
            payload=sfn.TaskInput.from_object(
                {"run_id": "{% $states.input.run_id %}", "key": "{% $states.input.key %}"}
            ),
            outputs="{% $states.result.Payload %}",
            retry_on_service_exceptions=False,
        )
        transform_file.add_retry(
            errors=[*TRANSIENT_LAMBDA_ERRORS, SOURCE_UNAVAILABLE],
            interval=Duration.seconds(2),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        transform_each = sfn.DistributedMap.jsonata(
            self,
            "TransformEachFile",
            state_name="Transform each landed file",
            comment="Extract: every object under the landing prefix, one child execution each",
            item_reader=sfn.S3ObjectsItemReader(bucket=self.bucket, prefix="{% $prefix %}"),
            item_selector={
                "run_id": "{% $runId %}",
                "key": "{% $states.context.Map.Item.Value.Key %}",
            },
            max_concurrency=settings.max_concurrency,
            map_execution_type=sfn.StateMachineType.STANDARD,
            assign={"files": "{% $states.result %}"},
        )
        transform_each.item_processor(transform_file)
        load = tasks.LambdaInvoke.jsonata(
            self,
            "LoadRun",
            state_name="Load into the table",
            lambda_function=self.load.function,
            payload=sfn.TaskInput.from_object({"run_id": "{% $runId %}", "files": "{% $files %}"}),
            outputs="{% $states.result.Payload %}",
            retry_on_service_exceptions=False,
        )
        load.add_retry(
            errors=[*TRANSIENT_LAMBDA_ERRORS, SOURCE_UNAVAILABLE, COMMIT_CONFLICT],
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        failed = sfn.Fail.jsonata(
            self,
            "RunFailed",
            state_name="Run failed",
            # The caught error and its cause, under the run's own error name (a Fail state
            # may not raise the `States.` errors it catches).
            error="EtlRunFailed",
            cause="{% $states.input.Error & ': ' & $states.input.Cause %}",
        )
        transform_each.add_catch(failed, errors=["States.ALL"])
        load.add_catch(failed, errors=["States.ALL"])
        log_group = StageLogGroup(self, "RunLogs", config=config)
        return sfn.StateMachine(
            self,
            "Runs",
            comment="ETL run: transform each landed file (Distributed Map), then load the table",
            query_language=sfn.QueryLanguage.JSONATA,
            definition_body=sfn.DefinitionBody.from_chainable(
                start.next(transform_each).next(load)
            ),
            timeout=run_timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            removal_policy=config.removal_policy,
        )
