"""The API gateway end to end on localcloud: the gateway refuses (401, 403, 429, 400) before any
backend runs, and routes what it lets through to the right backend, the queue included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from api_gateway import contract
from api_gateway.contract import IDEMPOTENCY_KEY_HEADER, Scope, Tier
from demo.token_issuer import TokenIssuer
from localcloud import LocalCloud
from localcloud.services.apigateway.service import RestApis
from tests.synth import CloudAssembly

STACK = "ApiGateway"
ALL_SCOPES = [scope.value for scope in Scope]


class FrozenClock:
    """Stands in for the REST front's clocks: rate limits and quotas move only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture(scope="module")
def cloud(dev_assembly: CloudAssembly, issuer: TokenIssuer) -> Iterator[LocalCloud]:
    """The ApiGateway stack alone, deployed once, trusting this module's token issuer."""
    with LocalCloud(dev_assembly.outdir) as cloud:
        cloud.deploy(STACK)
        cloud.client("ssm").put_parameter(
            Name=cloud.outputs(STACK)[contract.OUTPUT_JWKS_PARAMETER_NAME],
            Value=json.dumps(issuer.key_set()),
            Overwrite=True,
        )
        yield cloud


@pytest.fixture(scope="module")
def clock(cloud: LocalCloud) -> FrozenClock:
    frozen = FrozenClock()
    rest = cloud.engine.service(RestApis)
    rest.clock = frozen
    rest.calendar_clock = lambda: 1_767_225_600.0 + frozen.now  # 2026-01-01T00:00Z onwards
    return frozen


@pytest.fixture
def outputs(cloud: LocalCloud) -> dict[str, str]:
    return cloud.outputs(STACK)


@pytest.fixture
def fresh_key(cloud: LocalCloud, outputs: dict[str, str]):
    """`fresh_key(tier)`: a new API key in the tier's usage plan, its limits untouched."""
    apigateway = cloud.client("apigateway")

    def make(tier: Tier) -> str:
        tier_key = apigateway.get_api_key(apiKey=outputs[contract.output_api_key_id(tier)])
        plan = next(
            plan
            for plan in apigateway.get_usage_plans()["items"]
            if plan["id"]
            in {
                key_plan["id"]
                for key_plan in apigateway.get_usage_plans(keyId=tier_key["id"])["items"]
            }
        )
        key = apigateway.create_api_key(name=f"test-{tier.value}", enabled=True)
        apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        return key["value"]

    return make


@pytest.fixture
def basic_key(cloud: LocalCloud, outputs: dict[str, str], clock: FrozenClock) -> str:
    # A minute later, the tier's token bucket is full again whatever the last test took.
    clock.now += 60
    key_id = outputs[contract.output_api_key_id(Tier.BASIC)]
    return cloud.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)["value"]


def _call(
    cloud: LocalCloud,
    outputs: dict[str, str],
    method: str,
    path: str,
    *,
    api_key: str | None,
    authorization: str | None,
    body: Any = None,
    headers: dict[str, str] | None = None,
):
    sent = {"Content-Type": "application/json", **(headers or {})}
    if api_key is not None:
        sent["x-api-key"] = api_key
    if authorization is not None:
        sent["Authorization"] = authorization
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return cloud.http(method, outputs[contract.OUTPUT_API_URL] + path, body=text, headers=sent)


def _invoked(cloud: LocalCloud, since: int, construct: str) -> int:
    """Invocations since index `since` of the function whose name holds `construct`."""
    return sum(1 for inv in cloud.invocations[since:] if construct in inv.function)


def _backend_calls(cloud: LocalCloud, since: int) -> int:
    return sum(_invoked(cloud, since, name) for name in ("Catalog", "Orders", "FeedbackConsumer"))


def test_a_request_without_a_token_is_401_and_reaches_nothing(cloud, outputs, basic_key):
    before = len(cloud.invocations)

    response = _call(cloud, outputs, "GET", "catalog/items", api_key=basic_key, authorization=None)

    assert response.status == 401
    assert response.json()["error"] == "UNAUTHORIZED"
    assert response.json()["message"] == "Unauthorized"
    # The identity source is missing: API Gateway answers without invoking the authorizer.
    assert len(cloud.invocations) == before


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1_000_000_000},
        {"aud": "https://another-api.example.com"},
        {"iss": "https://impostor.example.com/"},
        {"sub": ""},
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "no-subject"],
)
def test_a_token_failing_a_check_is_401(cloud, outputs, basic_key, issuer, claims):
    before = len(cloud.invocations)

    response = _call(
        cloud,
        outputs,
        "GET",
        "catalog/items",
        api_key=basic_key,
        authorization=issuer.bearer("mallory", ALL_SCOPES, **claims),
    )

    assert (response.status, response.json()["error"]) == (401, "UNAUTHORIZED")
    assert _invoked(cloud, before, "Authorizer") == 1
    assert _backend_calls(cloud, before) == 0


def test_a_token_signed_by_another_key_is_401(cloud, outputs, basic_key):
    impostor = TokenIssuer()  # same issuer and audience, a key the API does not trust
    before = len(cloud.invocations)

    response = _call(
        cloud,
        outputs,
        "GET",
        "catalog/items",
        api_key=basic_key,
        authorization=impostor.bearer("mallory", ALL_SCOPES),
    )

    assert response.status == 401
    assert _backend_calls(cloud, before) == 0


def test_a_token_without_the_routes_scope_is_403_and_the_policy_is_cached(
    cloud, outputs, basic_key, issuer
):
    token = issuer.bearer("bob", [Scope.ORDERS_READ])
    before = len(cloud.invocations)

    refused = _call(cloud, outputs, "GET", "catalog/items", api_key=basic_key, authorization=token)
    refused_again = _call(
        cloud,
        outputs,
        "POST",
        "feedback",
        api_key=basic_key,
        authorization=token,
        body={"rating": 3},
    )

    assert (refused.status, refused.json()["error"]) == (403, "ACCESS_DENIED")
    assert refused.json()["message"] == "User is not authorized to access this resource"
    assert refused_again.status == 403
    # One verification for both routes: the policy API Gateway cached covers every route.
    assert _invoked(cloud, before, "Authorizer") == 1
    assert _backend_calls(cloud, before) == 0


def test_a_request_without_an_api_key_is_403(cloud, outputs, issuer):
    response = _call(
        cloud,
        outputs,
        "GET",
        "catalog/items",
        api_key=None,
        authorization=issuer.bearer("alice", ALL_SCOPES),
    )

    assert (response.status, response.json()["message"]) == (403, "Forbidden")


def test_the_catalog_route_reaches_the_catalog_service(cloud, outputs, basic_key, issuer):
    before = len(cloud.invocations)

    response = _call(
        cloud,
        outputs,
        "GET",
        "catalog/items?category=gears",
        api_key=basic_key,
        authorization=issuer.bearer("alice", [Scope.CATALOG_READ]),
        headers={"Origin": "https://app.example.com"},
    )

    assert response.status == 200
    assert response.json()["backend"] == "catalog"
    assert [item["item_id"] for item in response.json()["items"]] == ["gear-12"]
    assert (_invoked(cloud, before, "Catalog"), _invoked(cloud, before, "Orders")) == (1, 0)
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"


def test_the_orders_routes_reach_the_orders_service_as_the_tokens_subject(
    cloud, outputs, basic_key, issuer
):
    alice = issuer.bearer("alice", [Scope.ORDERS_WRITE, Scope.ORDERS_READ])
    eve = issuer.bearer("eve", [Scope.ORDERS_READ])
    order = {"item_id": "red-widget", "quantity": 3}
    before = len(cloud.invocations)

    created = _call(
        cloud,
        outputs,
        "POST",
        "orders",
        api_key=basic_key,
        authorization=alice,
        body=order,
        headers={IDEMPOTENCY_KEY_HEADER: "order-1"},
    )
    retried = _call(
        cloud,
        outputs,
        "POST",
        "orders",
        api_key=basic_key,
        authorization=alice,
        body=order,
        headers={IDEMPOTENCY_KEY_HEADER: "order-1"},
    )
    order_id = created.json()["order_id"]
    read = _call(
        cloud, outputs, "GET", f"orders/{order_id}", api_key=basic_key, authorization=alice
    )
    not_hers = _call(
        cloud, outputs, "GET", f"orders/{order_id}", api_key=basic_key, authorization=eve
    )

    assert created.status == 201
    assert created.json() | {"order_id": "?"} == {
        "backend": "orders",
        "order_id": "?",
        "customer": "alice",
        "item_id": "red-widget",
        "quantity": 3,
        "total": "15.75",
    }
    assert (retried.status, retried.json()["order_id"]) == (200, order_id)
    assert (read.status, read.json()["customer"]) == (200, "alice")
    assert not_hers.status == 404
    assert (_invoked(cloud, before, "Orders"), _invoked(cloud, before, "Catalog")) == (4, 0)
    stored = cloud.client("dynamodb").get_item(
        TableName=outputs[contract.OUTPUT_ORDERS_TABLE_NAME], Key={"order_id": {"S": order_id}}
    )["Item"]
    assert (stored["customer"]["S"], stored["quantity"]["N"]) == ("alice", "3")


@pytest.mark.parametrize(
    ("path", "body", "headers", "detail"),
    [
        (
            "orders",
            {"item_id": "red-widget", "quantity": 0},
            {IDEMPOTENCY_KEY_HEADER: "k"},
            "minimum",
        ),
        ("orders", {"item_id": "red-widget"}, {IDEMPOTENCY_KEY_HEADER: "k"}, "required"),
        (
            "orders",
            {"item_id": "red-widget", "quantity": 1, "price": 0},
            {IDEMPOTENCY_KEY_HEADER: "k"},
            "additional",
        ),
        ("orders", {"item_id": "red-widget", "quantity": 1}, {}, "Idempotency-Key"),
        ("feedback", {"rating": 9}, {}, "maximum"),
        ("feedback", "not json", {}, ""),
    ],
    ids=[
        "quantity-zero",
        "no-quantity",
        "extra-field",
        "no-idempotency-key",
        "rating-9",
        "not-json",
    ],
)
def test_an_invalid_request_is_400_and_no_backend_runs(
    cloud, outputs, basic_key, issuer, path, body, headers, detail
):
    token = issuer.bearer("alice", ALL_SCOPES)
    queue_url = outputs[contract.OUTPUT_FEEDBACK_QUEUE_URL]
    before = len(cloud.invocations)

    response = _call(
        cloud,
        outputs,
        "POST",
        path,
        api_key=basic_key,
        authorization=token,
        body=body,
        headers=headers,
    )

    assert response.status == 400
    assert response.json()["error"] in {"BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS"}
    assert detail.lower() in json.dumps(response.json()).lower()
    assert _backend_calls(cloud, before) == 0
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_feedback_goes_to_the_queue_reshaped_and_its_consumer_stores_it(
    cloud, outputs, basic_key, issuer
):
    before = len(cloud.invocations)
    with cloud.delivery_held():
        response = _call(
            cloud,
            outputs,
            "POST",
            "feedback",
            api_key=basic_key,
            authorization=issuer.bearer("carol", [Scope.FEEDBACK_WRITE]),
            body={"rating": 4, "comment": 'Fast "delivery"\nthanks'},
        )
        # Storage-first: no function ran on the request's path.
        assert _backend_calls(cloud, before) == 0
        [message] = cloud.client("sqs").receive_message(
            QueueUrl=outputs[contract.OUTPUT_FEEDBACK_QUEUE_URL], VisibilityTimeout=0
        )["Messages"]
    cloud.settle()

    feedback_id = response.json()["feedback_id"]
    assert (response.status, response.json()["status"]) == (202, "accepted")
    body = json.loads(message["Body"])
    assert set(body) == set(contract.FEEDBACK_MESSAGE_FIELDS)
    assert {k: body[k] for k in ("feedback_id", "customer", "rating", "comment")} == {
        "feedback_id": feedback_id,
        "customer": "carol",
        "rating": 4,
        "comment": 'Fast "delivery"\nthanks',
    }
    assert _invoked(cloud, before, "FeedbackConsumer") == 1
    stored = cloud.client("dynamodb").get_item(
        TableName=outputs[contract.OUTPUT_FEEDBACK_TABLE_NAME],
        Key={"feedback_id": {"S": feedback_id}},
    )["Item"]
    assert (stored["customer"]["S"], stored["rating"]["N"]) == ("carol", "4")


def test_over_the_tiers_rate_is_429_until_the_bucket_refills(
    cloud, outputs, issuer, clock, fresh_key
):
    key = fresh_key(Tier.BASIC)
    token = issuer.bearer("dave", [Scope.CATALOG_READ])
    before = len(cloud.invocations)

    # The basic tier's burst is 10 requests; the clock stands still, so nothing refills.
    statuses = [
        _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token).status
        for _ in range(11)
    ]
    throttled = _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token)
    clock.now += 1  # 5 requests per second refill five tokens
    after = _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token)

    assert statuses == [200] * 10 + [429]
    assert (throttled.status, throttled.json()["error"]) == (429, "THROTTLED")
    assert throttled.json()["message"] == "Too Many Requests"
    assert after.status == 200
    assert _invoked(cloud, before, "Catalog") == 11


def test_the_premium_tier_takes_the_burst_the_basic_tier_refuses(cloud, outputs, issuer, fresh_key):
    key = fresh_key(Tier.PREMIUM)
    token = issuer.bearer("erin", [Scope.CATALOG_READ])

    statuses = {
        _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token).status
        for _ in range(11)
    }

    assert statuses == {200}


def test_over_the_daily_quota_is_429_until_the_next_day(cloud, outputs, issuer, clock, fresh_key):
    apigateway = cloud.client("apigateway")
    key = fresh_key(Tier.BASIC)
    [plan] = [
        plan for plan in apigateway.get_usage_plans()["items"] if plan["quota"]["limit"] == 10_000
    ]
    token = issuer.bearer("frank", [Scope.CATALOG_READ])
    # The basic tier allows 10,000 a day; a quota of 3 shows the same rule in four requests.
    apigateway.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "3"}],
    )
    try:
        statuses = [
            _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token).status
            for _ in range(4)
        ]
        over = _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token)
        clock.now += 86_400
        next_day = _call(cloud, outputs, "GET", "catalog/items", api_key=key, authorization=token)
    finally:
        apigateway.update_usage_plan(
            usagePlanId=plan["id"],
            patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "10000"}],
        )

    assert statuses == [200, 200, 200, 429]
    assert (over.status, over.json()["error"]) == (429, "QUOTA_EXCEEDED")
    assert over.json()["message"] == "Limit Exceeded"
    assert next_day.status == 200


def test_a_cors_preflight_answers_without_a_token_or_a_backend(cloud, outputs):
    before = len(cloud.invocations)

    response = cloud.http(
        "OPTIONS",
        outputs[contract.OUTPUT_API_URL] + "orders",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )

    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "Idempotency-Key" in response.headers["access-control-allow-headers"].split(",")
    assert len(cloud.invocations) == before


def test_a_queued_message_that_is_not_feedback_ends_in_the_dlq_with_its_reason(cloud, outputs):
    sqs = cloud.client("sqs")
    before = len(cloud.invocations)

    sqs.send_message(
        QueueUrl=outputs[contract.OUTPUT_FEEDBACK_QUEUE_URL], MessageBody='{"rating": "five"}'
    )
    cloud.settle()

    [dead] = sqs.receive_message(
        QueueUrl=outputs[contract.OUTPUT_FEEDBACK_DEAD_LETTER_QUEUE_URL],
        MessageAttributeNames=["All"],
    )["Messages"]
    assert dead["Body"] == '{"rating": "five"}'
    reason = dead["MessageAttributes"][contract.FAILURE_REASON_ATTRIBUTE]["StringValue"]
    assert reason.startswith("InvalidFeedbackError: not a feedback message")
    # Dead-lettered on its first delivery: a message that is not feedback never will be.
    assert _invoked(cloud, before, "FeedbackConsumer") == 1
