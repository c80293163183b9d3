"""Unit tests of the publisher's pure logic: request validation, batching, the summary."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import pytest

from pub_sub.errors import InvalidPublishRequestError, PublishBatchRefusedError, PublishFailedError
from pub_sub.logic import parse_publish_request, publish_all, publish_entries
from pub_sub.models import BatchOutcome, EntryFailure, OrderEvent, PublishEntry


@pytest.fixture
def many_orders(order_payload: Callable[..., dict[str, Any]]) -> Callable[[int], list[dict]]:
    """`many_orders(n)`: n valid order payloads with distinct event ids."""

    def make(count: int) -> list[dict[str, Any]]:
        return [
            order_payload(event_id=f"00000000-0000-4000-8000-{index:012d}")
            for index in range(count)
        ]

    return make


class FakeTopic:
    """Stands in for the SNS adapter: accepts every entry unless told which ones to fail."""

    def __init__(self, fail: Collection[str] = (), refuse_call: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self._fail = fail
        self._refuse_call = refuse_call

    def publish_batch(self, entries: Sequence[PublishEntry]) -> BatchOutcome:
        self.calls.append([entry.entry_id for entry in entries])
        if len(self.calls) == self._refuse_call:
            raise PublishBatchRefusedError(
                "Access to the KMS key was denied", code="KMSAccessDenied"
            )
        return BatchOutcome(
            message_ids={
                e.entry_id: f"msg-{e.entry_id}" for e in entries if e.entry_id not in self._fail
            },
            failures=[
                EntryFailure(
                    entry_id=e.entry_id,
                    code="InternalError",
                    message="try again",
                    sender_fault=False,
                )
                for e in entries
                if e.entry_id in self._fail
            ],
        )


def test_sample_request_parses_to_its_events(sample_event: Callable[[str], dict[str, Any]]):
    events = parse_publish_request(sample_event("publish_orders.json"))

    assert [event.order_id for event in events] == ["ORD-1001", "ORD-1002", "ORD-0998", "ORD-0999"]


def test_invalid_sample_request_names_the_bad_event_and_field(
    sample_event: Callable[[str], dict[str, Any]],
):
    # GIVEN the sample request whose second event has a negative amount
    request = sample_event("publish_orders_invalid.json")

    # WHEN it is parsed THEN the error names events[1].amount
    with pytest.raises(
        InvalidPublishRequestError, match=r"events\[1\]\.amount: .*greater than or equal to 0"
    ):
        parse_publish_request(request)


@pytest.mark.parametrize(
    ("request_payload", "expected"),
    [
        ([{"event_id": "x"}], r"expected a JSON object .* got list"),
        ({}, r"events: Field required"),
        ({"events": {"order_id": "ORD-1"}}, r"events: Input should be a valid list"),
        ({"events": []}, r"events: List should have at least 1 item"),
        ({"events": [], "extra": 1}, r"extra: Extra inputs are not permitted"),
    ],
)
def test_malformed_requests_are_rejected(request_payload: Any, expected: str):
    with pytest.raises(InvalidPublishRequestError, match=expected):
        parse_publish_request(request_payload)


def test_every_invalid_event_is_named(many_orders: Callable[[int], list[dict]]):
    # GIVEN three events, two of them invalid in different fields
    events = many_orders(3)
    events[0]["currency"] = "euro"
    events[2]["event_type"] = "order_lost"

    # WHEN the request is parsed THEN both are reported, by index and field
    with pytest.raises(InvalidPublishRequestError) as caught:
        parse_publish_request({"events": events})
    assert "events[0].currency" in str(caught.value)
    assert "events[2].event_type" in str(caught.value)
    assert "events[1]" not in str(caught.value)


def test_a_repeated_event_id_is_rejected(many_orders: Callable[[int], list[dict]]):
    events = many_orders(3)
    events[2]["event_id"] = events[0]["event_id"]

    with pytest.raises(
        InvalidPublishRequestError, match=r"events\[2\]\.event_id: .* repeats events\[0\]"
    ):
        parse_publish_request({"events": events})


def test_more_than_a_hundred_events_are_rejected(many_orders: Callable[[int], list[dict]]):
    with pytest.raises(InvalidPublishRequestError, match=r"events: List should have at most 100"):
        parse_publish_request({"events": many_orders(101)})


def test_entries_have_unique_ids_that_map_back_to_the_request(
    many_orders: Callable[[int], list[dict]],
):
    events = parse_publish_request({"events": many_orders(12)})

    entries = publish_entries(events)

    assert [entry.entry_id for entry in entries] == [f"event-{i}" for i in range(12)]
    assert [entry.index for entry in entries] == list(range(12))
    assert [entry.event for entry in entries] == list(events)


def test_publish_all_sends_ten_per_call_and_reports_every_message_id(
    many_orders: Callable[[int], list[dict]],
):
    # GIVEN 25 valid events and a topic that accepts everything
    events = parse_publish_request({"events": many_orders(25)})
    topic = FakeTopic()

    # WHEN they are published
    summary = publish_all(events, topic.publish_batch)

    # THEN three calls of 10, 10 and 5 were made, and every event has its message id
    assert [len(call) for call in topic.calls] == [10, 10, 5]
    response = summary.to_response()
    assert response["published_count"] == 25
    assert response["failed_count"] == 0
    assert response["failed"] == []
    assert response["message_ids"][str(events[24].event_id)] == "msg-event-24"


def test_publish_all_returns_entries_sns_did_not_accept(many_orders: Callable[[int], list[dict]]):
    # GIVEN a topic that fails two entries of the second batch
    events: tuple[OrderEvent, ...] = parse_publish_request({"events": many_orders(15)})
    topic = FakeTopic(fail={"event-11", "event-13"})

    # WHEN the events are published
    response = publish_all(events, topic.publish_batch).to_response()

    # THEN the caller can tell exactly which events are not on the topic, and why
    assert response["published_count"] == 13
    assert response["failed"] == [
        {
            "index": index,
            "event_id": str(events[index].event_id),
            "code": "InternalError",
            "message": "try again",
            "sender_fault": False,
        }
        for index in (11, 13)
    ]
    assert str(events[11].event_id) not in response["message_ids"]


def test_a_refused_call_stops_publishing_and_says_what_was_published(
    many_orders: Callable[[int], list[dict]],
):
    # GIVEN a topic that refuses the second PublishBatch call as a whole
    events = parse_publish_request({"events": many_orders(25)})
    topic = FakeTopic(refuse_call=2)

    # WHEN the events are published
    with pytest.raises(PublishFailedError, match=r"events\[10\.\.19\] \(KMSAccessDenied") as caught:
        publish_all(events, topic.publish_batch)

    # THEN no third call was made, and the error carries what the first call published
    assert len(topic.calls) == 2
    assert "events[10:] were not published, 10 earlier event(s) were" in str(caught.value)
    assert caught.value.summary.to_response()["published_count"] == 10
