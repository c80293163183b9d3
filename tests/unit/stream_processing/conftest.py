"""Fixtures for the stream-processing unit tests: sample events from events/stream_processing/."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from tests.samples import load_event


@pytest.fixture
def sample_event() -> Callable[[str], Any]:
    """Load a sample event from events/stream_processing/ (a fresh copy each call)."""
    return functools.partial(load_event, "stream_processing")
