"""Putting readings: 500 per PutRecords call, the entries Kinesis did not take put again."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from stream_processing import logic
from stream_processing.errors import PutRecordsRefusedError
from stream_processing.models import PutOutcome, Reading


def _readings(count: int) -> list[Reading]:
    return [Reading(key=f"sensor-{n % 7}", value=Decimal(n)) for n in range(count)]


class FakeStream:
    """Takes every reading but those `reject` names (by value) for their first `times` puts."""

    def __init__(self, reject: dict[int, int] | None = None) -> None:
        self.reject = dict(reject or {})
        self.calls: list[list[int]] = []
        self.taken: list[int] = []

    def put_records(self, readings: Sequence[Reading]) -> PutOutcome:
        self.calls.append([int(r.value) for r in readings])
        failed = {}
        for index, reading in enumerate(readings):
            value = int(reading.value)
            if self.reject.get(value, 0) > 0:
                self.reject[value] -= 1
                failed[index] = "ProvisionedThroughputExceededException"
            else:
                self.taken.append(value)
        return PutOutcome(failed=failed)


def test_readings_go_500_per_call_in_order():
    stream = FakeStream()
    waits: list[int] = []

    summary = logic.put_all(_readings(1001), stream.put_records, backoff=waits.append)

    assert [len(call) for call in stream.calls] == [500, 500, 1]
    assert stream.taken == list(range(1001))
    assert summary.to_response() == {
        "put_count": 1001,
        "put_records_calls": 3,
        "failed_count": 0,
        "failed": [],
    }
    assert waits == []


def test_entries_kinesis_did_not_take_are_put_again_before_the_next_call():
    # GIVEN a stream that rejects readings 3 and 501 once, and 7 twice
    stream = FakeStream(reject={3: 1, 7: 2, 501: 1})
    waits: list[int] = []

    summary = logic.put_all(_readings(600), stream.put_records, backoff=waits.append)

    # THEN each call's rejects are retried (with a growing backoff) before the next 500 go
    assert stream.calls[1:3] == [[3, 7], [7]]
    assert stream.calls[3][:3] == [500, 501, 502]
    assert stream.calls[4] == [501]
    assert sorted(stream.taken) == list(range(600))
    assert summary.put == 600
    assert summary.calls == 5
    assert waits == [1, 2, 1]


def test_readings_still_rejected_after_the_last_attempt_are_reported_not_raised():
    stream = FakeStream(reject={4: 99})

    summary = logic.put_all(_readings(10), stream.put_records, backoff=lambda _: None)

    assert summary.put == 9
    assert summary.calls == logic.PUT_ATTEMPTS
    assert list(summary.not_put) == [
        {"index": 4, "key": "sensor-4", "code": "ProvisionedThroughputExceededException"}
    ]


def test_a_call_refused_as_a_whole_says_how_many_readings_are_already_on_the_stream():
    calls = 0

    def put_batch(readings: Sequence[Reading]) -> PutOutcome:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise PutRecordsRefusedError("Stream is being deleted", code="ResourceInUseException")
        return PutOutcome()

    with pytest.raises(PutRecordsRefusedError) as raised:
        logic.put_all(_readings(700), put_batch, backoff=lambda _: None)

    assert raised.value.code == "ResourceInUseException"
    assert "readings[500..]" in str(raised.value)
    assert "500 reading(s) before them are on the stream" in str(raised.value)


def test_chunks_refuse_a_size_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        list(logic.chunks([1, 2], 0))
