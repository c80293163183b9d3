"""Orchestration: one order-fulfilment saga, on Step Functions and on a Lambda durable function."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, Fn, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import AppConfig, OrchestrationConfig
from infra.constructs import (
    AlarmTopic,
    DeadLetterQueue,
    PythonFunction,
    StageLogGroup,
    Table,
    add_http_api_to_function,
)
from orchestration.contract import (
    API_HANDLER,
    API_SERVICE_NAME,
    DURABLE_HANDLER,
    DURABLE_SERVICE_NAME,
    ENV_APPROVAL_THRESHOLD_CENTS,
    ENV_APPROVAL_TIMEOUT_SECONDS,
    ENV_DURABLE_FUNCTION_ARN,
    ENV_MAX_CONCURRENCY,
    ENV_RETRY_BASE_SECONDS,
    ENV_RETRY_MAX_ATTEMPTS,
    ENV_STATE_MACHINE_ARN,
    ENV_TABLE_NAME,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    EVENTS_HANDLER,
    EVENTS_SERVICE_NAME,
    ROUTES,
    STEPS_HANDLER,
    STEPS_SERVICE_NAME,
    FailureReason,
    Step,
)

PATTERN = "orchestration"
#: The first retry's backoff ceiling in both workflows; it doubles on each retry (full jitter).
RETRY_BASE = Duration.seconds(1)
#: How long a saga may run beyond its approval's deadline (the steps themselves take seconds).
EXECUTION_HEADROOM = Duration.hours(1)
#: The errors a participant answers with for a business failure (its exception's class name).
BUSINESS_FAILURES = [reason.value for reason in FailureReason]
#: Compensations must finish: they are retried on any error, longer than forward steps.
COMPENSATION_MAX_ATTEMPTS = 6


class Orchestration(Construct):
    """The order saga twice, over one table and the same participants, side by side.

    - Step Functions: a Standard state machine in JSONata with variables: validate -> reserve
      each line (Map, `max_concurrency`) -> approval over the threshold (`.waitForTaskToken`,
      deadline `approval_timeout_seconds`) -> charge -> ship and notify (Parallel) -> complete;
      a failure is caught and compensated in reverse (refund, release), then the execution
      fails with its reason. Logs (ALL, without execution data) and X-Ray tracing.
    - Lambda durable function: the same saga in code (`functions/orchestration/durable.py`),
      checkpointed steps, a map, durable waits between retries, a callback for the approval.
    - Both retry only transient failures, `retry_max_attempts` attempts with full-jitter
      backoff from 1 s.
    - An HTTP API (`POST /orders`, `GET /orders/{id}`, `POST /orders/{id}/approval`) and an
      `OrderPlaced` rule on its own event bus start sagas, idempotently per order id; the event
      starter's failures go to an on-failure queue.
    - Alarms: executions failed, timed out or throttled (both workflows), any error of a
      function, API 5xx, a message in the on-failure queue.

    Attributes: `table`, `steps`, `state_machine`, `durable`, `api_function`, `api`, `stage`,
    `bus`, `events_function`, `events_dead_letter_queue`, and `url`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        settings: OrchestrationConfig | None = None,
        rate_limit: int = 50,
        burst_limit: int = 100,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = settings or config.orchestration
        approval_timeout = Duration.seconds(settings.approval_timeout_seconds)
        execution_timeout = Duration.seconds(
            settings.approval_timeout_seconds + EXECUTION_HEADROOM.to_seconds()
        )
        self.table = Table(
            self, "Table", config=config, partition_key_name="pk", sort_key_name="sk"
        ).table

        self.steps = PythonFunction(
            self,
            "Steps",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=STEPS_HANDLER,
            description="Runs one saga step for the Step Functions state machine",
            service_name=STEPS_SERVICE_NAME,
            timeout=Duration.seconds(15),
            environment={
                ENV_TABLE_NAME: self.table.table_name,
                ENV_APPROVAL_THRESHOLD_CENTS: str(settings.approval_threshold_cents),
            },
        )
        self.table.grant_read_write_data(self.steps.function)

        self.state_machine_log_group = StageLogGroup(self, "StateMachineLogs", config=config)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            query_language=sfn.QueryLanguage.JSONATA,
            definition_body=sfn.DefinitionBody.from_chainable(
                self._saga_definition(settings, approval_timeout)
            ),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=execution_timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.state_machine_log_group,
                level=sfn.LogLevel.ALL,
                # Orders hold names and addresses: the history keeps them, the logs do not.
                include_execution_data=False,
            ),
            comment="Order fulfilment saga (orchestration pattern, Step Functions)",
        )
        stack = Stack.of(self)
        steps_logical_id = stack.resolve(
            stack.get_logical_id(self.steps.function.node.default_child)
        )
        Validations.of(self.state_machine.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray tracing and the CloudWatch Logs delivery actions Step Functions "
                "needs for execution logs have no resource-level permissions.",
            ),
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{steps_logical_id}.Arn>:*]",
                reason="The state machine invokes the steps function and its versions (`:*`), "
                "that one function only (CDK's LambdaInvoke grant).",
            ),
        )

        self.durable = PythonFunction(
            self,
            "Durable",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=DURABLE_HANDLER,
            description="Order fulfilment saga as a Lambda durable function",
            service_name=DURABLE_SERVICE_NAME,
            memory_size=512,
            # One invocation runs until the next wait or callback; the execution spans them.
            timeout=Duration.minutes(1),
            durable_config=lambda_.DurableConfig(
                execution_timeout=execution_timeout, retention_period=Duration.days(14)
            ),
            environment={
                ENV_TABLE_NAME: self.table.table_name,
                ENV_APPROVAL_THRESHOLD_CENTS: str(settings.approval_threshold_cents),
                ENV_APPROVAL_TIMEOUT_SECONDS: str(settings.approval_timeout_seconds),
                ENV_MAX_CONCURRENCY: str(settings.max_concurrency),
                ENV_RETRY_MAX_ATTEMPTS: str(settings.retry_max_attempts),
                ENV_RETRY_BASE_SECONDS: str(RETRY_BASE.to_seconds()),
            },
        )
        self.table.grant_read_write_data(self.durable.function)
        durable_arn = self.durable.function.function_arn
        # Its own policy, not the role's default one: the function depends on that one, and this
        # one names the function.
        checkpoints = iam.Policy(
            self,
            "DurableCheckpoints",
            roles=[self.durable.role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "lambda:CheckpointDurableExecution",
                        "lambda:GetDurableExecutionState",
                    ],
                    resources=[durable_arn, f"{durable_arn}:*"],
                )
            ],
        )
        self._acknowledge_own_versions(checkpoints, "checkpoint its own executions")
        # A durable execution starts on a qualified ARN.
        durable_latest = Fn.join(":", [durable_arn, "$LATEST"])

        starter_environment = {
            ENV_TABLE_NAME: self.table.table_name,
            ENV_STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
            ENV_DURABLE_FUNCTION_ARN: durable_latest,
        }
        self.api_function = PythonFunction(
            self,
            "Api",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=API_HANDLER,
            description="Orders API: places orders, shows them, takes approvals",
            service_name=API_SERVICE_NAME,
            timeout=Duration.seconds(10),
            environment=starter_environment,
        )
        self.events_function = PythonFunction(
            self,
            "Events",
            config=config,
            alarms=alarms,
            pattern=PATTERN,
            handler=EVENTS_HANDLER,
            description="Places the order of each OrderPlaced event",
            service_name=EVENTS_SERVICE_NAME,
            timeout=Duration.seconds(10),
            environment=starter_environment,
        )
        for starter in (self.api_function, self.events_function):
            self._grant_starting(starter)
        self.state_machine.grant_task_response(self.api_function.function)
        self.api_function.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "lambda:SendDurableExecutionCallbackSuccess",
                    "lambda:SendDurableExecutionCallbackFailure",
                ],
                resources=[durable_arn, f"{durable_arn}:*"],
            )
        )

        self._http_api(config, alarms, rate_limit=rate_limit, burst_limit=burst_limit)
        self._event_start(config, alarms)
        self._alarms(alarms)

    # --- the state machine -------------------------------------------------------------------

    def _invoke(self, state_id: str, payload: dict[str, Any], **props: Any) -> tasks.LambdaInvoke:
        return tasks.LambdaInvoke.jsonata(
            self,
            state_id,
            lambda_function=self.steps.function,
            payload=sfn.TaskInput.from_object(payload),
            **props,
        )

    def _saga_definition(
        self, settings: OrchestrationConfig, approval_timeout: Duration
    ) -> sfn.IChainable:
        order = "{% $order %}"
        order_id = "{% $orderId %}"
        failure = {"failure": "{% $states.errorOutput %}"}

        def retry_transient(state: sfn.TaskStateBase) -> None:
            # A business failure is the participant's answer: never retried (the first retrier
            # that names an error decides). Anything else is: a step's own transient failure,
            # the steps function dying mid-step (Lambda.Unknown), an error it did not expect;
            # every step is safe to run again.
            state.add_retry(errors=BUSINESS_FAILURES, max_attempts=0)
            state.add_retry(
                errors=["States.ALL"],
                interval=RETRY_BASE,
                backoff_rate=2,
                max_attempts=settings.retry_max_attempts - 1,
                jitter_strategy=sfn.JitterType.FULL,
            )

        def retry_any(state: sfn.TaskStateBase) -> None:
            state.add_retry(
                errors=["States.ALL"],
                interval=RETRY_BASE,
                backoff_rate=2,
                max_attempts=COMPENSATION_MAX_ATTEMPTS,
                jitter_strategy=sfn.JitterType.FULL,
            )

        validate = self._invoke(
            "Validate",
            {"step": Step.VALIDATE.value, "order": "{% $states.input %}"},
            assign={
                "order": "{% $states.result.Payload.order %}",
                "orderId": "{% $states.result.Payload.order.order_id %}",
                "needsApproval": "{% $states.result.Payload.needs_approval %}",
            },
            outputs="{% $states.result.Payload %}",
        )

        reserve_line = self._invoke(
            "ReserveLine",
            {
                "step": Step.RESERVE_LINE.value,
                "order_id": "{% $states.input.order_id %}",
                "line_number": "{% $states.input.line_number %}",
                "line": "{% $states.input.line %}",
            },
            outputs="{% $states.result.Payload %}",
        )
        retry_transient(reserve_line)
        # A line's failure is its iteration's answer, not the Map's failure: every line runs to
        # its end, so no reservation is still in flight when the release runs.
        reserve_line.add_catch(
            sfn.Pass.jsonata(
                self,
                "LineNotReserved",
                outputs={
                    "failed": True,
                    "Error": "{% $states.input.Error %}",
                    "Cause": "{% $states.input.Cause %}",
                },
            ),
            errors=["States.ALL"],
        )
        reserve_stock = sfn.Map.jsonata(
            self,
            "ReserveStock",
            items=sfn.ProvideItems.jsonata("{% $order.lines %}"),
            item_selector={
                "order_id": order_id,
                "line_number": "{% $states.context.Map.Item.Index %}",
                "line": "{% $states.context.Map.Item.Value %}",
            },
            max_concurrency=settings.max_concurrency,
            assign={"linesNotReserved": "{% [$states.result[failed]] %}"},
        )
        reserve_stock.item_processor(reserve_line)
        line_not_reserved = sfn.Pass.jsonata(
            self,
            "StockShort",
            assign={"failure": "{% $linesNotReserved[0] %}"},
        )

        request_approval = self._invoke(
            "RequestApproval",
            {
                "step": Step.REQUEST_APPROVAL.value,
                "order_id": order_id,
                "task_token": "{% $states.context.Task.Token %}",
            },
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            task_timeout=sfn.Timeout.duration(approval_timeout),
        )
        charge = self._invoke(
            "ChargePayment",
            {"step": Step.CHARGE_PAYMENT.value, "order": order},
            outputs="{% $states.result.Payload %}",
        )
        retry_transient(charge)
        ship = self._invoke("Ship", {"step": Step.SHIP.value, "order": order})
        notify = self._invoke("Notify", {"step": Step.NOTIFY.value, "order": order})
        for branch in (ship, notify):
            retry_transient(branch)
        ship_and_notify = sfn.Parallel.jsonata(self, "ShipAndNotify")
        ship_and_notify.branch(ship, notify)
        complete = self._invoke(
            "Complete",
            {"step": Step.COMPLETE.value, "order_id": order_id},
            outputs="{% $states.result.Payload %}",
        )

        # Compensations, in reverse order of the steps they undo; each changes only what its
        # step did, so every failure path runs the same chain.
        refund = self._invoke(
            "RefundPayment", {"step": Step.REFUND_PAYMENT.value, "order_id": order_id}
        )
        release = self._invoke("ReleaseStock", {"step": Step.RELEASE_STOCK.value, "order": order})
        record_failure = self._invoke(
            "RecordFailure",
            {
                "step": Step.RECORD_FAILURE.value,
                "order_id": order_id,
                "error": "{% $failure.Error %}",
                "cause": "{% $failure.Cause %}",
            },
            assign={
                "failureReason": "{% $states.result.Payload.reason %}",
                "failureCause": "{% $states.result.Payload.cause %}",
            },
        )
        for compensation in (refund, release, record_failure):
            retry_any(compensation)
        failed = sfn.Fail.jsonata(
            self, "OrderFailed", error="{% $failureReason %}", cause="{% $failureCause %}"
        )
        refund.next(release)
        release.next(record_failure).next(failed)

        reserve_stock.add_catch(release, errors=["States.ALL"], assign=failure)
        request_approval.add_catch(release, errors=["States.ALL"], assign=failure)
        charge.add_catch(refund, errors=["States.ALL"], assign=failure)
        ship_and_notify.add_catch(refund, errors=["States.ALL"], assign=failure)

        line_not_reserved.next(release)
        next_after_reserving = (
            sfn.Choice.jsonata(self, "CheckReservations")
            .when(sfn.Condition.jsonata("{% $count($linesNotReserved) > 0 %}"), line_not_reserved)
            .when(sfn.Condition.jsonata("{% $needsApproval %}"), request_approval)
            .otherwise(charge)
        )
        request_approval.next(charge)
        charge.next(ship_and_notify)
        ship_and_notify.next(complete)
        complete.next(sfn.Succeed.jsonata(self, "OrderCompleted"))
        return validate.next(reserve_stock).next(next_after_reserving)

    # --- starting sagas ------------------------------------------------------------------

    def _grant_starting(self, starter: PythonFunction) -> None:
        self.table.grant_read_write_data(starter.function)
        self.state_machine.grant_start_execution(starter.function)
        self.durable.function.grant_invoke(starter.function)
        self._acknowledge_own_versions(starter.role, "start the durable function's executions")

    def _acknowledge_own_versions(self, scope: Construct, purpose: str) -> None:
        stack = Stack.of(self)
        logical_id = stack.resolve(stack.get_logical_id(self.durable.function.node.default_child))
        Validations.of(scope).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                reason=f"The role may {purpose} on that one function and its versions "
                "(`:*`): a durable execution runs on a qualified ARN.",
            )
        )

    def _http_api(
        self, config: AppConfig, alarms: AlarmTopic, *, rate_limit: int, burst_limit: int
    ) -> None:
        self.http_api = add_http_api_to_function(
            self,
            config=config,
            alarms=alarms,
            function=self.api_function.function,
            routes=ROUTES,
            description="Orders API (orchestration pattern)",
            server_error_alarm_description="The orders API answered with a 5xx",
            public_because="The sample orders API is open so the saga can be tried with curl; "
            "docs/patterns/orchestration.md says to put a JWT authorizer in front (the "
            "approval route above all) before serving real orders.",
            rate_limit=rate_limit,
            burst_limit=burst_limit,
        )
        self.api, self.stage = self.http_api.api, self.http_api.stage
        self.access_log_group = self.http_api.access_log_group

    def _event_start(self, config: AppConfig, alarms: AlarmTopic) -> None:
        self.bus = events.EventBus(self, "Bus", description="Orders placed by other services")
        self.events_dead_letter_queue = DeadLetterQueue(
            self,
            "EventsDeadLetterQueue",
            config=config,
            dead_letters_for="the OrderPlaced rule's target and the event starter's on-failure "
            "destination",
        )
        self.events_dead_letter_queue.alarm_on_depth(
            self,
            "EventsDeadLetterQueueAlarm",
            alarms=alarms,
            description="An OrderPlaced event could not be delivered or placed",
        )
        # Lambda retries a failed placement twice (a throttle, a conflict...), then sends the
        # event with its error here; EventBridge sends here what it could not deliver at all.
        self.events_function.function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.events_dead_letter_queue),
        )
        events.Rule(
            self,
            "OrderPlacedRule",
            event_bus=self.bus,
            description="Starts a saga for each OrderPlaced event",
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE]
            ),
            targets=[
                targets.LambdaFunction(
                    self.events_function.function,
                    dead_letter_queue=self.events_dead_letter_queue,
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                )
            ],
        )

    def _alarms(self, alarms: AlarmTopic) -> None:
        machine = self.state_machine
        for construct_id, metric, what in (
            ("ExecutionsFailedAlarm", machine.metric_failed(), "failed"),
            ("ExecutionsTimedOutAlarm", machine.metric_timed_out(), "timed out"),
            ("ExecutionsThrottledAlarm", machine.metric_throttled(), "were throttled"),
        ):
            alarms.alarm_on(
                self,
                construct_id,
                metric=metric,
                description=f"Order sagas on Step Functions {what}",
            )
        name = self.durable.function.function_name
        for construct_id, metric_name, what in (
            ("DurableExecutionsFailedAlarm", "DurableExecutionFailed", "failed"),
            ("DurableExecutionsTimedOutAlarm", "DurableExecutionTimedOut", "timed out"),
        ):
            alarms.alarm_on(
                self,
                construct_id,
                metric=cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name=metric_name,
                    dimensions_map={"FunctionName": name},
                    statistic="Sum",
                ),
                description=f"Order sagas on the durable function {what}",
            )
        alarms.alarm_on(
            self,
            "DurableThrottlesAlarm",
            metric=self.durable.function.metric_throttles(statistic="Sum"),
            description="Invocations of the durable saga function were throttled",
        )

    @property
    def url(self) -> str:
        """The invoke URL of the `$default` stage."""
        return self.stage.url
