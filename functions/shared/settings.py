"""Reads a function's settings from its environment, failing clearly when one is missing.

Every pattern's `settings.py` builds frozen dataclasses from `require_env(...)` inside
accessors decorated with `shared.cache.cached`: read once per execution environment, on first
use, never at import.
"""

from __future__ import annotations

import os


class MissingSettingError(RuntimeError):
    """The function's environment lacks a variable its infrastructure should have set."""


def require_env(name: str) -> str:
    """The value of environment variable `name`; raises `MissingSettingError` if unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise MissingSettingError(
            f"environment variable {name} is not set: the function's stack defines it"
        )
    return value
