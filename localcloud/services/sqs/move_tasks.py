"""SQS message move tasks (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask).

moto 5.2.5 answers these "not implemented"; a DLQ redrive needs them. A task moves the
messages its source (a dead-letter queue) holds when it starts to its destination: the
`DestinationArn` given, else the queue whose redrive policy names the source. Each moved
message keeps its body, message attributes and message group, and starts over in the
destination (new message id, receive count 0), as on AWS. Tasks run in the SQS service's
delivery rounds: all at once when settling, else at most `MaxNumberOfMessagesPerSecond` per
second of the engine's (scaled) clock. The tasks live on moto's SQS backend, one list per
account and region, newest first.

Unlike AWS, a task without `DestinationArn` whose source is the DLQ of several queues fails
(AWS follows each message's `DeadLetterQueueSourceArn`, which moto does not record): name the
destination.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.sqs import responses as sqs_responses
from moto.sqs.exceptions import InvalidParameterValue, SQSException

from localcloud.core.engine import active_engine_or_none
from localcloud.core.hooks import Hook

# The attribute of a moto `SQSBackend` holding its move tasks.
_TASKS = "localcloud_message_move_tasks"
#: SQS's limit on MaxNumberOfMessagesPerSecond.
MAX_MESSAGES_PER_SECOND = 500


class ResourceNotFound(SQSException):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class UnsupportedOperation(SQSException):
    def __init__(self, message: str) -> None:
        super().__init__("UnsupportedOperation", message)


@dataclass
class MoveTask:
    """One move task and its progress."""

    handle: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    started_ms: int
    #: Ids of the messages the source held when the task started: what it moves.
    to_move: set[str] = field(default_factory=set)
    moved: int = 0
    status: str = "RUNNING"
    failure_reason: str | None = None
    #: The engine's monotonic time of the last round that moved messages (for the rate).
    last_round: float | None = None

    def entry(self) -> dict[str, Any]:
        """The task as ListMessageMoveTasks describes it."""
        entry: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": len(self.to_move) + self.moved,
            "StartedTimestamp": self.started_ms,
        }
        if self.status == "RUNNING":
            entry["TaskHandle"] = self.handle
        if self.destination_arn:
            entry["DestinationArn"] = self.destination_arn
        if self.max_per_second is not None:
            entry["MaxNumberOfMessagesPerSecond"] = self.max_per_second
        if self.failure_reason:
            entry["FailureReason"] = self.failure_reason
        return entry


def tasks_of(backend: Any) -> list[MoveTask]:
    """The backend's move tasks, newest first."""
    return backend.__dict__.setdefault(_TASKS, [])


def _queue_by_arn(backend: Any, arn: str) -> Any:
    name = arn.rsplit(":", 1)[-1]
    queue = backend.queues.get(name)
    if queue is None or queue.queue_arn != arn:
        raise ResourceNotFound(
            f"The resource that you specified for the SourceArn parameter doesn't exist: {arn}"
        )
    return queue


def _sources_of(backend: Any, dead_letter_arn: str) -> list[Any]:
    """The queues whose redrive policy sends their failures to `dead_letter_arn`."""
    return [
        queue
        for queue in list(backend.queues.values())
        if queue.redrive_policy
        and queue.redrive_policy.get("deadLetterTargetArn") == dead_letter_arn
    ]


def start(
    backend: Any, source_arn: str, destination_arn: str | None, max_per_second: int | None
) -> MoveTask:
    """Start a task, after SQS's checks: the source exists and is some queue's DLQ, the
    destination exists, the rate is 1..500, and no task of this source is running."""
    source = _queue_by_arn(backend, source_arn)
    if not _sources_of(backend, source_arn):
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    if destination_arn:
        _queue_by_arn(backend, destination_arn)
    if max_per_second is not None and not 1 <= max_per_second <= MAX_MESSAGES_PER_SECOND:
        raise InvalidParameterValue(
            f"Value {max_per_second} for parameter MaxNumberOfMessagesPerSecond is invalid. "
            f"Reason: must be between 1 and {MAX_MESSAGES_PER_SECOND}."
        )
    tasks = tasks_of(backend)
    if any(task.source_arn == source_arn and task.status == "RUNNING" for task in tasks):
        raise UnsupportedOperation(
            "There is already a task running. Only one active task is allowed for a source "
            "queue arn at a given time."
        )
    token = json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn})
    task = MoveTask(
        handle=base64.b64encode(token.encode()).decode(),
        source_arn=source_arn,
        destination_arn=destination_arn or None,
        max_per_second=max_per_second,
        started_ms=int(_now() * 1000),
        to_move={message.id for message in list(source._messages)},
    )
    tasks.insert(0, task)
    return task


def cancel(backend: Any, handle: str) -> MoveTask:
    for task in tasks_of(backend):
        if task.handle == handle and task.status == "RUNNING":
            task.status = "CANCELLED"
            return task
    raise ResourceNotFound("Task does not exist.")


def run_due(backend: Any, *, fast_forward: bool) -> int:
    """Move what every running task may move now; returns the messages moved."""
    moved = 0
    # A copy: under `localcloud up`, an API thread may start a task during this round.
    for task in list(tasks_of(backend)):
        if task.status == "RUNNING":
            moved += _run(backend, task, fast_forward=fast_forward)
    return moved


def _run(backend: Any, task: MoveTask, *, fast_forward: bool) -> int:
    try:
        source = _queue_by_arn(backend, task.source_arn)
        destination = _destination(backend, task)
    except SQSException as error:
        task.status, task.failure_reason = "FAILED", error.message
        return 0
    budget = _budget(task, fast_forward=fast_forward)
    if budget == 0:
        return 0
    moving = [m for m in list(source._messages) if m.id in task.to_move][:budget]
    with source._messages_lock:
        source._messages = [m for m in source._messages if m not in moving]
    for message in moving:
        source.pending_messages.discard(message)
        backend.send_message(
            destination.name,
            message.body,
            message_attributes=message.message_attributes or None,
            group_id=message.group_id,
            deduplication_id=message.deduplication_id if destination.fifo_queue else None,
        )
        task.to_move.discard(message.id)
    task.moved += len(moving)
    # Messages the source no longer holds (deleted, expired) are no longer to move.
    task.to_move &= {message.id for message in list(source._messages)}
    if not task.to_move:
        task.status = "COMPLETED"
    return len(moving)


def _destination(backend: Any, task: MoveTask) -> Any:
    if task.destination_arn:
        return _queue_by_arn(backend, task.destination_arn)
    sources = _sources_of(backend, task.source_arn)
    if len(sources) != 1:
        raise InvalidParameterValue(
            f"localcloud moves messages back to their source only when one queue dead-letters "
            f"into {task.source_arn} ({len(sources)} do): give DestinationArn"
        )
    return sources[0]


def _budget(task: MoveTask, *, fast_forward: bool) -> int:
    """How many messages the task may move in this round."""
    everything = len(task.to_move)
    engine = active_engine_or_none()
    if fast_forward or task.max_per_second is None or engine is None:
        return everything
    now = engine.clock.monotonic()
    if task.last_round is None:
        task.last_round = now
        return min(everything, task.max_per_second)
    elapsed = (now - task.last_round) / engine.clock.time_scale
    allowed = int(elapsed * task.max_per_second)
    if allowed:
        task.last_round = now
    return min(everything, allowed)


def _now() -> float:
    engine = active_engine_or_none()
    return engine.clock.time() if engine is not None else time.time()


# -- SQS API operations moto lacks ----------------------------------------------------------


def _start_message_move_task(_missing):
    def start_message_move_task(self):
        rate = self._get_param("MaxNumberOfMessagesPerSecond")
        task = start(
            self.sqs_backend,
            self._get_param("SourceArn"),
            self._get_param("DestinationArn"),
            None if rate is None else int(rate),
        )
        return ActionResult({"TaskHandle": task.handle})

    return start_message_move_task


def _list_message_move_tasks(_missing):
    def list_message_move_tasks(self):
        source_arn = self._get_param("SourceArn")
        _queue_by_arn(self.sqs_backend, source_arn)
        limit = int(self._get_param("MaxResults") or 1)
        if not 1 <= limit <= 10:
            raise InvalidParameterValue("MaxResults must be between 1 and 10.")
        tasks = [t for t in tasks_of(self.sqs_backend) if t.source_arn == source_arn]
        return ActionResult({"Results": [task.entry() for task in tasks[:limit]]})

    return list_message_move_tasks


def _cancel_message_move_task(_missing):
    def cancel_message_move_task(self):
        task = cancel(self.sqs_backend, self._get_param("TaskHandle"))
        return ActionResult({"ApproximateNumberOfMessagesMoved": task.moved})

    return cancel_message_move_task


HOOKS = (
    Hook(
        sqs_responses.SQSResponse,
        "start_message_move_task",
        _start_message_move_task,
        why="StartMessageMoveTask: DLQ redrive, which moto lacks",
        parameters=None,
        adds=True,
    ),
    Hook(
        sqs_responses.SQSResponse,
        "list_message_move_tasks",
        _list_message_move_tasks,
        why="ListMessageMoveTasks: a redrive's progress, which moto lacks",
        parameters=None,
        adds=True,
    ),
    Hook(
        sqs_responses.SQSResponse,
        "cancel_message_move_task",
        _cancel_message_move_task,
        why="CancelMessageMoveTask: stop a redrive, which moto lacks",
        parameters=None,
        adds=True,
    ),
)
