"""Pure batching logic: request checks, chunking, item parsing, bulk writes with backoff."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from shared.batches import Backoff, chunks
from shared.validation import describe_validation_error, parse_request

from batching.contract import FailureKind
from batching.errors import InvalidProduceRequestError, ItemNotWrittenError
from batching.models import (
    Item,
    ItemFailure,
    OutgoingMessage,
    ProduceRequest,
    ProduceSummary,
    ReceivedItem,
    SendFailure,
    WriteReport,
)

#: SQS SendMessageBatch takes at most ten entries per call.
MAX_MESSAGES_PER_SEND_BATCH = 10
#: DynamoDB BatchWriteItem takes at most 25 put or delete requests per call.
MAX_ITEMS_PER_BATCH_WRITE = 25


DEFAULT_BACKOFF = Backoff()


# --- producer ----------------------------------------------------------------------------


SendBatch = Callable[[Sequence[OutgoingMessage]], list[SendFailure]]


def parse_produce_request(payload: object) -> list[OutgoingMessage]:
    """The messages for a producer invoke: each item's JSON, grouped by its tenant.

    Raises `InvalidProduceRequestError` before anything is sent when the input is not
    `{"items": [...]}` of 1..1000 objects that each name a valid `tenant_id`.
    """
    request = parse_request(
        ProduceRequest,
        payload,
        error=InvalidProduceRequestError,
        request="produce request",
        shape='{"items": [...]}',
    )
    return [
        OutgoingMessage(
            entry_id=f"item-{index}",
            index=index,
            body=json.dumps(item.model_dump(mode="json"), separators=(",", ":")),
            group_id=item.tenant_id,
        )
        for index, item in enumerate(request.items)
    ]


def send_all(
    messages: Sequence[OutgoingMessage],
    send_batch: SendBatch,
    *,
    sleep: Callable[[float], None],
    backoff: Backoff = DEFAULT_BACKOFF,
    rng: random.Random | Any = random,
) -> ProduceSummary:
    """Send `messages` ten per call; entries SQS failed on its side are sent again with backoff.

    An entry refused for the sender's fault is not retried (it would fail again); entries
    still failed after `backoff.max_attempts` are returned, not raised, so the caller learns
    exactly which items to send again. A call SQS refuses as a whole raises
    `SendBatchRefusedError`.
    """
    by_entry = {message.entry_id: message for message in messages}
    failed: list[dict[str, Any]] = []
    enqueued = calls = 0
    for batch in chunks(messages, MAX_MESSAGES_PER_SEND_BATCH):
        pending = batch
        for attempt in range(backoff.max_attempts):
            if attempt:
                sleep(backoff.delay(attempt - 1, rng))
            failures = send_batch(pending)
            calls += 1
            enqueued += len(pending) - len(failures)
            retryable = [failure for failure in failures if not failure.sender_fault]
            for failure in failures:
                last_try = attempt == backoff.max_attempts - 1
                if failure.sender_fault or last_try:
                    failed.append(
                        {
                            "index": by_entry[failure.entry_id].index,
                            "code": failure.code,
                            "message": failure.message,
                        }
                    )
            pending = [by_entry[failure.entry_id] for failure in retryable]
            if not pending:
                break
    return ProduceSummary(
        enqueued=enqueued, failed=sorted(failed, key=lambda f: f["index"]), send_calls=calls
    )


# --- writer ------------------------------------------------------------------------------


def parse_record(message_id: str, body: str, receive_count: int) -> ReceivedItem:
    """One SQS record's item, or why its body is not one."""
    try:
        item = Item.model_validate_json(body)
    except ValidationError as error:
        return ReceivedItem(
            message_id=message_id,
            body=body,
            receive_count=receive_count,
            invalid_reason=describe_validation_error(error),
        )
    return ReceivedItem(message_id=message_id, body=body, receive_count=receive_count, item=item)


def _key(item: Item) -> tuple[str, str]:
    key = item.key
    return key["pk"], key["sk"]


def items_to_write(received: Sequence[ReceivedItem]) -> list[Item]:
    """The valid items, one per key: BatchWriteItem refuses a call naming one key twice, and
    the same item delivered twice in one batch (a producer's retry) is one write."""
    unique: dict[tuple[str, str], Item] = {}
    for record in received:
        if record.item is not None:
            unique.setdefault(_key(record.item), record.item)
    return list(unique.values())


#: Writes up to 25 items; returns the ones DynamoDB left unprocessed. Raises
#: `ItemNotWrittenError` when DynamoDB refuses the whole call.
BatchWrite = Callable[[Sequence[Item]], list[Item]]


def write_all(
    items: Sequence[Item],
    batch_write: BatchWrite,
    *,
    sleep: Callable[[float], None],
    may_retry: Callable[[], bool] = lambda: True,
    backoff: Backoff = DEFAULT_BACKOFF,
    rng: random.Random | Any = random,
) -> WriteReport:
    """Write `items` 25 per call, retrying each call's UnprocessedItems with `backoff`.

    DynamoDB returns UnprocessedItems when it throttles part of a call; they are sent again
    after a jittered, growing wait, until written, `backoff.max_attempts` is reached or
    `may_retry()` says the function's remaining time is needed to answer. Items left then are
    in the report's `unwritten`, with the reason; SQS retries them.
    """
    written = calls = retries = 0
    unwritten: dict[tuple[str, str], str] = {}
    for batch in chunks(items, MAX_ITEMS_PER_BATCH_WRITE):
        pending = batch
        for attempt in range(backoff.max_attempts):
            if attempt:
                sleep(backoff.delay(attempt - 1, rng))
                retries += 1
            calls += 1
            try:
                left = batch_write(pending)
            except ItemNotWrittenError as error:
                unwritten.update({_key(item): str(error) for item in pending})
                pending = []
                break
            written += len(pending) - len(left)
            pending = left
            if not pending or not may_retry():
                break
        for item in pending:
            unwritten[_key(item)] = (
                f"BatchWriteItem left the item unprocessed after {attempt + 1} attempt(s) "
                "(the table is throttling writes)"
            )
    return WriteReport(written=written, calls=calls, retries=retries, unwritten=unwritten)


def item_failures(received: Sequence[ReceivedItem], report: WriteReport) -> list[ItemFailure]:
    """Every record whose item is not in the table, with its kind and reason."""
    failures = []
    for record in received:
        if record.item is None:
            failures.append(
                ItemFailure(
                    message_id=record.message_id,
                    kind=FailureKind.VALIDATION,
                    reason=f"not a valid item: {record.invalid_reason}",
                )
            )
        elif (reason := report.unwritten.get(_key(record.item))) is not None:
            failures.append(
                ItemFailure(
                    message_id=record.message_id, kind=FailureKind.PERSISTENCE, reason=reason
                )
            )
    return failures


def on_last_receive(
    failures: Sequence[ItemFailure],
    received: Sequence[ReceivedItem],
    max_receive_count: int,
) -> tuple[list[ItemFailure], list[ItemFailure]]:
    """Split failures into (dead-letter now, retry): a record on its `max_receive_count`-th
    receive would go to the DLQ without a reason if it failed again; the writer sends it
    there itself, with the reason."""
    receive_counts = {record.message_id: record.receive_count for record in received}
    last = [f for f in failures if receive_counts[f.message_id] >= max_receive_count]
    retry = [f for f in failures if receive_counts[f.message_id] < max_receive_count]
    return last, retry
