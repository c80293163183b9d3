"""One queue of delayed work for every service: async invocation retries, EventBridge target
retries and whatever a service must do later, each due at a reading of the engine's clock."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from localcloud.core.clock import Clock


@dataclass(order=True)
class _Job:
    due: float
    sequence: int
    run: Callable[[], None] = field(compare=False)


class Scheduler:
    """Jobs due at a time on `clock`; the engine runs those due in each delivery round."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._jobs: list[_Job] = []
        self._sequence = itertools.count()
        self._lock = threading.Lock()

    def call_later(self, delay_seconds: float, run: Callable[[], None]) -> None:
        """Run `run` once `delay_seconds` of AWS's time have passed (scaled by the clock)."""
        job = _Job(self.clock.due(delay_seconds), next(self._sequence), run)
        with self._lock:
            heapq.heappush(self._jobs, job)

    def run_due(self, *, fast_forward: bool) -> int:
        """Run the jobs that are due (all of them, with `fast_forward`); returns how many ran.

        A round runs only the jobs queued before it: a job that queues another (a retry, a
        function invoking itself) leaves it for the next round, so every round ends.
        """
        queued_before = next(self._sequence)
        done = 0
        while True:
            with self._lock:
                if not self._jobs or self._jobs[0].sequence > queued_before:
                    return done
                if not fast_forward and self._jobs[0].due > self.clock.monotonic():
                    return done
                job = heapq.heappop(self._jobs)
            job.run()
            done += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)
