"""Turns what a handler was given into a validated model, or into one error that says what is
wrong with it, in the words every pattern uses."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_request(
    model: type[M], payload: object, *, error: type[Exception], request: str, shape: str
) -> M:
    """`payload` validated as `model`; otherwise `error("invalid <request>: ...")`.

    `shape` is what the payload should look like (`{"events": [...]}`), said when it is not
    even a JSON object; a payload that is one gets every problem, located, in one message:
    `invalid publish request: events[2].amount: Input should be greater than or equal to 0`.
    """
    if not isinstance(payload, dict):
        raise error(
            f"invalid {request}: expected a JSON object {shape}, got {type(payload).__name__}"
        )
    try:
        return model.model_validate(payload)
    except ValidationError as problems:
        raise error(f"invalid {request}: {describe_validation_error(problems)}") from None


def describe_validation_error(error: ValidationError) -> str:
    """`events[2].amount: Input should be ...; currency: Field required` from a pydantic error."""
    return "; ".join(f"{_location(problem['loc'])}: {problem['msg']}" for problem in error.errors())


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(input)"
