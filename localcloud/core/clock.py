"""The one clock every emulated service reads: AWS's wall time, scaled waits, and skips ahead.

Three readings, one source:
- `time()`: epoch seconds, what AWS stamps on records and what moto's SQS compares visibility
  timeouts and delays against (hooked to this clock);
- `monotonic()`: seconds for measuring waits between delivery rounds;
- `due(delay)`: the `monotonic()` reading at which work delayed by `delay` seconds of AWS's time
  is due: with `time_scale` 0.01 a 60-second retry delay passes in 0.6 s.

`advance(seconds)` moves every reading on at once, so a test sees a visibility timeout or a
retry delay pass without waiting for it in real time.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """See the module docstring."""

    def __init__(self, *, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._skipped = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Epoch seconds."""
        return time.time() + self._skipped

    def time_millis(self) -> float:
        """Epoch milliseconds."""
        return self.time() * 1000.0

    def monotonic(self) -> float:
        """Seconds that only move forward, for waits."""
        return time.monotonic() + self._skipped

    def due(self, delay_seconds: float) -> float:
        """When work delayed by `delay_seconds` of AWS's time is due, on `monotonic()`."""
        return self.monotonic() + delay_seconds * self.time_scale

    def advance(self, seconds: float) -> None:
        """Move every reading on by `seconds`, as if that much time had passed."""
        if seconds < 0:
            raise ValueError("the clock does not go back")
        with self._lock:
            self._skipped += seconds
