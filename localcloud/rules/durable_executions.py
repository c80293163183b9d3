"""Lambda's rules for durable executions: how one is started, named, and when its timers fire.

- A durable function runs only through a qualified ARN (a version, an alias or `$LATEST`);
  an unqualified invoke is refused (`requires_qualifier`).
- An execution's ARN names the function, the version that runs (an alias resolves to its
  version), the execution's name and its id (`execution_arn`).
- An execution name is an idempotency key within the function: an invoke naming an existing
  execution with the same input gets that execution; with another input, it is refused
  (`start_decision`).
- Timers: a wait, a step's retry delay and a re-invocation move an execution forward; an
  execution's or a callback's timeout only ends it. Taking every wait as elapsed (settling)
  fires the timers up to the next one that moves an execution forward, and a timeout due
  before it, but never skips ahead to a timeout alone (`fast_forward_horizon`): an execution
  waiting only for a callback stays waiting, as on AWS until someone answers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from enum import Enum

#: Lambda's limit on an execution name's length, and the characters it allows.
EXECUTION_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: The version an unpublished function runs.
LATEST = "$LATEST"


class StartDecision(Enum):
    """What an invoke of a durable function does."""

    START = "start"
    EXISTING = "existing"
    CONFLICT = "conflict"


def requires_qualifier(function_name: str, qualifier: str | None) -> bool:
    """True when an invoke of a durable function names no version or alias (Lambda refuses it).

    `function_name` is what the caller passed (a name, a partial or a full ARN, possibly with
    `:qualifier`), `qualifier` the `Qualifier` parameter.
    """
    if qualifier:
        return False
    name = function_name.split(":function:", 1)[-1]
    if function_name.startswith("arn:"):
        return ":" not in name
    # A bare name, or "name:qualifier", or the partial ARN "account:function:name[:q]".
    return ":" not in name


def execution_arn(function_arn: str, version: str, name: str, execution_id: str) -> str:
    """The ARN of an execution of the function `function_arn` (unqualified) at `version`."""
    return f"{function_arn}:{version}/durable-execution/{name}/{execution_id}"


def new_execution_name() -> str:
    """The name Lambda gives an execution started without one."""
    return str(uuid.uuid4())


def start_decision(
    existing_input: str | None, *, exists: bool, requested_input: str
) -> StartDecision:
    """An invoke naming an execution: start it, return the existing one, or refuse.

    Lambda compares the payloads: the same input is the same request retried; another input
    under a name already used is `DurableExecutionAlreadyStartedException`.
    """
    if not exists:
        return StartDecision.START
    if _same_payload(existing_input, requested_input):
        return StartDecision.EXISTING
    return StartDecision.CONFLICT


def _same_payload(first: str | None, second: str | None) -> bool:
    return (first or "") == (second or "")


def fast_forward_horizon(timers: Iterable[tuple[float, bool]]) -> float | None:
    """How far settling moves an execution's clock: the due time of the earliest timer that
    moves an execution forward (`(due, moves_forward)` pairs), or None when only timeouts are
    left. Every timer due by then fires, in order, so a timeout due before a wait ends still
    ends its execution first."""
    forward = [due for due, moves_forward in timers if moves_forward]
    return min(forward) if forward else None
