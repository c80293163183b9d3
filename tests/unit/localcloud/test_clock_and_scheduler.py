"""The core's clock and scheduler: waits scale, a test advances time instead of sleeping, and a
delivery round runs only the work that was due when it began."""

from __future__ import annotations

import pytest

from localcloud.core.clock import Clock
from localcloud.core.scheduler import Scheduler


def test_advancing_the_clock_moves_every_reading_at_once() -> None:
    clock = Clock()
    wall, steady = clock.time(), clock.monotonic()

    clock.advance(3600)

    assert clock.time() - wall >= 3600
    assert clock.monotonic() - steady >= 3600
    assert clock.time_millis() == pytest.approx(clock.time() * 1000, abs=50)


def test_the_clock_never_goes_back() -> None:
    with pytest.raises(ValueError, match="does not go back"):
        Clock().advance(-1)


def test_a_delay_is_due_after_that_much_aws_time_scaled() -> None:
    clock = Clock(time_scale=0.01)
    now = clock.monotonic()

    assert clock.due(60) == pytest.approx(now + 0.6, abs=0.05)


def test_a_job_runs_once_its_delay_has_passed_on_the_clock() -> None:
    clock = Clock()
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.call_later(60, lambda: ran.append("retry"))

    assert scheduler.run_due(fast_forward=False) == 0
    clock.advance(61)
    assert scheduler.run_due(fast_forward=False) == 1
    assert ran == ["retry"]
    assert len(scheduler) == 0


def test_fast_forward_runs_delayed_jobs_in_due_order() -> None:
    scheduler = Scheduler(Clock())
    ran: list[int] = []
    for delay in (120, 0, 60):
        scheduler.call_later(delay, lambda delay=delay: ran.append(delay))

    assert scheduler.run_due(fast_forward=True) == 3
    assert ran == [0, 60, 120]


def test_a_job_queued_by_a_job_waits_for_the_next_round() -> None:
    scheduler = Scheduler(Clock())
    ran: list[str] = []

    def first() -> None:
        ran.append("first")
        scheduler.call_later(0, lambda: ran.append("second"))

    scheduler.call_later(0, first)

    assert scheduler.run_due(fast_forward=True) == 1
    assert ran == ["first"]
    assert scheduler.run_due(fast_forward=True) == 1
    assert ran == ["first", "second"]
