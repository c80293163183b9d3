"""A queue feeding a function: SQS event source, partial batch responses, DLQ and its alarm."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.config import AppConfig
from infra.constructs.alarm_topic import AlarmTopic
from infra.constructs.queue_with_dlq import QueueWithDlq

#: Lambda's own timeout when a function sets none.
_LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3)


class QueueToFunction(QueueWithDlq):
    """An SQS queue (with DLQ) whose messages `function` consumes in batches.

    Defaults:
    - the queue and its DLQ as `QueueWithDlq` makes them (SQS-managed encryption, TLS only,
      DLQ kept 14 days, an alarm when any message is in the DLQ);
    - `max_receive_count` 5: the sixth receive of a message moves it to the DLQ instead;
    - visibility timeout: six times the function's timeout plus `max_batching_window`, as AWS
      advises, so a batch still being processed is not handed to another invocation;
    - `batch_size` 10, `max_batching_window` none (a batch leaves as soon as messages are
      there; set a window to take batches of more than 10);
    - `max_concurrency` none (the function's own concurrency limits the poller);
    - `provisioned_pollers` none: Lambda's on-demand pollers scale with the queue; a
      `(minimum, maximum)` pair reserves that many event pollers
      (`ProvisionedPollerConfig`) for steady low latency and faster scaling, billed by the
      hour whether messages come or not; not with `max_concurrency` (Lambda refuses both);
    - partial batch responses (`ReportBatchItemFailures`) always on: the handler returns
      `{"batchItemFailures": [...]}` (Powertools' `process_partial_response` does) and only
      the failed messages come back;
    - the function may receive and delete messages of this queue only (the event source
      grants it).

    Attributes: `queue`, `dead_letter_queue`, `dlq_alarm`, `function`, `event_source`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        alarms: AlarmTopic,
        function: lambda_.Function,
        batch_size: int = 10,
        max_batching_window: Duration | None = None,
        max_receive_count: int = 5,
        max_concurrency: int | None = None,
        provisioned_pollers: tuple[int, int] | None = None,
    ) -> None:
        timeout = function.timeout or _LAMBDA_DEFAULT_TIMEOUT
        window = max_batching_window.to_seconds() if max_batching_window else 0
        super().__init__(
            scope,
            construct_id,
            config=config,
            alarms=alarms,
            max_receive_count=max_receive_count,
            visibility_timeout=Duration.seconds(6 * timeout.to_seconds() + window),
        )
        self.function = function
        self.event_source = event_sources.SqsEventSource(
            self.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            provisioned_poller_config=None
            if provisioned_pollers is None
            else lambda_.ProvisionedPollerConfig(
                minimum_pollers=provisioned_pollers[0], maximum_pollers=provisioned_pollers[1]
            ),
            report_batch_item_failures=True,
        )
        function.add_event_source(self.event_source)
