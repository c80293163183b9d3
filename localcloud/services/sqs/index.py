"""SQS receive and delete in time that does not grow with the queue's length.

moto answers ReceiveMessage by first building the list of every visible message of the queue
(reading the clock twice per message), and DeleteMessage by asking every message of the queue
for each receipt handle it ever had: with N messages queued, draining them costs N squared.
Here, while a queue receives, its visible messages are produced lazily (the clock read once),
so a receive stops after the messages it takes; and the queue keeps an index from each receipt
handle it gave out to its message, so a delete finds the message directly. What moto answers
is unchanged: an unknown handle still goes to moto's own delete, which refuses it. Receipt
handles are drawn from random bytes at once rather than character by character, and a
received message is copied shallowly (see `_received_copies_shallow`).
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Iterator
from typing import Any

from moto.sqs import models as sqs_models

from localcloud.core.hooks import Hook

_receiving = threading.local()
# The attribute of a moto `Queue` holding its index: receipt handle -> message.
_INDEX = "localcloud_receipt_handles"


class _VisibleMessages:
    """A queue's visible, undelayed messages, produced as they are iterated."""

    def __init__(self, messages: list[Any]) -> None:
        self._messages = messages

    def __iter__(self) -> Iterator[Any]:
        now = sqs_models.unix_time_millis()
        for message in self._messages:
            if now > message.visible_at and not now < message.delayed_until:
                yield message

    def __bool__(self) -> bool:
        # moto's long poll waits until this is true.
        return next(iter(self), None) is not None


def has_visible_messages(queue: Any) -> bool:
    """Whether a receive from `queue` would find a message (stops at the first one)."""
    return bool(_VisibleMessages(queue._messages))


def _counted_with_one_clock_reading(visible: bool | None, delayed: bool | None):
    # GetQueueAttributes counts the queue's messages three ways, and moto reads the clock
    # twice per message for each count; one reading per count gives the same numbers.
    def wrap(original):
        def count(self):
            now = sqs_models.unix_time_millis()
            return sum(
                1
                for message in self._messages
                if (visible is None or (now > message.visible_at) == visible)
                and (delayed is None or (now < message.delayed_until) == delayed)
            )

        return property(count)

    return wrap


def _receive_marks_its_queue(original):
    def receive_message(self, queue_name, *args, **kwargs):
        _receiving.queue = self.get_queue(queue_name)
        try:
            return original(self, queue_name, *args, **kwargs)
        finally:
            _receiving.queue = None

    return receive_message


def _messages_lazy_while_receiving(original):
    def messages(self):
        if getattr(_receiving, "queue", None) is self:
            return _VisibleMessages(self._messages)
        return original.fget(self)

    return property(messages)


def _receipt_handles_indexed(original):
    def mark_received(self, visibility_timeout=None):
        original(self, visibility_timeout)
        queue = getattr(_receiving, "queue", None)
        if queue is not None:
            queue.__dict__.setdefault(_INDEX, {})[self.receipt_handle] = self

    return mark_received


def _delete_through_index(original):
    def delete_message(self, receipt_handle):
        index = self.__dict__.get(_INDEX)
        message = index.get(receipt_handle) if index is not None else None
        if message is None or receipt_handle in self.deleted_messages:
            return original(self, receipt_handle)
        if not _removed(self, message):
            # Moved to the dead-letter queue since: moto says whether the handle is valid.
            for handle in message.all_receipt_handles:
                index.pop(handle, None)
            return original(self, receipt_handle)
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        for handle in message.all_receipt_handles:
            index.pop(handle, None)
        return None

    return delete_message


def _removed(queue: Any, message: Any) -> bool:
    """Take `message` out of `queue`'s list in place; False when it is no longer there.

    The list is not copied: a copy per delete costs time in the queue's depth. The oldest
    messages are received (and deleted) first, so `remove` finds them near the front; it runs
    under the lock a send appends with. A receive iterating the list meanwhile may pass over
    one message, which stays queued for the next receive, as SQS allows.
    """
    with queue._messages_lock:
        try:
            queue._messages.remove(message)
        except ValueError:
            return False
    return True


def delete_received(queue: Any, receipt_handles: list[str]) -> None:
    """Delete a delivered batch from `queue`, each message found through the index and taken
    out of the queue's list in place. A handle the index does not know, or whose message has
    left the queue since (to its dead-letter queue), goes to the queue's own delete, which
    decides as moto does."""
    index = queue.__dict__.get(_INDEX) or {}
    received: dict[int, tuple[Any, str]] = {}  # by id(): one entry per message
    elsewhere: list[str] = []
    for handle in receipt_handles:
        message = index.get(handle)
        if message is None or handle in queue.deleted_messages:
            elsewhere.append(handle)
        else:
            received[id(message)] = (message, handle)
    for message, handle in received.values():
        if not _removed(queue, message):
            elsewhere.append(handle)
            continue
        queue.pending_messages.discard(message)
        queue.deleted_messages.update(message.all_receipt_handles)
        for received_handle in message.all_receipt_handles:
            index.pop(received_handle, None)
    for handle in elsewhere:
        queue.delete_message(handle)


def _received_copies_shallow(original):
    # moto hands out a deep copy of each received message so that filtering its attributes
    # leaves the queue's message alone; the filter replaces the copy's attribute dict rather
    # than changing it, so a shallow copy keeps the message as safe, for a fraction of the cost.
    def deepcopy(value, memo=None):
        if isinstance(value, sqs_models.Message) and getattr(_receiving, "queue", None):
            return copy.copy(value)
        return original(value, memo)

    return deepcopy


def _receipt_handle_from_random_bytes(original):
    # moto draws each of a handle's 185 characters with `random.choice`, which costs more than
    # the rest of a receive; a handle of the same kind (long, opaque, unique) from 92 random
    # bytes costs a microsecond.
    def generate_receipt_handle() -> str:
        return secrets.token_hex(92)

    return generate_receipt_handle


HOOKS = (
    Hook(
        sqs_models.SQSBackend,
        "receive_message",
        _receive_marks_its_queue,
        why="Marks the receiving queue, for its lazily listed messages",
        parameters=(
            "self",
            "queue_name",
            "count",
            "wait_seconds_timeout",
            "visibility_timeout",
            "message_attribute_names",
        ),
    ),
    Hook(
        sqs_models.Queue,
        "messages",
        _messages_lazy_while_receiving,
        why="A receive stops after the messages it takes, not listing them all",
        parameters=("self",),
    ),
    Hook(
        sqs_models.Message,
        "mark_received",
        _receipt_handles_indexed,
        why="Each receipt handle is indexed, so a delete finds its message",
        parameters=("self", "visibility_timeout"),
    ),
    Hook(
        sqs_models.Queue,
        "delete_message",
        _delete_through_index,
        why="A delete finds its message by handle, not by asking every message",
        parameters=("self", "receipt_handle"),
    ),
    Hook(
        sqs_models,
        "generate_receipt_handle",
        _receipt_handle_from_random_bytes,
        why="A receipt handle from random bytes at once, not char by char",
        parameters=(),
        replaces=True,
    ),
    Hook(
        sqs_models,
        "deepcopy",
        _received_copies_shallow,
        why="A received message is copied shallowly, not deeply",
        parameters=("x", "memo", "_nil"),
    ),
    Hook(
        sqs_models.Queue,
        "approximate_number_of_messages",
        _counted_with_one_clock_reading(visible=True, delayed=False),
        why="Counting visible messages reads the clock once, not per message",
        parameters=("self",),
    ),
    Hook(
        sqs_models.Queue,
        "approximate_number_of_messages_not_visible",
        _counted_with_one_clock_reading(visible=False, delayed=None),
        why="Counting in-flight messages reads the clock once, not per message",
        parameters=("self",),
    ),
    Hook(
        sqs_models.Queue,
        "approximate_number_of_messages_delayed",
        _counted_with_one_clock_reading(visible=None, delayed=True),
        why="Counting delayed messages reads the clock once, not per message",
        parameters=("self",),
    ),
)
