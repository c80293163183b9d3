"""localcloud's seam into moto, declared as data: every hook once, with its target and reason.

moto holds the state of every emulated service; localcloud changes what some of its methods do
(run a function's real code, stop moto firing event sources itself, model what its
CloudFormation skips). Each change is a `Hook`: the object that owns the target, the
attribute, a `wrap` that turns the original into its replacement, whether the replacement
still calls the original (`replaces=False`) or stands in for it, why it exists, and the
parameters of the original as localcloud was written against them; a hook may also add an
operation moto lacks (`adds=True`: the target must be absent, and the hook fails by name the
day moto implements it). The engine installs the
hooks when it starts and removes them when it stops (`InstalledHooks`); `drift()` tells, for
one hook, what no longer holds against the installed moto, so an upgrade fails by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_INHERITED = object()


@dataclass(frozen=True)
class Hook:
    """One change to moto (see the module docstring)."""

    owner: Any
    attribute: str
    wrap: Callable[[Any], Any]
    why: str
    parameters: tuple[str, ...] | None
    replaces: bool = False
    #: The hook adds what moto does not have (an operation it answers "not implemented");
    #: `wrap` is called with None.
    adds: bool = False

    @property
    def target(self) -> str:
        """The dotted name of what the hook changes, e.g. `moto.sqs.models.Queue.attributes`."""
        owner_name = getattr(self.owner, "__qualname__", None) or ""
        module = getattr(self.owner, "__module__", None) or getattr(self.owner, "__name__", "")
        if not owner_name or owner_name == module:
            return f"{module}.{self.attribute}"
        return f"{module}.{owner_name}.{self.attribute}"

    def drift(self) -> str | None:
        """What no longer matches the installed library (missing target, other signature)."""
        original = inspect.getattr_static(self.owner, self.attribute, _INHERITED)
        if self.adds:
            if original is not _INHERITED:
                return f"{self.target}: moto now has it; the hook that adds it must go"
            return None
        if original is _INHERITED:
            return f"{self.target}: the target is gone"
        if self.parameters is None:
            return None
        found = parameters_of(original)
        if found != self.parameters:
            return f"{self.target}: parameters {found}, hook written for {self.parameters}"
        return None


def parameters_of(attribute: Any) -> tuple[str, ...] | None:
    """The parameter names of a function, method or property getter, as `Hook.parameters` holds
    them (`*args` and `**kwargs` with their stars); None for what is not callable."""
    if isinstance(attribute, property):
        attribute = attribute.fget
    if isinstance(attribute, staticmethod | classmethod):
        attribute = attribute.__func__
    if not callable(attribute):
        return None
    try:
        parameters = inspect.signature(attribute).parameters.values()
    except (TypeError, ValueError):
        return None
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return tuple(stars.get(parameter.kind, "") + parameter.name for parameter in parameters)


class InstalledHooks:
    """Hooks in force; `remove()` restores every original, in reverse order."""

    def __init__(self, hooks: Iterable[Hook]) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        try:
            for hook in hooks:
                original = None if hook.adds else getattr(hook.owner, hook.attribute)
                self._saved.append(
                    (hook.owner, hook.attribute, vars(hook.owner).get(hook.attribute, _INHERITED))
                )
                setattr(hook.owner, hook.attribute, hook.wrap(original))
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        for owner, attribute, original in reversed(self._saved):
            if original is _INHERITED:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self._saved.clear()
