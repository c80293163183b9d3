"""SQS: queues feeding functions with Lambda's rules, and messages sent to a queue by ARN.

moto holds the queues and their messages. This service polls every SQS event source mapping as
Lambda's pollers do: filter criteria (a message no filter lets through is deleted), batch size
and batching window, partial batch responses (`ReportBatchItemFailures`), the queue's
visibility timeout for a failed message (scaled by the clock) and so its redrive to a DLQ. The
engine's dispatcher hands it messages for `arn:aws:sqs:...` (async destinations, rule targets,
S3 notifications). Its hooks keep moto's send and receive linear in a queue's length, and
add the message move tasks moto lacks (`move_tasks`: DLQ redrive).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends

from localcloud.core.cloudformation import CREATE_FROM_TEMPLATE
from localcloud.core.engine import active_engine_or_none
from localcloud.core.event_sources import Subscription
from localcloud.core.hooks import Hook
from localcloud.core.service import DeliveryError, Message, Service
from localcloud.rules import lambda_delivery
from localcloud.rules.filter_criteria import filter_patterns, record_passes
from localcloud.services.sqs import index, move_tasks


@dataclass
class _PendingBatch:
    """Messages an SQS event source has received and holds until its batch is due."""

    messages: list[Any] = field(default_factory=list)
    first_received: float = 0.0


class Queues(Service):
    """SQS event sources and deliveries to queues (see the module docstring)."""

    NAME = "sqs"
    DELIVERS = ("sqs",)
    SOURCES = ("sqs",)

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._pending: dict[str, _PendingBatch] = {}

    def deliver(self, arn: str, message: Message) -> None:
        _, _, _, region, account, name = arn.split(":", 5)
        backend = sqs_backends[account][region]
        queue = backend.queues.get(name)
        if queue is None:
            raise DeliveryError("NO_RESOURCE", f"Queue not found: {arn}")
        if queue.fifo_queue:
            if not message.group_id:
                raise DeliveryError("INVALID_PARAMETER", "A FIFO queue needs a MessageGroupId")
            if str(queue.content_based_deduplication).lower() != "true":
                raise DeliveryError(
                    "INVALID_PARAMETER",
                    "A FIFO queue target must have content-based deduplication enabled",
                )
        backend.send_message(
            name,
            message.body,
            message_attributes=message.attributes,
            group_id=message.group_id if queue.fifo_queue else None,
        )

    def pump(self, *, fast_forward: bool) -> int:
        """Message move tasks (DLQ redrives) move what they may now (`move_tasks`)."""
        backend = sqs_backends[self.engine.account_id][self.engine.region]
        return move_tasks.run_due(backend, fast_forward=fast_forward)

    def poll(self, subscription: Subscription, *, fast_forward: bool) -> int:
        """One round of Lambda's SQS poller for one subscription (see the module docstring)."""
        mapping = subscription.settings
        queue_name = subscription.source_arn.rsplit(":", 1)[1]
        backend = sqs_backends[subscription.account_id][subscription.region]
        try:
            queue = backend.get_queue(queue_name)
        except Exception:
            return 0  # the queue was deleted: Lambda keeps the mapping, with nothing to read
        batch_size = int(mapping.batch_size or 10)
        window = float(mapping.max_batch_window or 0)
        pending = self._pending.setdefault(subscription.key, _PendingBatch())
        if fast_forward and not pending.messages and not index.has_visible_messages(queue):
            # Settling takes every wait as over: messages back from a failed batch (still in
            # their visibility timeout) and delayed messages are receivable now, once the
            # visible ones are taken (checked first: this walks the whole queue).
            for message in queue._messages:
                message.visible_at = 0
                message.delayed_until = 0
        wanted = batch_size - len(pending.messages)
        while wanted > 0:
            received = backend.receive_message(
                queue_name,
                wanted,
                wait_seconds_timeout=0,
                visibility_timeout=int(queue.visibility_timeout),
                message_attribute_names=["All"],
            )
            # Filters apply to each message as it is received, before it joins the batch.
            passed = self._filter(subscription, queue, received)
            if passed and not pending.messages:
                pending.first_received = self.engine.clock.monotonic()
            pending.messages.extend(passed)
            if len(passed) == len(received):
                break  # nothing was filtered out, so nothing more is waiting to fill the batch
            wanted = batch_size - len(pending.messages)
        if not pending.messages:
            return 0
        full = len(pending.messages) >= batch_size
        window_over = (
            self.engine.clock.monotonic() - pending.first_received
            >= window * self.engine.clock.time_scale
        )
        if not (fast_forward or full or window_over):
            return 0
        messages, self._pending[subscription.key] = pending.messages, _PendingBatch()
        self._deliver_batch(subscription, queue, messages, fast_forward)
        return 1

    def _filter(self, subscription: Subscription, queue: Any, messages: list) -> list:
        """The messages the FilterCriteria let through; Lambda deletes the others."""
        patterns = filter_patterns(subscription.settings.filter_criteria, "sqs")
        if not patterns:
            return messages
        backend = sqs_backends[subscription.account_id][subscription.region]
        passed = []
        for message in messages:
            record = lambda_delivery.sqs_record(
                message, subscription.source_arn, subscription.region
            )
            if record_passes(patterns, record, "sqs"):
                passed.append(message)
            else:
                backend.delete_message(queue.name, message.receipt_handle)
        return passed

    def _deliver_batch(
        self, subscription: Subscription, queue: Any, messages: list, fast: bool
    ) -> None:
        mapping = subscription.settings
        settings = lambda_delivery.SqsSourceSettings(
            batch_size=int(mapping.batch_size or 10),
            batching_window_seconds=float(mapping.max_batch_window or 0),
            reports_batch_item_failures="ReportBatchItemFailures"
            in (mapping.function_response_types or []),
        )
        event = {
            "Records": [
                lambda_delivery.sqs_record(message, subscription.source_arn, subscription.region)
                for message in messages
            ]
        }
        invocation = subscription.consume(event, f"SQS {queue.name}")
        failed = lambda_delivery.failed_message_ids(invocation, settings, {m.id for m in messages})
        backend = sqs_backends[subscription.account_id][subscription.region]
        index.delete_received(
            queue, [message.receipt_handle for message in messages if message.id not in failed]
        )
        for message in messages:
            if message.id in failed and (fast or self.engine.clock.time_scale != 1):
                # The message returns when its visibility timeout ends: now, when settling,
                # or after the scaled timeout.
                timeout = (
                    0
                    if fast
                    else round(int(queue.visibility_timeout) * self.engine.clock.time_scale)
                )
                with contextlib.suppress(Exception):
                    backend.change_message_visibility(queue.name, message.receipt_handle, timeout)


# -- moto hooks ---------------------------------------------------------------------------


def _time_on_engine_clock(original):
    # Visibility timeouts, delays and retention are compared with this: on the engine's clock,
    # a test that advances the clock sees a visibility timeout end without waiting for it.
    def unix_time(dt=None):
        engine = active_engine_or_none()
        return original(dt) if dt is not None or engine is None else engine.clock.time()

    return unix_time


def _millis_on_engine_clock(original):
    def unix_time_millis(dt=None):
        engine = active_engine_or_none()
        return original(dt) if dt is not None or engine is None else engine.clock.time_millis()

    return unix_time_millis


def _retention_checked_directly(original):
    # moto rebuilds every queue attribute (each a scan of the whole queue) to read the
    # retention period of each message it receives; reading it directly keeps a receive
    # linear in the queue's length instead of quadratic.
    def is_message_valid_based_on_retention_period(self, queue_name, message):
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return retain_until > sqs_models.unix_time()

    return is_message_valid_based_on_retention_period


_sending = threading.local()


def _send_marks_its_queue(original):
    def send_message(self, queue_name, *args, **kwargs):
        _sending.queue = self.get_queue(queue_name)
        try:
            return original(self, queue_name, *args, **kwargs)
        finally:
            _sending.queue = None

    return send_message


def _attributes_cheap_while_sending(original):
    # Sending a message reads one queue attribute, ContentBasedDeduplication, but moto builds
    # them all, counting the whole queue three times; while a message is being sent to a
    # queue, that queue answers the one attribute directly.
    def attributes(self):
        if getattr(_sending, "queue", None) is self:
            if not self.fifo_queue:
                return {}
            value = self.content_based_deduplication
            return {
                "ContentBasedDeduplication": str(value).lower()
                if isinstance(value, bool)
                else value
            }
        return original.fget(self)

    return property(attributes)


def _fifo_queue_named_as_fifo(original):
    # CloudFormation names a FIFO queue without a QueueName `<generated>.fifo`, as SQS requires;
    # moto's generated name lacks the suffix, and SQS then refuses the queue.
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, *args, **kwargs):
        properties = cloudformation_json.get("Properties") or {}
        fifo = str(properties.get("FifoQueue", "false")).lower() == "true"
        if fifo and "QueueName" not in properties:
            resource_name = f"{str(resource_name)[:75]}.fifo"
        return original(resource_name, cloudformation_json, *args, **kwargs)

    return classmethod(create_from_cloudformation_json)


Queues.HOOKS = (
    *index.HOOKS,
    *move_tasks.HOOKS,
    Hook(
        sqs_models,
        "unix_time",
        _time_on_engine_clock,
        why="SQS's timeouts and delays pass on the engine's clock",
        parameters=("dt",),
    ),
    Hook(
        sqs_models,
        "unix_time_millis",
        _millis_on_engine_clock,
        why="SQS's timestamps and visibility pass on the engine's clock",
        parameters=("dt",),
    ),
    Hook(
        sqs_models.SQSBackend,
        "send_message",
        _send_marks_its_queue,
        why="Marks the queue being sent to, for its cheap attributes",
        parameters=(
            "self",
            "queue_name",
            "message_body",
            "message_attributes",
            "delay_seconds",
            "deduplication_id",
            "group_id",
            "system_attributes",
            "validate_group_id",
        ),
    ),
    Hook(
        sqs_models.Queue,
        "attributes",
        _attributes_cheap_while_sending,
        why="A send reads one attribute; moto builds all, scanning the queue",
        parameters=("self",),
    ),
    Hook(
        sqs_models.SQSBackend,
        "is_message_valid_based_on_retention_period",
        _retention_checked_directly,
        why="A receive reads retention directly, not every attribute",
        parameters=("self", "queue_name", "message"),
        replaces=True,
    ),
    Hook(
        sqs_models.Queue,
        "create_from_cloudformation_json",
        _fifo_queue_named_as_fifo,
        why="An unnamed FIFO queue's generated name ends in .fifo",
        parameters=CREATE_FROM_TEMPLATE,
    ),
)
