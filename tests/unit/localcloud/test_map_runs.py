"""When a Distributed Map run with failed items fails as a whole (Step Functions' rule)."""

from __future__ import annotations

import pytest

from localcloud.rules.map_runs import exceeds_tolerated_failures


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "fails"),
    [
        (0, 10, 0, 0, False),  # nothing failed
        (1, 10, 0, 0, True),  # the defaults tolerate no failure
        (2, 10, 2, 0, True),  # within the count, but over 0 %
        (2, 10, 2, 20, False),  # within both
        (3, 10, 5, 20, True),  # over the percentage
        (3, 10, 2, 50, True),  # over the count
    ],
)
def test_a_map_run_fails_once_failed_items_exceed_either_threshold(
    failed: int, total: int, count: int, percentage: float, fails: bool
):
    assert (
        exceeds_tolerated_failures(
            failed=failed, total=total, tolerated_count=count, tolerated_percentage=percentage
        )
        is fails
    )
