"""Step Functions state machines executed on moto's engine, Tasks through the runner."""

from __future__ import annotations

from localcloud.extension import Extension


class StepFunctions(Extension):
    """Step Functions state machines executed on moto's engine, Tasks through the runner."""
