"""The orders API and the event starter on moto: an order is recorded once and starts one saga
on its workflow, however often it is placed; bad input gets a clear 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import ANY, Stubber
from shared import aws

from orchestration import api, events, logic
from orchestration.contract import OrderStatus, Workflow
from orchestration.errors import InvalidOrderError
from tests.functional.orchestration.conftest import STOCK

DURABLE_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:saga-durable:$LATEST"


def _request(sample_event, method: str, path: str, body: object | None = None) -> dict:
    event = sample_event("http_place_order.json")
    event["rawPath"] = path
    event["routeKey"] = f"{method} {path}"
    event["requestContext"]["http"].update(method=method, path=path)
    event["body"] = None if body is None else json.dumps(body)
    return event


def _call(sample_event, lambda_context, method: str, path: str, body: object | None = None):
    response = api.handler(_request(sample_event, method, path, body), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def _executions(saga) -> list[dict]:
    return boto3.client("stepfunctions").list_executions(stateMachineArn=saga.state_machine_arn)[
        "executions"
    ]


def test_an_order_placed_through_the_api_is_recorded_and_starts_its_execution(
    saga, sample_event, lambda_context
):
    response = api.handler(sample_event("http_place_order.json"), lambda_context)

    body = json.loads(response["body"])
    assert response["statusCode"] == 202
    assert response["headers"]["Location"] == "/orders/order-3003"
    assert body["status"] == OrderStatus.RUNNING.value
    assert body["workflow"] == Workflow.STEP_FUNCTIONS.value
    [execution] = _executions(saga)
    assert execution["name"] == "order-3003"
    assert body["execution_id"] == execution["executionArn"]
    started = boto3.client("stepfunctions").describe_execution(
        executionArn=execution["executionArn"]
    )
    assert json.loads(started["input"])["order_id"] == "order-3003"
    assert "workflow" not in json.loads(started["input"])


def test_the_same_order_placed_again_starts_nothing_new(saga, order, sample_event, lambda_context):
    placed = order("o-1")

    first = _call(sample_event, lambda_context, "POST", "/orders", placed)
    again = _call(sample_event, lambda_context, "POST", "/orders", placed)

    assert first == again
    assert [execution["name"] for execution in _executions(saga)] == ["o-1"]


def test_another_order_under_a_taken_id_is_a_conflict(saga, order, sample_event, lambda_context):
    _call(sample_event, lambda_context, "POST", "/orders", order("o-1"))

    status, body = _call(
        sample_event, lambda_context, "POST", "/orders", order("o-1", customer_id="someone-else")
    )

    assert status == 409
    assert "placed before with other content" in body["message"]
    assert len(_executions(saga)) == 1


def test_an_invalid_order_is_refused_with_every_problem_located(
    saga, order, sample_event, lambda_context
):
    status, body = _call(
        sample_event,
        lambda_context,
        "POST",
        "/orders",
        order("o-1", lines=[{"sku": "BOOK-1", "quantity": 0, "unit_price_cents": 1}]),
    )

    assert status == 422
    assert body["message"] == "request validation failed"
    assert [problem["location"] for problem in body["errors"]] == ["body.lines.0.quantity"]
    assert _executions(saga) == []
    assert saga.stock() == STOCK


def test_an_unknown_order_is_404_and_an_approval_nobody_asked_for_is_409(
    saga, order, sample_event, lambda_context
):
    _call(sample_event, lambda_context, "POST", "/orders", order("o-1"))

    unknown = _call(sample_event, lambda_context, "GET", "/orders/o-404")
    unasked = _call(
        sample_event, lambda_context, "POST", "/orders/o-1/approval", {"approved": True}
    )

    assert unknown == (404, {"message": "order 'o-404' does not exist"})
    assert unasked == (409, {"message": "order 'o-1' is not waiting for an approval"})


@pytest.fixture
def lambda_stub(saga) -> Iterator[Stubber]:
    """The starters' Lambda client, answering as Lambda does a durable start (moto does not
    run durable functions; localcloud's end-to-end tests do)."""
    with Stubber(aws.client("lambda")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_an_order_placed_event_starts_a_durable_execution_named_after_the_order(
    saga, sample_event, lambda_context, lambda_stub
):
    execution_arn = f"{DURABLE_ARN}/durable-execution/order-2002/e1"
    lambda_stub.add_response(
        "invoke",
        {"StatusCode": 202, "DurableExecutionArn": execution_arn},
        expected_params={
            "FunctionName": DURABLE_ARN,
            "InvocationType": "Event",
            "DurableExecutionName": "order-2002",
            "Payload": ANY,
        },
    )

    answer = events.handler(sample_event("order_placed_event.json"), lambda_context)

    assert answer == {"order_id": "order-2002", "status": "RUNNING"}
    record = saga.table.order("order-2002")
    assert (record.workflow, record.execution_id) == (Workflow.DURABLE_FUNCTION, execution_arn)
    # The duplicated event finds the saga started: no second invoke (the stub has none left).
    assert events.handler(sample_event("order_placed_event.json"), lambda_context) == answer


def test_an_approval_reaches_the_durable_callback_the_saga_kept(
    saga, order, sample_event, lambda_context, lambda_stub
):
    placed = order("o-1")
    saga.table.record_order(
        logic.parse_order(placed),
        workflow=Workflow.DURABLE_FUNCTION,
        fingerprint="f",
    )
    saga.table.await_approval("o-1", workflow=Workflow.DURABLE_FUNCTION, token="callback-1")
    lambda_stub.add_response(
        "send_durable_execution_callback_failure",
        {},
        expected_params={
            "CallbackId": "callback-1",
            "Error": {"ErrorType": "ApprovalRejected", "ErrorMessage": "too large"},
        },
    )

    status, body = _call(
        sample_event,
        lambda_context,
        "POST",
        "/orders/o-1/approval",
        {"approved": False, "comment": "too large"},
    )

    assert status == 202
    assert body["status"] == OrderStatus.AWAITING_APPROVAL.value
    assert saga.table.approval("o-1")["status"] == "REJECTED"
    # A second decision finds none pending.
    again = _call(sample_event, lambda_context, "POST", "/orders/o-1/approval", {"approved": True})
    assert again[0] == 409


def test_an_invalid_event_fails_its_invocation_so_lambda_retries_then_dead_letters_it(
    saga, sample_event, lambda_context
):
    event = sample_event("order_placed_event.json")
    del event["detail"]["lines"]

    with pytest.raises(InvalidOrderError, match="invalid order: lines: Field required"):
        events.handler(event, lambda_context)
