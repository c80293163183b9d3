"""GET, PUT and DELETE on items, listing with pagination, and routing, through the real handler."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from shared import aws

pytestmark = pytest.mark.usefixtures("tables")

EVENTS = Path(__file__).resolve().parents[3] / "events" / "request_response"
UNKNOWN_ID = "9d5e1f3a-0000-4000-8000-000000000000"


@pytest.fixture
def create(make_event, invoke):
    """Create an item through the API and return its body."""

    def run(name: str = "Blue widget", quantity: int = 3, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "quantity": quantity, **fields}
        result = invoke(make_event("create_item", body=body, headers={"Idempotency-Key": None}))
        assert result.status == 201
        return result.body

    return run


# --- GET /items/{id} ---------------------------------------------------------------------


def test_get_returns_the_stored_item(make_event, invoke, create):
    # GIVEN an existing item
    item = create(description="A widget, but blue")

    # WHEN the sample GET asks for it
    result = invoke(make_event("get_item", item_id=item["id"]))

    # THEN it comes back as created
    assert result.status == 200
    assert result.body == item


@pytest.mark.parametrize("item_id", [UNKNOWN_ID, "not-a-uuid", UNKNOWN_ID.upper()])
def test_get_unknown_id_is_404(make_event, invoke, item_id):
    # GIVEN an id no item has WHEN it is requested
    result = invoke(make_event("get_item", item_id=item_id))

    # THEN 404 names the id
    assert result.status == 404
    assert item_id in result.message


# --- GET /items --------------------------------------------------------------------------


def test_list_of_an_empty_table_is_an_empty_last_page(make_event, invoke):
    # GIVEN no items WHEN the sample list request runs
    result = invoke(make_event("list_items"))

    # THEN the page is empty and final
    assert result.status == 200
    assert result.body == {"items": [], "next_token": None}


def test_pagination_walks_every_item_exactly_once(make_event, invoke, create):
    # GIVEN seven items
    created = {create(name=f"item {n}")["id"] for n in range(7)}

    # WHEN a client follows next_token with pages of three
    seen: list[str] = []
    pages = 0
    token: str | None = None
    while True:
        query = {"limit": "3"} | ({"next_token": token} if token else {})
        result = invoke(make_event("list_items", query=query))
        assert result.status == 200
        assert len(result.body["items"]) <= 3
        seen.extend(item["id"] for item in result.body["items"])
        pages += 1
        token = result.body["next_token"]
        if token is None:
            break
        assert pages < 10, "pagination does not terminate"

    # THEN every item was listed once, over at least three pages
    assert sorted(seen) == sorted(created)
    assert pages >= 3


def test_list_defaults_to_pages_of_20(make_event, invoke, create):
    # GIVEN 21 items
    for n in range(21):
        create(name=f"item {n}")

    # WHEN the list is requested without a limit
    result = invoke(make_event("list_items", query={}))

    # THEN the first page holds 20 and points to the rest
    assert result.status == 200
    assert len(result.body["items"]) == 20
    assert result.body["next_token"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_bad_limit_is_422_naming_the_parameter(make_event, invoke, limit):
    # GIVEN a limit outside 1..100 or not an integer WHEN the list is requested
    result = invoke(make_event("list_items", query={"limit": limit}))

    # THEN the 422 points at the query parameter
    assert result.status == 422
    assert result.error_locations() == {"query.limit"}


def _token_for(item_id: str) -> str:
    return base64.urlsafe_b64encode(uuid.UUID(item_id).bytes).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage!",
        "A" * 21,  # one character short
        "A" * 23,  # one character long
        "A" * 21 + "B",  # the last character would carry bits past the 16 bytes
        "A" * 21 + "=",
        "A" * 200,  # the length the document once allowed
        base64.urlsafe_b64encode(b'{"id":"0b7c7e4e-5d0f-4a57-9a52-7f2f6c1d2e3a"}').decode(),
    ],
)
def test_page_token_not_of_the_documented_form_is_422(make_event, invoke, token):
    # GIVEN a next_token that is not 22 characters of URL-safe base64 holding 16 bytes
    # WHEN the list is requested with it
    result = invoke(make_event("list_items", query={"next_token": token}))

    # THEN it is refused unread, naming the parameter
    assert result.status == 422
    assert result.error_locations() == {"query.next_token"}


def test_any_token_of_the_documented_form_is_accepted(make_event, invoke, create):
    # GIVEN items, and a well-formed token the API never issued (an id no item has)
    for n in range(3):
        create(name=f"item {n}")
    forged = _token_for(UNKNOWN_ID)

    # WHEN the list is requested with it
    result = invoke(make_event("list_items", query={"next_token": forged}))

    # THEN the listing simply starts from there: a page comes back
    assert result.status == 200
    assert set(result.body) == {"items", "next_token"}


def test_issued_tokens_are_the_documented_form_and_hold_no_visible_id(make_event, invoke, create):
    # GIVEN two items WHEN a page of one is listed
    first, second = create(name="a"), create(name="b")
    token = invoke(make_event("list_items", query={"limit": "1"})).body["next_token"]

    # THEN its token is 22 URL-safe characters that stand for the last item of the page
    assert len(token) == 22
    assert token in {_token_for(first["id"]), _token_for(second["id"])}
    assert first["id"] not in token
    assert second["id"] not in token


def test_throttled_table_is_503_with_retry_after(make_event, invoke):
    # GIVEN DynamoDB throttling every attempt at a Scan
    client = aws.resource("dynamodb").meta.client
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "scan",
            service_error_code="ProvisionedThroughputExceededException",
            http_status_code=400,
        )
        # WHEN the list is requested
        result = invoke(make_event("list_items"))

    # THEN the client is told to retry later, not that the server broke
    assert result.status == 503
    assert result.headers["retry-after"] == "1"
    assert "retry" in result.message


# --- PUT /items/{id} ---------------------------------------------------------------------


def test_update_with_the_current_version_bumps_it(make_event, invoke, create, tables):
    # GIVEN an item at version 1
    item = create()

    # WHEN the sample PUT replaces it based on version 1
    result = invoke(make_event("update_item", item_id=item["id"]))

    # THEN it is at version 2 with the new fields, in the answer and in the table
    assert result.status == 200
    assert result.body["version"] == 2
    assert result.body["quantity"] == 5
    assert result.body["description"] == "Now in navy"
    assert result.body["created_at"] == item["created_at"]
    assert result.body["updated_at"] > item["updated_at"]
    stored = tables.items.get_item(Key={"id": item["id"]})["Item"]
    assert stored["version"] == 2
    assert stored["quantity"] == 5
    assert stored["updated_at"] == result.body["updated_at"]


def test_update_without_description_removes_it(make_event, invoke, create, tables):
    # GIVEN an item with a description
    item = create(description="old")

    # WHEN it is replaced by a state without one
    body = {"name": "Plain widget", "quantity": 1, "version": 1}
    result = invoke(make_event("update_item", item_id=item["id"], body=body))

    # THEN the description is gone (PUT replaces the whole client state)
    assert result.status == 200
    assert result.body["description"] is None
    assert "description" not in tables.items.get_item(Key={"id": item["id"]})["Item"]


def test_stale_version_is_409_and_leaves_the_item_unchanged(make_event, invoke, create, tables):
    # GIVEN an item someone already moved to version 2
    item = create()
    assert invoke(make_event("update_item", item_id=item["id"])).status == 200
    before = tables.items.get_item(Key={"id": item["id"]})["Item"]

    # WHEN another client writes based on version 1
    stale = {"name": "Lost update", "quantity": 0, "version": 1}
    result = invoke(make_event("update_item", item_id=item["id"], body=stale))

    # THEN it is a 409 that gives the current version, and nothing changed
    assert result.status == 409
    assert "version 2" in result.message
    assert tables.items.get_item(Key={"id": item["id"]})["Item"] == before


def test_version_ahead_of_the_stored_one_is_409(make_event, invoke, create):
    # GIVEN an item at version 1 WHEN a write claims version 5
    item = create()
    body = {"name": "x", "quantity": 1, "version": 5}
    result = invoke(make_event("update_item", item_id=item["id"], body=body))

    # THEN it is a conflict too: only the stored version is current
    assert result.status == 409


@pytest.mark.parametrize("item_id", [UNKNOWN_ID, "not-a-uuid"])
def test_update_unknown_id_is_404_and_creates_nothing(make_event, invoke, tables, item_id):
    # GIVEN no such item WHEN it is updated
    result = invoke(make_event("update_item", item_id=item_id))

    # THEN 404, and PUT did not create it
    assert result.status == 404
    assert tables.all_items() == []


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"name": "x", "quantity": 1}, "body.version"),
        ({"name": "x", "quantity": 1, "version": 0}, "body.version"),
        ({"name": "x", "quantity": 1, "version": "1"}, "body.version"),
        ({"name": "x", "quantity": 1, "version": 1, "id": "other"}, "body.id"),
        ({"name": "x", "quantity": 1, "version": 1, "created_at": "2020"}, "body.created_at"),
    ],
)
def test_invalid_update_is_422(make_event, invoke, create, tables, body, location):
    # GIVEN an existing item and an update body that breaks a rule
    item = create()

    # WHEN it is sent
    result = invoke(make_event("update_item", item_id=item["id"], body=body))

    # THEN 422 names the field, and the item is untouched
    assert result.status == 422
    assert result.error_locations() == {location}
    assert tables.items.get_item(Key={"id": item["id"]})["Item"]["version"] == 1


def test_malformed_update_body_is_400(make_event, invoke, create):
    item = create()
    # GIVEN truncated JSON WHEN it is sent as an update THEN it is a 400
    result = invoke(make_event("update_item", item_id=item["id"], body='{"name": "x",'))
    assert result.status == 400


def test_a_whole_number_written_as_a_float_is_a_version(make_event, invoke, create, tables):
    # GIVEN an item at version 1 WHEN it is replaced with "version": 1.0
    item = create()
    body = '{"name": "x", "quantity": 2.0, "version": 1.0}'
    result = invoke(make_event("update_item", item_id=item["id"], body=body))

    # THEN it is an ordinary update to version 2
    assert result.status == 200
    assert result.body["version"] == 2
    assert result.body["quantity"] == 2
    assert tables.items.get_item(Key={"id": item["id"]})["Item"]["version"] == 2


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: once a 500
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
        None,
    ],
)
def test_update_not_declared_as_json_is_415_and_changes_nothing(
    make_event, invoke, create, tables, content_type
):
    # GIVEN an item WHEN a PUT arrives whose body is not declared as JSON
    item = create()
    event = make_event("update_item", item_id=item["id"], headers={"content-type": content_type})
    result = invoke(event)

    # THEN it is a 415, and the item is untouched
    assert result.status == 415
    assert "application/json" in result.message
    assert tables.items.get_item(Key={"id": item["id"]})["Item"]["version"] == 1


def test_update_with_upper_case_json_media_type_is_accepted(make_event, invoke, create):
    # GIVEN an item WHEN a PUT declares its body as APPLICATION/JSON; CHARSET=UTF-8
    item = create()
    headers = {"content-type": "APPLICATION/JSON; CHARSET=UTF-8"}
    result = invoke(make_event("update_item", item_id=item["id"], headers=headers))

    # THEN it is an ordinary update
    assert result.status == 200
    assert result.body["version"] == 2


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("multipart/form-data", "--x--"), ("text/plain", "x" * 20_000)],
)
def test_reads_and_deletes_ignore_any_body_they_are_sent(
    make_event, invoke, create, content_type, body
):
    # GIVEN an item, and requests that carry a body no read or delete route takes
    item = create()
    extra = {"body": body, "headers": {"content-type": content_type}}

    # WHEN it is read, listed and deleted with those bodies
    read = invoke(make_event("get_item", item_id=item["id"], **extra))
    listed = invoke(make_event("list_items", **extra))
    deleted = invoke(make_event("delete_item", item_id=item["id"], **extra))

    # THEN each answers as it would without one
    assert (read.status, listed.status, deleted.status) == (200, 200, 204)
    assert read.body == item


# --- DELETE /items/{id} ------------------------------------------------------------------


def test_delete_removes_the_item(make_event, invoke, create, tables):
    # GIVEN an item WHEN the sample DELETE runs
    item = create()
    result = invoke(make_event("delete_item", item_id=item["id"]))

    # THEN 204 with no body, and it is gone
    assert result.status == 204
    assert result.body is None
    assert tables.all_items() == []
    assert invoke(make_event("get_item", item_id=item["id"])).status == 404


def test_delete_unknown_id_is_404(make_event, invoke, create, tables):
    # GIVEN another item exists
    create()

    # WHEN an unknown id is deleted
    result = invoke(make_event("delete_item", item_id=str(uuid.uuid4())))

    # THEN 404, and the other item is untouched
    assert result.status == 404
    assert len(tables.all_items()) == 1


def test_second_delete_is_404(make_event, invoke, create):
    # GIVEN an item deleted once WHEN it is deleted again THEN the client learns it is gone
    item = create()
    assert invoke(make_event("delete_item", item_id=item["id"])).status == 204
    assert invoke(make_event("delete_item", item_id=item["id"])).status == 404


# --- routing -----------------------------------------------------------------------------


def _routed(event: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    return event


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("PATCH", "/nope")])
def test_unknown_route_is_404_json(make_event, invoke, method, path):
    # GIVEN a request for a path the API does not have (API Gateway would not route it here)
    event = _routed(make_event("list_items", query={}), method, path)

    # WHEN it is handled THEN it is a JSON 404
    result = invoke(event)
    assert result.status == 404
    assert result.body == {"message": "no such route"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/items", "GET, POST"),
        ("DELETE", "/items", "GET, POST"),
        ("TRACE", f"/items/{UNKNOWN_ID}", "DELETE, GET, PUT"),
        ("POST", f"/items/{UNKNOWN_ID}", "DELETE, GET, PUT"),
        ("PUT", "/items", "GET, POST"),  # a body method, on a path where it takes no body
        ("POST", "/openapi.json", "GET"),
    ],
)
def test_another_method_on_a_known_path_is_405_with_allow(
    make_event, invoke, tables, method, path, allowed
):
    # GIVEN a method the path does not serve, with a body not declared as JSON
    event = _routed(
        make_event("list_items", query={}, body="x=1", headers={"content-type": "text/plain"}),
        method,
        path,
    )

    # WHEN it is handled
    result = invoke(event)

    # THEN it is a 405 naming the methods the path does serve, and nothing was written
    assert result.status == 405
    assert result.headers["allow"] == allowed
    assert result.body == {"message": f"this path answers only {allowed}"}
    assert tables.all_items() == []


def test_every_sample_event_reaches_a_route(make_event, invoke):
    # GIVEN every sample event WHEN each is handled
    results = {path.stem: invoke(make_event(path.stem)) for path in sorted(EVENTS.glob("*.json"))}

    # THEN none misses the routes (samples and routes have not drifted) and none is a 5xx
    assert len(results) >= 6
    for name, result in results.items():
        assert result.body != {"message": "no such route"}, name
        assert result.status < 500, name
