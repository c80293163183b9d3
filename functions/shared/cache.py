"""What an execution environment builds once (clients, settings, adapters), and its one reset.

Lambda keeps a module's globals between invocations of one execution environment, so a
client or a setting built on first use serves every later invocation. Building them on
first use, never at import, lets tests point them at moto; `reset_caches()` forgets all of
them at once, as a new execution environment would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

_CACHES: list[Any] = []


def cached(function: F) -> F:
    """`functools.cache`, registered so that `reset_caches()` clears it too."""
    wrapper = functools.cache(function)
    _CACHES.append(wrapper)
    return cast(F, wrapper)


def reset_caches() -> None:
    """Forget every cached client, adapter and setting: the next call builds them anew."""
    for wrapper in _CACHES:
        wrapper.cache_clear()
