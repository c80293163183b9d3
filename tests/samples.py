"""Loads the sample events in events/<pattern>/ that the tests build on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_ROOT = Path(__file__).resolve().parents[1] / "events"


def load_event(pattern: str, file_name: str) -> Any:
    """A fresh copy of events/<pattern>/<file_name>, free to tweak."""
    return json.loads((EVENTS_ROOT / pattern / file_name).read_text())
