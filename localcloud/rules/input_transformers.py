"""What an EventBridge target receives: `Input`, `InputPath` or `InputTransformer` of an event."""

from __future__ import annotations

import json
import re
from typing import Any

from localcloud.rules.event_patterns import MISSING

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]")


def json_path(event: Any, path: str) -> Any:
    """The value at an EventBridge JSON path (`$.a.b`, `$.a[0]`, `$.a[*]`), or `MISSING`."""
    if not path.startswith("$"):
        return MISSING
    values, wildcard, position = [event], False, 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None:
            return MISSING
        position = step.end()
        name, index, quoted = step.groups()
        following = []
        for value in values:
            if index == "*":
                wildcard = True
                following.extend(value if isinstance(value, list) else [])
            elif index is not None:
                if isinstance(value, list) and int(index) < len(value):
                    following.append(value[int(index)])
            elif isinstance(value, dict) and (name or quoted) in value:
                following.append(value[name or quoted])
        values = following
    if wildcard:
        return values
    return values[0] if values else MISSING


# A variable's name: EventBridge's names, and the JSON paths Pipes' templates hold inline
# (`<$.body.id>`); only a name with a value is substituted, anything else stays as written.
_VARIABLE = re.compile(r"<([A-Za-z0-9_.\-$\[\]*/']+)>")


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Any) -> str:
    """The text a target receives for `event`: Input, InputPath, InputTransformer or the event."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return json.dumps(None if value is MISSING else value)
    transformer = target.get("InputTransformer")
    if transformer:
        return transform(
            transformer.get("InputPathsMap") or {}, transformer["InputTemplate"], event, rule
        )
    return json.dumps(event)


def transform(paths: dict[str, str], template: str, event: dict[str, Any], rule: Any) -> str:
    """An input transformer's output, with EventBridge's substitution rules.

    A variable inside a JSON string takes its value's text unescaped (objects and arrays lose
    their inner quotes); elsewhere it takes its value as JSON, so strings arrive quoted. A
    variable whose path is not in the event becomes null (an empty text inside a string).
    """
    values = {name: json_path(event, path) for name, path in paths.items()}
    without_detail = {key: value for key, value in event.items() if key != "detail"}
    values.update(
        {
            "aws.events.rule-arn": rule.arn,
            "aws.events.rule-name": rule.name,
            "aws.events.event.ingestion-time": event.get("time"),
            "aws.events.event": without_detail,
            "aws.events.event.json": event,
        }
    )
    return substitute(template, values)


def substitute(template: str, values: dict[str, Any]) -> str:
    """`template` with each `<name>` of `values` replaced by EventBridge's rules (see
    `transform`); a value `MISSING` is null, or an empty text inside a string."""
    out: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        variable = _VARIABLE.match(template, position)
        if variable is not None and variable.group(1) in values:
            value = values[variable.group(1)]
            out.append(_text_in_string(value) if in_string else _json_value(value))
            position = variable.end()
            continue
        character = template[position]
        if in_string and escaped:
            escaped = False
        elif in_string and character == "\\":
            escaped = True
        elif character == '"':
            in_string = not in_string
        out.append(character)
        position += 1
    return "".join(out)


def _text_in_string(value: Any) -> str:
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return (
        json.dumps(value).replace('"', "") if isinstance(value, dict | list) else json.dumps(value)
    )


def _json_value(value: Any) -> str:
    return "null" if value is MISSING else json.dumps(value)
