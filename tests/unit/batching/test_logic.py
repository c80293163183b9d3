"""Unit tests of the batching logic: chunking, item checks, bulk writes with backoff."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from decimal import Decimal

import pytest
from shared.batches import Backoff

from batching import logic
from batching.contract import FailureKind
from batching.errors import InvalidProduceRequestError, ItemNotWrittenError
from batching.models import Item, OutgoingMessage, SendFailure
from tests.samples import load_event

NO_JITTER = random.Random(7)  # noqa: S311 - repeatable jitter, not security


def _item(n: int, tenant: str = "acme") -> Item:
    return Item(
        item_id=f"item-{n:04d}",
        tenant_id=tenant,
        metric="api_calls",
        quantity=Decimal(n),
        recorded_at="2026-12-01T09:00:00Z",
    )


class FakeTable:
    """A BatchWriteItem stand-in: leaves the listed numbers of items unprocessed, call by call."""

    def __init__(self, unprocessed_per_call: Sequence[int] = ()) -> None:
        self.unprocessed_per_call = list(unprocessed_per_call)
        self.calls: list[list[str]] = []
        self.stored: dict[str, Item] = {}

    def batch_write(self, items: Sequence[Item]) -> list[Item]:
        assert len(items) <= logic.MAX_ITEMS_PER_BATCH_WRITE
        self.calls.append([item.item_id for item in items])
        left = self.unprocessed_per_call.pop(0) if self.unprocessed_per_call else 0
        written, unprocessed = items[: len(items) - left], list(items[len(items) - left :])
        self.stored.update({item.item_id: item for item in written})
        return unprocessed


def test_sixty_items_take_three_calls_of_at_most_twenty_five():
    table = FakeTable()

    report = logic.write_all([_item(n) for n in range(60)], table.batch_write, sleep=lambda _: None)

    assert [len(call) for call in table.calls] == [25, 25, 10]
    assert report.written == 60
    assert report.calls == 3
    assert report.retries == 0
    assert report.unwritten == {}
    assert len(table.stored) == 60


def test_unprocessed_items_are_sent_again_after_a_growing_jittered_wait():
    # GIVEN a table that leaves 10 of 25 items unprocessed, then 4 of those 10
    table = FakeTable(unprocessed_per_call=[10, 4, 0])
    waits: list[float] = []
    backoff = Backoff(max_attempts=5, base_seconds=1.0, cap_seconds=10.0)

    report = logic.write_all(
        [_item(n) for n in range(25)],
        table.batch_write,
        sleep=waits.append,
        backoff=backoff,
        rng=random.Random(3),  # noqa: S311 - repeatable jitter, not security,
    )

    # THEN only the unprocessed ones are sent again, after waits under 1 s then 2 s
    assert [len(call) for call in table.calls] == [25, 10, 4]
    assert len(waits) == 2
    assert waits[0] <= 1.0
    assert waits[1] <= 2.0
    assert report.written == 25
    assert report.retries == 2
    assert report.unwritten == {}


def test_items_still_unprocessed_after_the_last_attempt_are_reported_with_the_reason():
    table = FakeTable(unprocessed_per_call=[3, 3, 3])

    report = logic.write_all(
        [_item(n) for n in range(5)],
        table.batch_write,
        sleep=lambda _: None,
        backoff=Backoff(max_attempts=3),
    )

    assert report.written == 2
    assert sorted(sk for _, sk in report.unwritten) == [
        "ITEM#item-0002",
        "ITEM#item-0003",
        "ITEM#item-0004",
    ]
    assert set(report.unwritten.values()) == {
        "BatchWriteItem left the item unprocessed after 3 attempt(s) "
        "(the table is throttling writes)"
    }


def test_retrying_stops_when_the_invocation_needs_its_remaining_time():
    table = FakeTable(unprocessed_per_call=[5, 5, 5, 5])

    report = logic.write_all(
        [_item(n) for n in range(10)],
        table.batch_write,
        sleep=lambda _: None,
        may_retry=lambda: False,
    )

    assert len(table.calls) == 1
    assert report.written == 5
    assert len(report.unwritten) == 5


def test_a_call_dynamodb_refuses_fails_its_items_and_not_the_others():
    calls = []

    def batch_write(items):
        calls.append(len(items))
        if len(calls) == 2:
            raise ItemNotWrittenError("BatchWriteItem failed: ValidationException: item too large")
        return []

    report = logic.write_all([_item(n) for n in range(30)], batch_write, sleep=lambda _: None)

    assert calls == [25, 5]
    assert report.written == 25
    assert set(report.unwritten.values()) == {
        "BatchWriteItem failed: ValidationException: item too large"
    }
    assert len(report.unwritten) == 5


def test_the_same_item_twice_in_a_batch_is_written_once():
    body = _item(1).model_dump_json()
    received = [
        logic.parse_record("m1", body, 1),
        logic.parse_record("m2", body, 1),
        logic.parse_record("m3", _item(2).model_dump_json(), 1),
    ]

    assert [item.item_id for item in logic.items_to_write(received)] == ["item-0001", "item-0002"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("usage: acme api_calls 12", "Invalid JSON"),
        (
            '{"item_id": "x", "tenant_id": "acme", "metric": "m", "quantity": -1, '
            '"recorded_at": "2026-12-01T09:00:00Z"}',
            "quantity: Input should be greater than or equal to 0",
        ),
        (
            '{"item_id": "x", "tenant_id": "acme corp", "metric": "m", "quantity": 1, '
            '"recorded_at": "2026-12-01T09:00:00Z"}',
            "tenant_id: String should match pattern",
        ),
        (
            '{"item_id": "x", "tenant_id": "acme", "metric": "m", "quantity": 1, '
            '"recorded_at": "2026-12-01T09:00:00"}',
            "recorded_at: Input should have timezone info",
        ),
    ],
    ids=["not JSON", "negative quantity", "tenant with a space", "naive timestamp"],
)
def test_an_invalid_body_fails_validation_with_its_reason(body, reason):
    record = logic.parse_record("m1", body, 1)
    [failure] = logic.item_failures([record], logic.WriteReport())

    assert record.item is None
    assert failure.kind is FailureKind.VALIDATION
    assert failure.reason.startswith("not a valid item: ")
    assert reason in failure.reason


def test_every_record_of_an_unwritten_item_fails_and_the_written_ones_do_not():
    body = _item(1).model_dump_json()
    received = [
        logic.parse_record("m1", body, 1),
        logic.parse_record("m2", body, 2),
        logic.parse_record("m3", _item(2).model_dump_json(), 1),
    ]
    report = logic.WriteReport(
        written=1, unwritten={("TENANT#acme", "ITEM#item-0001"): "throttled"}
    )

    failures = logic.item_failures(received, report)

    assert [(f.message_id, f.kind, f.reason) for f in failures] == [
        ("m1", FailureKind.PERSISTENCE, "throttled"),
        ("m2", FailureKind.PERSISTENCE, "throttled"),
    ]


def test_a_failure_on_its_last_receive_is_dead_lettered_now_and_the_others_retried():
    received = [logic.parse_record(f"m{count}", "not json", count) for count in (1, 4, 5, 6)]
    failures = logic.item_failures(received, logic.WriteReport())

    now, later = logic.on_last_receive(failures, received, max_receive_count=5)

    assert [f.message_id for f in now] == ["m5", "m6"]
    assert [f.message_id for f in later] == ["m1", "m4"]


def test_a_stored_item_holds_nothing_that_differs_between_deliveries():
    assert _item(3).to_attributes() == {
        "pk": "TENANT#acme",
        "sk": "ITEM#item-0003",
        "item_id": "item-0003",
        "tenant_id": "acme",
        "metric": "api_calls",
        "quantity": Decimal(3),
        "recorded_at": "2026-12-01T09:00:00+00:00",
    }


# --- producer ----------------------------------------------------------------------------


def test_each_item_is_sent_as_json_with_its_tenant_as_message_group():
    messages = logic.parse_produce_request(load_event("batching", "produce_items.json"))

    assert [(m.entry_id, m.group_id) for m in messages] == [
        ("item-0", "acme"),
        ("item-1", "acme"),
        ("item-2", "globex"),
        ("item-3", "initech"),
    ]
    assert json.loads(messages[2].body)["quantity"] == 40


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "expected a JSON object"),
        ({"items": []}, "items: List should have at least 1 item"),
        ({"items": [{"item_id": "a"}]}, "items[0].tenant_id: Field required"),
        (
            {"items": [{"tenant_id": "two words"}]},
            "items[0].tenant_id: String should match pattern",
        ),
        ({"items": [{"tenant_id": "a"}], "extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_a_request_without_a_tenant_on_every_item_sends_nothing(payload, message):
    with pytest.raises(InvalidProduceRequestError, match=re.escape(message)):
        logic.parse_produce_request(payload)


def test_entries_sqs_failed_on_its_side_are_sent_again_and_sender_faults_are_reported():
    payload = {"items": [{"tenant_id": "acme", "n": n} for n in range(12)]}
    messages = logic.parse_produce_request(payload)
    sent: list[list[str]] = []

    def send_batch(batch: Sequence[OutgoingMessage]) -> list[SendFailure]:
        sent.append([m.entry_id for m in batch])
        if len(sent) == 1:  # the first call: one internal error, one sender fault
            return [
                SendFailure(
                    entry_id="item-3", code="InternalError", message="", sender_fault=False
                ),
                SendFailure(
                    entry_id="item-4",
                    code="InvalidMessageContents",
                    message="bad",
                    sender_fault=True,
                ),
            ]
        return []

    summary = logic.send_all(messages, send_batch, sleep=lambda _: None, rng=NO_JITTER)

    assert sent == [[f"item-{n}" for n in range(10)], ["item-3"], ["item-10", "item-11"]]
    assert summary.enqueued == 11
    assert summary.to_response() == {
        "enqueued_count": 11,
        "failed_count": 1,
        "failed": [{"index": 4, "code": "InvalidMessageContents", "message": "bad"}],
        "send_message_batch_calls": 3,
    }
