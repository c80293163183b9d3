"""DynamoDB expressions parsed once and validated in one pass answer exactly as moto does.

Each scenario runs twice over: on plain moto, and with localcloud's expression hooks, where
the second and later requests with a text reuse what the first one parsed and checked. The
items written and the errors returned must be the same, request by request.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from localcloud.core.hooks import InstalledHooks
from localcloud.services.dynamodb import expressions

REGION = "eu-west-1"
TABLE = "ledger"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def _update(
    expression: str,
    names: dict[str, str],
    values: dict[str, Any] | None = None,
    *,
    condition: str | None = None,
    key: str = "k1",
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {"pk": {"S": key}, "sk": {"S": "s"}},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ReturnValues": "ALL_NEW",
    }
    if values:
        request["ExpressionAttributeValues"] = values
    if condition:
        request["ConditionExpression"] = condition
    return request


LEDGER = "ADD #a0 :a0 SET #s1 = :s1, #s2 = :s2"
LEDGER_NAMES = {"#a0": "reservations", "#s1": "status", "#s2": "amount"}
CONDITIONAL = "attribute_not_exists(#s) OR #s < :now"


def _transact(update: dict[str, Any]) -> dict[str, Any]:
    """A TransactWriteItems request of one update (which takes no ReturnValues)."""
    return {"TransactItems": [{"Update": {k: v for k, v in update.items() if k != "ReturnValues"}}]}


def _put_if_older(seen: str) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Item": {"pk": {"S": "p"}, "sk": {"S": "s"}, "seen": {"N": seen}},
        "ConditionExpression": CONDITIONAL,
        "ExpressionAttributeNames": {"#s": "seen"},
        "ExpressionAttributeValues": {":now": {"N": "3"}},
    }


LEDGER_VALUES = {":a0": {"N": "1"}, ":s1": {"S": "t"}, ":s2": {"N": "1"}}
TWO_SETS = ("SET #a = :a SET #b = :b", {"#a": "a", "#b": "b"}, {":a": {"S": "1"}, ":b": {"S": "2"}})
COUNTER = (
    "SET #n = if_not_exists(#n, :zero) + :one",
    {"#n": "count"},
    {":zero": {"N": "0"}, ":one": {"N": "1"}},
)
APPEND = "SET #l = list_append(if_not_exists(#l, :empty), :more)"

#: (operation, request) in order; several reuse one text with other names or values.
SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    (
        "update",
        _update(LEDGER, LEDGER_NAMES, {":a0": {"N": "1"}, ":s1": {"S": "new"}, ":s2": {"N": "5"}}),
    ),
    (
        "update",
        _update(LEDGER, LEDGER_NAMES, {":a0": {"N": "2"}, ":s1": {"S": "paid"}, ":s2": {"N": "7"}}),
    ),
    # The same text whose names now overlap: moto refuses it, so must the cached path.
    (
        "update",
        _update(
            LEDGER,
            {"#a0": "reservations", "#s1": "amount", "#s2": "amount"},
            {":a0": {"N": "1"}, ":s1": {"S": "x"}, ":s2": {"N": "1"}},
        ),
    ),
    (
        "update",
        _update(
            LEDGER,
            LEDGER_NAMES,
            {":a0": {"N": "3"}, ":s1": {"S": "shipped"}, ":s2": {"N": "9"}},
            key="k2",
        ),
    ),
    # Two SET clauses, twice: refused both times with moto's message.
    *2 * [("update", _update(*TWO_SETS))],
    # A key attribute cannot be updated; the same text on another attribute can.
    ("update", _update("SET #k = :v", {"#k": "pk"}, {":v": {"S": "moved"}})),
    ("update", _update("SET #k = :v", {"#k": "note"}, {":v": {"S": "kept"}})),
    # Arithmetic and functions read the item as it is now, not as it was when first parsed.
    *2 * [("update", _update(*COUNTER))],
    ("update", _update("REMOVE #n", {"#n": "note"})),
    ("update", _update(APPEND, {"#l": "log"}, {":empty": {"L": []}, ":more": {"L": [{"S": "a"}]}})),
    ("update", _update(APPEND, {"#l": "log"}, {":empty": {"L": []}, ":more": {"L": [{"S": "b"}]}})),
    # One condition text, other values: passes, then fails.
    (
        "update",
        _update("SET #s = :now", {"#s": "seen"}, {":now": {"N": "10"}}, condition=CONDITIONAL),
    ),
    (
        "update",
        _update("SET #s = :now", {"#s": "seen"}, {":now": {"N": "5"}}, condition=CONDITIONAL),
    ),
    (
        "update",
        _update("SET #s = :now", {"#s": "seen"}, {":now": {"N": "20"}}, condition=CONDITIONAL),
    ),
    ("transact", _transact(_update(LEDGER, LEDGER_NAMES, LEDGER_VALUES, key="k3"))),
    (
        "transact",
        _transact(
            _update(
                LEDGER, LEDGER_NAMES, LEDGER_VALUES, key="k3", condition="attribute_not_exists(#a0)"
            )
        ),
    ),
    ("put", _put_if_older("1")),
    ("put", _put_if_older("2")),
    ("put", _put_if_older("3")),
]


def _outcomes() -> list[Any]:
    """Each scenario's answer (the item written, or the error's code and message), then the
    table's items at the end."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        calls = {
            "update": dynamodb.update_item,
            "transact": dynamodb.transact_write_items,
            "put": dynamodb.put_item,
        }
        outcomes: list[Any] = []
        for operation, request in SCENARIOS:
            try:
                response = calls[operation](**request)
                outcomes.append(response.get("Attributes", "written"))
            except ClientError as error:
                outcomes.append(
                    (error.response["Error"]["Code"], error.response["Error"]["Message"])
                )
        items = dynamodb.scan(TableName=TABLE)["Items"]
        outcomes.append(sorted(items, key=lambda item: item["pk"]["S"]))
    return outcomes


def test_every_request_is_answered_as_moto_answers_it():
    plain = _outcomes()
    installed = InstalledHooks(expressions.HOOKS)
    try:
        hooked = _outcomes()
    finally:
        installed.remove()

    assert hooked == plain
    # The scenarios exercise both answers: items written and requests refused.
    errors = [outcome for outcome in plain[:-1] if isinstance(outcome, tuple)]
    assert 4 <= len(errors) < len(SCENARIOS) - 4


def test_a_text_is_parsed_once_and_validated_on_a_copy_that_leaves_it_as_parsed(
    monkeypatch: pytest.MonkeyPatch,
):
    parsed: list[str] = []
    parse = UpdateExpressionParser.make.__func__

    def counted(cls: type, expression_str: str) -> Any:
        parsed.append(expression_str)
        return parse(cls, expression_str)

    monkeypatch.setattr(UpdateExpressionParser, "make", classmethod(counted))
    installed = InstalledHooks(expressions.HOOKS)
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            dynamodb.create_table(
                TableName="once",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            text = "SET #count = if_not_exists(#count, :zero) + :one"
            for _ in range(3):
                dynamodb.update_item(
                    TableName="once",
                    Key={"id": {"S": "a"}},
                    UpdateExpression=text,
                    ExpressionAttributeNames={"#count": "count"},
                    ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
                )
            kept = UpdateExpressionParser.make(text)
            item = dynamodb.get_item(TableName="once", Key={"id": {"S": "a"}})["Item"]
    finally:
        installed.remove()

    assert item["count"] == {"N": "3"}
    # moto asked for the tree twice per request; it was parsed once...
    assert parsed == [text]
    # ...and is still as parsed: placeholders, not the values validation put in its copy.
    assert {type(node).__name__ for node in _nodes(kept)} >= {
        "ExpressionAttributeName",
        "ExpressionAttributeValue",
    }
    assert "DDBTypedValue" not in {type(node).__name__ for node in _nodes(kept)}


def _nodes(node: Any) -> list[Any]:
    children = [child for child in node.children or [] if hasattr(child, "children")]
    return [node, *(found for child in children for found in _nodes(child))]


def test_the_texts_kept_are_bounded(monkeypatch: pytest.MonkeyPatch):
    kept = expressions._Kept(3)
    for n in range(10):
        kept.get(f"SET a = :v{n}", lambda n=n: n)

    assert len(kept) == 3
    assert kept.get("SET a = :v9", lambda: "parsed again") == 9
    assert kept.get("SET a = :v0", lambda: "parsed again") == "parsed again"
