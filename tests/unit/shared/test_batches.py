"""The pieces every pattern's batched calls share: chunks of a call's size, full-jitter backoff."""

from __future__ import annotations

import random

import pytest
from shared.batches import Backoff, chunks


@pytest.mark.parametrize(
    ("count", "sizes"), [(1, [1]), (10, [10]), (11, [10, 1]), (25, [10, 10, 5]), (0, [])]
)
def test_chunks_are_at_most_the_size_and_keep_the_order(count: int, sizes: list[int]):
    batches = list(chunks(list(range(count)), 10))

    assert [len(batch) for batch in batches] == sizes
    assert [item for batch in batches for item in batch] == list(range(count))


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1, 2], size=0))


def test_a_backoff_delay_is_jittered_below_a_doubling_ceiling():
    backoff = Backoff(max_attempts=6, base_seconds=0.05, cap_seconds=0.3)
    rng = random.Random(1)  # noqa: S311 - repeatable jitter, not security

    ceilings = [0.05, 0.1, 0.2, 0.3, 0.3]
    delays = [[backoff.delay(retry, rng) for _ in range(200)] for retry in range(5)]

    for ceiling, samples in zip(ceilings, delays, strict=True):
        assert min(samples) >= 0
        assert max(samples) <= ceiling
        # full jitter: the waits spread over the whole range, not bunched at the ceiling
        assert min(samples) < ceiling / 4
        assert max(samples) > ceiling * 3 / 4
