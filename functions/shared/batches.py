"""What calls that take many entries at once need: the entries in calls' worth, and a backoff
for the entries a call did not take."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """`items` in consecutive lists of at most `size` (a call's limit: 10 for SQS and SNS
    batches, 25 for BatchWriteItem, 500 for PutRecords)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
    Jitter"): retry n waits a random time in [0, min(cap, base * 2**n)].

    Full jitter spreads the retries of many callers that were throttled together, so they do
    not come back together and get throttled again. `max_attempts` counts the first call.
    """

    max_attempts: int = 6
    base_seconds: float = 0.025
    cap_seconds: float = 1.0

    def delay(self, retry: int, rng: random.Random | Any = random) -> float:
        """The wait before retry number `retry` (0 for the first retry)."""
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry))
