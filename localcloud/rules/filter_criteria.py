"""Lambda's event filtering: which records of a queue or stream an event source mapping sends.

A mapping's `FilterCriteria` holds up to ten `Filters` (five by default; more are a quota
increase, which localcloud cannot see, so it accepts up to Lambda's maximum), each a `Pattern`:
the text of an EventBridge event pattern (`localcloud.rules.event_patterns`). A record is sent to
the function when ANY pattern matches it; a record no pattern matches is not sent and counts
as processed (the poller deletes the message, or moves the stream's checkpoint past it).

A pattern is matched against the record as Lambda sends it, its payload decoded (`body` of an
SQS message, `data` of a Kinesis record, `dynamodb` of a DynamoDB change), so patterns may name
both the payload's fields and the record's own (`eventName`, `partitionKey`...):

- SQS `body`: a pattern with an object under `body` matches only a body that is JSON (an
  object or an array), against its decoded fields; a pattern with a list of rules under `body`
  matches only a plain-string body. A body of the other format is dropped, as Lambda drops it.
  A body that is a JSON scalar (`42`, `"text"`) counts as a plain string: it has no fields.
- Kinesis `data`: base64-decoded; a pattern on `data` matches only data that is JSON. The
  record's `kinesis` fields (`partitionKey`, `data`...) are matched at the top level, where
  Lambda's filter syntax puts them.
- DynamoDB Streams: the record as it is (`dynamodb` holds Keys, NewImage and OldImage in
  DynamoDB JSON, e.g. `{"dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}`).

`filter_patterns` checks a mapping's criteria as Lambda does when the mapping is created or
updated: each pattern must be a JSON object, and for a stream the pattern on its data must be
an object too (a plain-string pattern on a stream's data is refused).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from localcloud.rules.event_patterns import pattern_matches

# Lambda's limits: 5 filters per mapping by default, 10 with a quota increase; 4096 characters
# per pattern.
MAX_FILTERS = 10
MAX_PATTERN_LENGTH = 4096

# The key each source's payload is filtered under.
SQS_DATA_KEY = "body"
KINESIS_DATA_KEY = "data"
DYNAMODB_DATA_KEY = "dynamodb"

_NOT_JSON = object()


class FilterCriteriaError(ValueError):
    """A mapping's FilterCriteria that Lambda refuses (CreateEventSourceMapping fails)."""


def source_kind(event_source_arn: str) -> str:
    """ "sqs", "kinesis" or "dynamodb": how the records of a mapping's source are filtered."""
    service = event_source_arn.split(":")[2] if event_source_arn.count(":") >= 2 else ""
    return service if service in ("sqs", "kinesis", "dynamodb") else "sqs"


def filter_patterns(filter_criteria: Any, kind: str) -> list[dict[str, Any]]:
    """The parsed patterns of a mapping's FilterCriteria; empty when it filters nothing.

    Raises FilterCriteriaError for criteria Lambda refuses.
    """
    if not filter_criteria:
        return []
    if not isinstance(filter_criteria, dict):
        raise FilterCriteriaError("FilterCriteria must be an object with a list of Filters")
    filters = filter_criteria.get("Filters") or []
    if not isinstance(filters, list):
        raise FilterCriteriaError("FilterCriteria.Filters must be a list")
    if len(filters) > MAX_FILTERS:
        raise FilterCriteriaError(
            f"FilterCriteria holds {len(filters)} filters; a mapping takes at most {MAX_FILTERS}"
        )
    return [_pattern(entry, kind) for entry in filters]


def _pattern(entry: Any, kind: str) -> dict[str, Any]:
    text = entry.get("Pattern") if isinstance(entry, dict) else None
    if not isinstance(text, str) or len(text) > MAX_PATTERN_LENGTH:
        raise FilterCriteriaError(
            f"each filter needs a Pattern: JSON text of at most {MAX_PATTERN_LENGTH} characters"
        )
    try:
        pattern = json.loads(text)
    except json.JSONDecodeError as error:
        raise FilterCriteriaError(f"Invalid filter pattern definition: {error}") from None
    if not isinstance(pattern, dict):
        raise FilterCriteriaError("Invalid filter pattern definition: not a JSON object")
    data_key = _data_key(kind)
    if kind != "sqs" and data_key in pattern and not isinstance(pattern[data_key], dict):
        raise FilterCriteriaError(
            f"Invalid filter pattern definition: the pattern on {data_key!r} must be a JSON object"
        )
    return pattern


def _data_key(kind: str) -> str:
    return {"kinesis": KINESIS_DATA_KEY, "dynamodb": DYNAMODB_DATA_KEY}.get(kind, SQS_DATA_KEY)


def record_passes(patterns: Sequence[dict[str, Any]], record: dict[str, Any], kind: str) -> bool:
    """Whether Lambda sends `record` (as the function would get it) under these patterns."""
    if not patterns:
        return True
    view = _filterable(record, kind)
    return any(_pattern_matches(pattern, view, kind) for pattern in patterns)


def _filterable(record: dict[str, Any], kind: str) -> dict[str, Any]:
    """The record with its payload decoded, its fields where Lambda's patterns name them."""
    if kind == "dynamodb":
        return record
    if kind == "kinesis":
        kinesis = record.get("kinesis") or {}
        outer = {name: value for name, value in record.items() if name != "kinesis"}
        return {**outer, **kinesis, KINESIS_DATA_KEY: _decoded_data(kinesis.get("data"))}
    return {**record, SQS_DATA_KEY: _json_or_text(record.get(SQS_DATA_KEY))}


def _decoded_data(data: Any) -> Any:
    try:
        text = base64.b64decode(data or "", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, TypeError):
        return _NOT_JSON
    decoded = _json_or_text(text)
    return _NOT_JSON if isinstance(decoded, str) else decoded


def _json_or_text(text: Any) -> Any:
    """A JSON object or array decoded; any other text (a JSON scalar too) stays a string."""
    if not isinstance(text, str):
        return text
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        return text
    return decoded if isinstance(decoded, dict | list) else text


def _pattern_matches(pattern: dict[str, Any], view: dict[str, Any], kind: str) -> bool:
    data_key = _data_key(kind)
    if data_key in pattern:
        data = view.get(data_key)
        if data is _NOT_JSON:
            return False  # a stream's data that is not JSON: Lambda drops the record
        # The pattern's format must be the payload's: an object for JSON, rules for text.
        data_is_json = isinstance(data, dict | list)
        if isinstance(pattern[data_key], dict) != data_is_json:
            return False
    if view.get(data_key) is _NOT_JSON:
        view = {name: value for name, value in view.items() if name != data_key}
    return pattern_matches(pattern, view)
