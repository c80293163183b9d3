"""A window's state: readings folded per key, and written once however often it is replayed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stream_processing import logic
from stream_processing.models import (
    Aggregate,
    Alert,
    Reading,
    StoredAggregate,
    Window,
    WindowState,
)

THRESHOLD = Decimal(100)


def _window(**overrides) -> Window:
    fields = {
        "start": "2026-12-09T09:00:00Z",
        "end": "2026-12-09T09:01:00Z",
        "shard_id": "shardId-000000000000",
        "final": True,
        "terminated_early": False,
    }
    return Window(**{**fields, **overrides})


def _fold(*readings: tuple[str, str, str], state: WindowState | None = None) -> WindowState:
    """Fold (key, value, sequence number) readings into `state` (default: a new window)."""
    state = state or WindowState()
    for key, value, sequence_number in readings:
        reading = Reading(key=key, value=Decimal(value))
        state = logic.fold_reading(state, reading, part=logic.part_id("shard-0", sequence_number))
    return state


class MemoryStore:
    """The aggregates table as a dict; `fail_mark_alerted` makes marking an alert fail once."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], StoredAggregate] = {}
        self.fail_mark_alerted = False

    def get(self, key: str, window_start: str) -> StoredAggregate | None:
        return self.items.get((key, window_start))

    def put(self, aggregate: StoredAggregate, *, expected_version: int | None) -> None:
        current = self.items.get((aggregate.key, aggregate.window_start))
        assert (current.version if current else None) == expected_version
        self.items[(aggregate.key, aggregate.window_start)] = aggregate

    def mark_alerted(self, aggregate: StoredAggregate) -> None:
        if self.fail_mark_alerted:
            self.fail_mark_alerted = False
            raise ConnectionError("the table could not be reached")
        key = (aggregate.key, aggregate.window_start)
        self.items[key] = StoredAggregate(**{**vars(self.items[key]), "alerted": True})


def _write(state: WindowState, store: MemoryStore, published: list[Alert], **window):
    return logic.write_window(
        _window(**window), state, store=store, publish=published.append, threshold=THRESHOLD
    )


def test_readings_fold_into_count_sum_min_and_max_per_key():
    state = _fold(("a", "3", "1"), ("b", "10", "2"), ("a", "-1.5", "3"), ("a", "7", "4"))

    assert state.aggregates == {
        "a": Aggregate(
            count=3,
            total=Decimal("8.5"),
            minimum=Decimal("-1.5"),
            maximum=Decimal(7),
            first_sequence_number="shard-0/1",
        ),
        "b": Aggregate.of(Decimal(10), sequence_number="shard-0/2"),
    }


def test_the_state_survives_its_json_round_trip_exactly():
    state = logic.fold_rejected(_fold(("a", "0.1", "1"), ("a", "0.2", "2")))

    again = WindowState.from_json(state.to_json())

    assert again == state
    assert again.aggregates["a"].total == Decimal("0.3")  # a float would give 0.30000000000000004
    assert again.rejected == 1


def test_the_sample_batch_s_state_is_the_sample_final_invocation_s(sample_event):
    final = sample_event("kinesis_window_final.json")

    state = WindowState.from_json(final["state"])

    assert state.aggregates["sensor-2"].total == Decimal("229.25")
    assert WindowState.from_json({}) == WindowState()
    assert WindowState.from_json(None) == WindowState()


def test_a_window_is_written_once_per_key_and_raises_its_alerts():
    store, published = MemoryStore(), []
    state = _fold(("a", "3", "1"), ("hot", "150", "2"), ("hot", "90", "3"))

    written = _write(state, store, published)

    assert (written.written, written.replayed) == (2, 0)
    hot = store.items[("hot", "2026-12-09T09:00:00Z")]
    assert (hot.count, hot.total, hot.minimum, hot.maximum) == (2, 240, 90, 150)
    assert hot.alerted is True
    assert [alert.to_message() for alert in published] == [
        {
            "alert_id": "hot@2026-12-09T09:00:00Z",
            "key": "hot",
            "window": {"start": "2026-12-09T09:00:00Z", "end": "2026-12-09T09:01:00Z"},
            "max": "150",
            "threshold": "100",
            "count": 2,
        }
    ]


def test_a_replayed_window_adds_nothing_and_alerts_no_more():
    store, published = MemoryStore(), []
    state = _fold(("a", "3", "1"), ("hot", "150", "2"))
    _write(state, store, published)
    before = dict(store.items)

    replay = _write(state, store, published)

    assert (replay.written, replay.replayed, replay.alerts) == (0, 2, ())
    assert store.items == before
    assert len(published) == 1


def test_a_window_ended_early_adds_its_second_part_to_the_first():
    # GIVEN Lambda ended the window early (state over 1 MB): the rest of it comes as a new part
    store, published = MemoryStore(), []
    _write(_fold(("a", "3", "1"), ("a", "5", "2")), store, published, terminated_early=True)

    _write(_fold(("a", "120", "9")), store, published)

    a = store.items[("a", "2026-12-09T09:00:00Z")]
    assert (a.count, a.total, a.minimum, a.maximum) == (3, 128, 3, 120)
    assert a.parts == {"shard-0/1", "shard-0/9"}
    assert [alert.count for alert in published] == [3]


def test_an_alert_not_marked_sent_is_published_again_on_the_retry():
    store, published = MemoryStore(), []
    state = _fold(("hot", "150", "1"))
    store.fail_mark_alerted = True
    with pytest.raises(ConnectionError):
        _write(state, store, published)

    retry = _write(state, store, published)

    # At least once: the same alert (same alert_id) twice, the aggregate counted once
    assert [alert.alert_id for alert in published] == ["hot@2026-12-09T09:00:00Z"] * 2
    assert retry.replayed == 1
    assert store.items[("hot", "2026-12-09T09:00:00Z")].count == 1


def test_a_window_below_the_threshold_raises_no_alert():
    stored = logic.merge_part(
        None, key="a", window=_window(), part=Aggregate.of(Decimal("99.99"), sequence_number="s/1")
    )[0]

    assert logic.alert_for(stored, THRESHOLD) is None
    assert logic.alert_for(StoredAggregate(**{**vars(stored), "maximum": THRESHOLD}), THRESHOLD)
