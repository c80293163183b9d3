"""Prints a scenario's story: requests and responses, invocations, messages, items, DLQs."""

from __future__ import annotations

import json
import re
from typing import Any

from localcloud import Invocation

WIDTH = 100


def heading(title: str) -> None:
    print(f"\n{'=' * WIDTH}\n{title}\n{'=' * WIDTH}")


def step(text: str) -> None:
    print(f"\n-- {text}")


def line(text: str) -> None:
    print(f"   {text}")


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invocations(records: list[Invocation]) -> None:
    """One line per invocation: function, trigger, duration, outcome."""
    for record in records:
        outcome = "ok" if record.succeeded else f"ERROR {record.error['errorType']}"
        if record.succeeded and isinstance(record.payload, dict):
            failures = record.payload.get("batchItemFailures")
            if failures:
                outcome = f"ok, {len(failures)} batch item failure(s)"
        cold = " (cold start)" if record.cold_start else ""
        line(
            f"{_short_name(record.function):<36.36} <- {_short_name(record.trigger):<40.40} "
            f"{record.duration_ms:7.1f} ms  {outcome}{cold}"
        )


_GENERATED_NAME = re.compile(r"^[A-Za-z0-9]+-(?P<logical_id>[A-Za-z0-9]+)-[A-Z0-9]{8,13}$")


def _short_name(text: str) -> str:
    """Generated names without stack prefix and random suffix: `PubSubFulfilmentConsumer...`."""
    return " ".join(
        match["logical_id"] if (match := _GENERATED_NAME.match(word)) else word
        for word in text.split(" ")
    )
