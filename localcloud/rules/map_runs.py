"""Step Functions' rule for a Distributed Map run whose items fail: pure, no moto."""

from __future__ import annotations

#: The cause Step Functions gives a map run that failed more items than it tolerates.
EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"


def exceeds_tolerated_failures(
    *, failed: int, total: int, tolerated_count: int, tolerated_percentage: float
) -> bool:
    """Whether a map run with `failed` of `total` items failed must fail as a whole.

    Step Functions fails the run (`States.ExceedToleratedFailureThreshold`) once the failed
    items exceed either threshold; both default to 0, so one failed item fails the run.
    """
    if failed == 0:
        return False
    if failed > tolerated_count:
        return True
    return total > 0 and failed * 100 / total > tolerated_percentage
