"""POST /items through the real handler on moto: creation, idempotency and every bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from shared import aws

from request_response import api
from request_response.logic import MAX_BODY_BYTES

pytestmark = pytest.mark.usefixtures("tables")


def test_create_returns_201_with_location_and_stores_the_item(make_event, invoke, tables):
    # GIVEN the sample create request
    event = make_event("create_item")

    # WHEN it is handled
    result = invoke(event)

    # THEN the new item comes back with a Location, and it is the one stored
    assert result.status == 201
    item = result.body
    assert result.headers["location"] == f"/items/{item['id']}"
    assert "idempotent-replayed" not in result.headers
    assert item["name"] == "Blue widget"
    assert item["description"] == "A widget, but blue"
    assert item["quantity"] == 3
    assert item["version"] == 1
    assert item["created_at"] == item["updated_at"]
    assert item["created_at"].endswith("Z")
    [stored] = tables.all_items()
    assert stored["id"] == item["id"]
    assert stored["version"] == 1
    assert stored["name"] == "Blue widget"


def test_create_emits_an_item_created_metric(make_event, invoke, capsys):
    # GIVEN a create request WHEN it succeeds
    assert invoke(make_event("create_item")).status == 201

    # THEN one ItemCreated count is written as an EMF record
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [record["ItemCreated"] for record in emf if "ItemCreated" in record] == [[1.0]]


def test_retry_with_the_same_idempotency_key_returns_the_first_result(make_event, invoke, tables):
    # GIVEN a create with an Idempotency-Key that already succeeded
    event = make_event("create_item", headers={"Idempotency-Key": "order-42"})
    first = invoke(event)

    # WHEN the client retries it (e.g. after a timeout)
    retry = invoke(make_event("create_item", headers={"Idempotency-Key": "order-42"}))

    # THEN it gets the same answer, marked as replayed, and only one item exists
    assert first.status == retry.status == 201
    assert retry.body == first.body
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert [stored["id"] for stored in tables.all_items()] == [first.body["id"]]
    [record] = tables.idempotency_records()
    assert record["status"] == "COMPLETED"
    assert "expiration" in record


def test_creates_without_an_idempotency_key_are_not_deduplicated(make_event, invoke, tables):
    # GIVEN the same create body sent twice without a key
    event = make_event("create_item", headers={"Idempotency-Key": None})

    # WHEN both are handled
    first, second = invoke(event), invoke(event)

    # THEN there are two distinct items and no idempotency records
    assert first.status == second.status == 201
    assert first.body["id"] != second.body["id"]
    assert len(tables.all_items()) == 2
    assert tables.idempotency_records() == []


def test_different_keys_make_different_items(make_event, invoke, tables):
    # GIVEN two creates with the same body and different keys
    for key in ("key-1", "key-2"):
        # WHEN each is handled THEN each creates
        assert invoke(make_event("create_item", headers={"Idempotency-Key": key})).status == 201

    assert len(tables.all_items()) == 2


def test_reusing_a_key_with_another_body_is_409_and_writes_nothing(make_event, invoke, tables):
    # GIVEN a key already used for one body
    first = invoke(make_event("create_item", headers={"Idempotency-Key": "order-42"}))

    # WHEN the key comes back with a different body
    result = invoke(
        make_event(
            "create_item",
            headers={"Idempotency-Key": "order-42"},
            body={"name": "Green widget", "quantity": 1},
        )
    )

    # THEN it is a conflict with the key's state (the same body with a new key would be
    # created, so it is no 422), with a message saying why, and nothing new is stored
    assert result.status == 409
    assert "Idempotency-Key" in result.message
    assert "different request body" in result.message
    assert [stored["id"] for stored in tables.all_items()] == [first.body["id"]]


def test_same_body_with_different_json_formatting_is_still_a_replay(make_event, invoke, tables):
    # GIVEN a create whose body is later resent with other whitespace and key order
    body = {"name": "Blue widget", "description": "A widget, but blue", "quantity": 3}
    first = invoke(make_event("create_item", headers={"Idempotency-Key": "k"}, body=body))
    reordered = json.dumps(dict(reversed(body.items())), indent=4)

    # WHEN it is retried
    retry = invoke(make_event("create_item", headers={"Idempotency-Key": "k"}, body=reordered))

    # THEN the validation compares the parsed payload, not the bytes
    assert retry.status == 201
    assert retry.body["id"] == first.body["id"]
    assert len(tables.all_items()) == 1


def test_a_concurrent_request_with_the_same_key_gets_409(
    make_event, invoke, tables, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN a second request with the same key arriving while the first is still creating
    event = make_event("create_item", headers={"Idempotency-Key": "order-42"})
    concurrent: list[Any] = []
    original_create = api._create

    def create_while_another_request_arrives(payload: dict[str, Any]) -> dict[str, Any]:
        concurrent.append(
            invoke(make_event("create_item", headers={"Idempotency-Key": "order-42"}))
        )
        return original_create(payload)

    monkeypatch.setattr(api, "_create", create_while_another_request_arrives)

    # WHEN the first request runs
    first = invoke(event)

    # THEN the overlapping one is told to retry later, and only the first one wrote
    assert first.status == 201
    [second] = concurrent
    assert second.status == 409
    assert "still in progress" in second.message
    assert len(tables.all_items()) == 1


def test_a_failed_create_can_be_retried_with_the_same_key(
    make_event, invoke, tables, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN a create whose first attempt fails inside the function
    original_create = api._create
    attempts: list[int] = []

    def flaky_create(payload: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("lost connection")
        return original_create(payload)

    monkeypatch.setattr(api, "_create", flaky_create)
    with pytest.raises(RuntimeError):
        invoke(make_event("create_item", headers={"Idempotency-Key": "k"}))

    # WHEN the client retries with the same key
    retry = invoke(make_event("create_item", headers={"Idempotency-Key": "k"}))

    # THEN the retry really creates (nothing of the failure was recorded as an answer)
    assert retry.status == 201
    assert "idempotent-replayed" not in retry.headers
    assert len(tables.all_items()) == 1


def test_base64_encoded_body_is_accepted(make_event, invoke, tables):
    # GIVEN the sample whose body API Gateway base64-encoded
    result = invoke(make_event("create_item_base64"))

    # THEN it is decoded and created like any other
    assert result.status == 201
    assert result.body["name"] == "Red widget"
    assert len(tables.all_items()) == 1


def test_malformed_json_is_400_naming_the_body(make_event, invoke, tables):
    # GIVEN the sample with truncated JSON
    result = invoke(make_event("create_item_malformed_json"))

    # THEN it is a 400 that says the body is not JSON and where it broke
    assert result.status == 400
    assert result.message == "request body is not valid JSON"
    [error] = result.body["errors"]
    assert error["location"] == "body"
    assert error["type"] == "json_invalid"
    assert "position" in error["message"]
    assert tables.all_items() == []


def test_unknown_field_is_422_naming_the_field(make_event, invoke, tables):
    # GIVEN the sample with a field the model does not have
    result = invoke(make_event("create_item_unknown_field"))

    # THEN the 422 names the field and the rule
    assert result.status == 422
    assert result.message == "request validation failed"
    assert result.body["errors"] == [
        {
            "location": "body.colour",
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    assert tables.all_items() == []


def test_wrong_types_are_422_naming_every_field(make_event, invoke, tables):
    # GIVEN the sample with an empty name and a string quantity
    result = invoke(make_event("create_item_wrong_types"))

    # THEN each problem is listed with its field and why
    assert result.status == 422
    errors = {error["location"]: error for error in result.body["errors"]}
    assert set(errors) == {"body.name", "body.quantity"}
    assert errors["body.name"]["type"] == "string_too_short"
    assert errors["body.quantity"]["type"] == "int_type"
    assert all(error["message"] for error in errors.values())
    assert tables.all_items() == []


@pytest.mark.parametrize(
    ("body", "location", "error_type"),
    [
        ({"quantity": 1}, "body.name", "missing"),
        ({"name": "x"}, "body.quantity", "missing"),
        ({"name": "x" * 101, "quantity": 1}, "body.name", "string_too_long"),
        ({"name": "x", "quantity": -1}, "body.quantity", "greater_than_equal"),
        ({"name": "x", "quantity": 1.5}, "body.quantity", "int_type"),
        ({"name": "x", "quantity": True}, "body.quantity", "int_type"),
        (
            {"name": "x", "quantity": 1, "description": "d" * 1001},
            "body.description",
            "string_too_long",
        ),
        ({"name": "x", "quantity": 1, "id": "mine"}, "body.id", "extra_forbidden"),
        ({"name": "x", "quantity": 1, "version": 3}, "body.version", "extra_forbidden"),
    ],
)
def test_invalid_fields_are_422(make_event, invoke, tables, body, location, error_type):
    # GIVEN a create body that breaks one rule WHEN it is handled
    result = invoke(make_event("create_item", body=body, headers={"Idempotency-Key": None}))

    # THEN the 422 names that field and rule, and nothing is stored
    assert result.status == 422
    assert {(error["location"], error["type"]) for error in result.body["errors"]} == {
        (location, error_type)
    }
    assert tables.all_items() == []


@pytest.mark.parametrize("body", [None, "", "[]", '"a string"', "null"])
def test_a_body_that_is_not_an_object_is_rejected(make_event, invoke, tables, body):
    # GIVEN a create with no body or a JSON value that is not an object
    result = invoke(make_event("create_item", body=body, headers={"Idempotency-Key": None}))

    # THEN it is a 422 about the body, never a 500
    assert result.status == 422
    assert any(location.startswith("body") for location in result.error_locations())
    assert tables.all_items() == []


@pytest.mark.parametrize("base64_body", [False, True])
def test_oversized_body_is_413_before_parsing(make_event, invoke, tables, base64_body):
    # GIVEN a body one byte over the limit (not even valid JSON: it must not be parsed)
    body = "x" * (MAX_BODY_BYTES + 1)

    # WHEN it is handled
    result = invoke(make_event("create_item", body=body, base64_body=base64_body))

    # THEN it is a 413 that states the limit, and nothing is stored
    assert result.status == 413
    assert str(MAX_BODY_BYTES) in result.message
    assert result.headers["content-type"] == "application/json"
    assert tables.all_items() == []
    assert tables.idempotency_records() == []


def test_body_at_the_limit_is_not_413(make_event, invoke, tables):
    # GIVEN a valid body padded with whitespace to exactly the limit
    text = json.dumps({"name": "x", "quantity": 1})
    body = text + " " * (MAX_BODY_BYTES - len(text))

    # WHEN it is handled THEN it is created
    assert invoke(make_event("create_item", body=body)).status == 201


def test_body_marked_base64_that_is_not_is_400(make_event, invoke, tables):
    # GIVEN a body flagged base64-encoded that is plain JSON
    event = make_event("create_item")
    event["isBase64Encoded"] = True

    # WHEN it is handled THEN it is a clear 400
    result = invoke(event)
    assert result.status == 400
    assert "base64" in result.message
    assert tables.all_items() == []


@pytest.mark.parametrize("key", ["has space", "x" * 256, "ключ"])
def test_malformed_idempotency_key_is_422(make_event, invoke, tables, key):
    # GIVEN an Idempotency-Key that is too long or not visible ASCII
    result = invoke(make_event("create_item", headers={"Idempotency-Key": key}))

    # THEN the 422 points at the header
    assert result.status == 422
    assert result.error_locations() == {"header.idempotency-key"}
    assert tables.all_items() == []


FORM_BODY = "name=Blue+widget&quantity=3"
MULTIPART_BODY = (
    '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nBlue widget\r\n--x--\r\n'
)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", FORM_BODY),
        ("application/x-www-form-urlencoded", FORM_BODY),
        ("multipart/form-data", MULTIPART_BODY),  # no boundary: once a 500
        ("multipart/form-data; boundary=x", MULTIPART_BODY),
        ("application/jsonp", '{"name": "x", "quantity": 1}'),
        ("application/merge-patch+json", '{"name": "x", "quantity": 1}'),
        ("", '{"name": "x", "quantity": 1}'),
        (None, '{"name": "x", "quantity": 1}'),  # no Content-Type header at all
        (None, None),
    ],
)
def test_a_body_not_declared_as_json_is_415_and_not_read(
    make_event, invoke, tables, content_type, body
):
    # GIVEN a create whose Content-Type is anything but JSON, empty, or absent
    event = make_event("create_item", body=body, headers={"content-type": content_type})

    # WHEN it is handled
    result = invoke(event)

    # THEN the client is told to send JSON, nothing it sent comes back, nothing is stored
    assert result.status == 415
    assert result.body == {
        "message": "send the body as JSON, with the header Content-Type: application/json"
    }
    assert tables.all_items() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "Application/Json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        " application/JSON ; charset=utf-8",
    ],
)
def test_json_media_type_is_accepted_in_any_case_and_with_parameters(
    make_event, invoke, tables, content_type
):
    # GIVEN a valid create declared as JSON, spelled in one of the ways RFC 9110 allows
    event = make_event("create_item", headers={"content-type": content_type})

    # WHEN it is handled THEN the item is created
    result = invoke(event)
    assert result.status == 201
    assert [item["id"] for item in tables.all_items()] == [result.body["id"]]


def test_the_content_type_is_checked_before_the_body_size(make_event, invoke, tables):
    # GIVEN an oversized body that is not declared as JSON
    body = "x" * (MAX_BODY_BYTES + 1)

    # WHEN it is handled THEN it is refused for its type, unread
    result = invoke(make_event("create_item", body=body, headers={"content-type": "text/plain"}))
    assert result.status == 415


def test_a_whole_number_written_as_a_float_is_a_quantity(make_event, invoke, tables):
    # GIVEN a quantity of 192.0, which JSON Schema counts as an integer
    event = make_event("create_item", body='{"name": "Blue widget", "quantity": 192.0}')

    # WHEN it is handled
    result = invoke(event)

    # THEN it is created with the integer 192
    assert result.status == 201
    assert result.body["quantity"] == 192
    [stored] = tables.all_items()
    assert stored["quantity"] == 192


def test_replaying_a_create_whose_item_was_deleted_is_409_and_creates_nothing(
    make_event, invoke, tables
):
    # GIVEN a create with an Idempotency-Key, and its item deleted afterwards
    first = invoke(make_event("create_item", headers={"Idempotency-Key": "order-7"}))
    assert first.status == 201
    deleted = invoke(make_event("delete_item", item_id=first.body["id"]))
    assert deleted.status == 204

    # WHEN the create is retried with the same key
    retry = invoke(make_event("create_item", headers={"Idempotency-Key": "order-7"}))

    # THEN the client learns its item is gone instead of getting a Location that is a 404,
    # and no item is created in its place
    assert retry.status == 409
    assert first.body["id"] in retry.message
    assert "new key" in retry.message
    assert "location" not in retry.headers
    assert tables.all_items() == []


def test_a_throttled_idempotency_table_is_503_with_retry_after(make_event, invoke, tables):
    # GIVEN DynamoDB throttling the idempotency table's write of the in-progress record
    with Stubber(aws.client("dynamodb")) as stubber:
        stubber.add_client_error(
            "put_item",
            service_error_code="ProvisionedThroughputExceededException",
            http_status_code=400,
        )
        # WHEN a create with an Idempotency-Key arrives
        result = invoke(make_event("create_item", headers={"Idempotency-Key": "order-9"}))

    # THEN the client is told to retry later, as for the items table, and nothing is stored
    assert result.status == 503
    assert result.headers["retry-after"] == "1"
    assert "retry" in result.message
    assert tables.all_items() == []
