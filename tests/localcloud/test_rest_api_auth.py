"""REST API access on localcloud: Lambda authorizers, their cache, API keys and usage plans."""

from __future__ import annotations

import pytest

from localcloud.services.apigateway.access import policy_effect
from localcloud.services.apigateway.service import RestApis
from localcloud.testing import App
from tests.localcloud.rest_apps import AUTHORIZER, REST_BACKEND, RestApiBuilder, authorizer_events

KEY_VALUE = "k" * 20 + "-gold"
OTHER_KEY_VALUE = "o" * 20 + "-other"


class FakeClock:
    """Stands in for the REST front's clocks: time moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _frozen(cloud) -> FakeClock:
    clock = FakeClock()
    rest = cloud.engine.service(RestApis)
    rest.clock = clock
    rest.calendar_clock = lambda: 1_767_225_600.0 + clock.now  # 2026-01-01T00:00Z onwards
    return clock


def _backend_calls(cloud) -> int:
    return sum(1 for invocation in cloud.invocations if "Backend" in invocation.function)


def _authorizer_calls(cloud) -> int:
    return sum(1 for invocation in cloud.invocations if "Authorizer" in invocation.function)


def _authorized_app(
    *,
    kind: str = "TOKEN",
    ttl: int = 300,
    identity_source: str = "method.request.header.Authorization",
    validation_expression: str | None = None,
) -> App:
    """GET /items and GET /other behind one Lambda authorizer (AUTHORIZER) in front of Backend."""
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    authorizer_function = app.function("Authorizer", AUTHORIZER)
    api = RestApiBuilder(app)
    authorizer = api.authorizer(
        "TokenAuth",
        authorizer_function,
        kind=kind,
        ttl=ttl,
        identity_source=identity_source,
        validation_expression=validation_expression,
    )
    api.method("/items", "GET", api.lambda_proxy(backend), authorizer=authorizer)
    api.method("/other", "GET", api.lambda_proxy(backend), authorizer=authorizer)
    api.finish()
    return app


def _get(cloud, path: str, **headers: str):
    return cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + path, headers=headers)


# -- TOKEN authorizers -------------------------------------------------------------------------


def test_a_request_without_the_token_is_401_and_the_authorizer_is_not_called(launch):
    cloud = launch(_authorized_app())

    response = _get(cloud, "items")

    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})
    assert cloud.invocations == []


def test_a_token_failing_the_validation_expression_is_401_without_calling_the_authorizer(launch):
    cloud = launch(_authorized_app(validation_expression="^allow-[a-z]+$"))

    refused = _get(cloud, "items", Authorization="allow-Bob42")
    allowed = _get(cloud, "items", Authorization="allow-bob")

    assert refused.status == 401
    assert allowed.status == 200
    assert _authorizer_calls(cloud) == 1


def test_an_authorizer_raising_unauthorized_is_401_and_the_backend_is_not_called(launch):
    cloud = launch(_authorized_app())

    response = _get(cloud, "items", Authorization="forged")

    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})
    assert (_authorizer_calls(cloud), _backend_calls(cloud)) == (1, 0)


def test_a_deny_policy_is_403_and_the_backend_is_not_called(launch):
    cloud = launch(_authorized_app())

    response = _get(cloud, "items", Authorization="deny")

    # An explicit Deny is worded apart from a policy that merely does not cover the method.
    assert (response.status, response.json()) == (
        403,
        {"message": "User is not authorized to access this resource with an explicit deny"},
    )
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert _backend_calls(cloud) == 0


@pytest.mark.parametrize(
    ("token", "answer_change"),
    [
        ("allow-alice", ('"principalId": token.removeprefix("allow-"),', "")),
        ("allow-alice", ('"context": {"tier"', '"context": {"nested": {}, "tier"')),
    ],
    ids=["no-principal-id", "nested-context"],
)
def test_an_authorizer_answer_api_gateway_cannot_use_is_500_with_a_null_message(
    launch, token, answer_change
):
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    authorizer_function = app.function("Authorizer", AUTHORIZER.replace(*answer_change))
    api = RestApiBuilder(app)
    authorizer = api.authorizer("TokenAuth", authorizer_function)
    api.method("/items", "GET", api.lambda_proxy(backend), authorizer=authorizer)
    api.finish()
    cloud = launch(app)

    response = _get(cloud, "items", Authorization=token)

    assert (response.status, response.json()) == (500, {"message": None})
    assert response.headers["x-amzn-errortype"] == "AuthorizerConfigurationException"
    assert _backend_calls(cloud) == 0


def test_the_policy_is_checked_against_the_method_arn_with_wildcards(launch):
    cloud = launch(_authorized_app(ttl=0))

    # "only-items" allows arn:...:{api}/*/GET/items: any stage, this method and path only
    assert _get(cloud, "items", Authorization="only-items").status == 200
    uncovered = _get(cloud, "other", Authorization="only-items")
    assert (uncovered.status, uncovered.json()) == (
        403,
        {"message": "User is not authorized to access this resource"},
    )
    assert _backend_calls(cloud) == 1


@pytest.mark.parametrize(
    ("statements", "effect"),
    [
        ([{"Effect": "Allow", "Action": "execute-api:invoke", "Resource": "*"}], "Allow"),
        ([{"Effect": "Allow", "Action": "execute-api:*", "Resource": "arn:*/prod/GET/*"}], "Allow"),
        ([{"Effect": "Allow", "Action": "*", "Resource": "arn:*/dev/*"}], None),
        ([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], None),
        (
            [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "arn:*/GET/items"},
            ],
            "Deny",
        ),
    ],
    ids=["action-any-case", "stage-and-method", "other-stage", "other-action", "deny-wins"],
)
def test_a_policy_says_allow_explicit_deny_or_nothing_for_a_method_arn(statements, effect):
    arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items"

    assert policy_effect({"Version": "2012-10-17", "Statement": statements}, arn) == effect


def test_an_explicit_deny_wins_over_an_allow(launch):
    cloud = launch(_authorized_app())

    # "all-but-other" allows {api}/* and denies {api}/*/GET/other
    assert _get(cloud, "items", Authorization="all-but-other").status == 200
    assert _get(cloud, "other", Authorization="all-but-other").status == 403
    assert _backend_calls(cloud) == 1


def test_an_allow_passes_principal_and_context_to_the_backend(launch):
    cloud = launch(_authorized_app())

    response = _get(cloud, "items", Authorization="allow-alice")

    assert response.status == 200
    authorizer = response.json()["requestContext"]["authorizer"]
    # The context's values arrive as strings; API Gateway adds the authorizer's latency (ms).
    latency = authorizer.pop("integrationLatency")
    assert authorizer == {"principalId": "alice", "tier": "gold", "seats": "3", "admin": "false"}
    assert isinstance(latency, int)
    assert latency >= 0


def test_the_token_authorizer_gets_the_token_and_the_method_arn(launch):
    cloud = launch(_authorized_app())

    _get(cloud, "items", Authorization="allow-alice")

    api_id = cloud.outputs("Stack")["ApiId"]
    [authorizer_event] = authorizer_events(cloud)
    assert authorizer_event == {
        "type": "TOKEN",
        "authorizationToken": "allow-alice",
        "methodArn": f"arn:aws:execute-api:eu-west-1:123456789012:{api_id}/prod/GET/items",
    }


# -- caching -------------------------------------------------------------------------------


def test_a_cached_decision_is_reused_for_the_same_token_within_the_ttl(launch):
    cloud = launch(_authorized_app(ttl=300))
    clock = _frozen(cloud)

    first = _get(cloud, "items", Authorization="allow-alice")
    clock.now += 299
    second = _get(cloud, "other", Authorization="allow-alice")

    assert (first.status, second.status) == (200, 200)
    assert _authorizer_calls(cloud) == 1
    assert second.json()["requestContext"]["authorizer"]["principalId"] == "alice"
    # No authorizer ran for the cached decision.
    assert second.json()["requestContext"]["authorizer"]["integrationLatency"] == 0


def test_the_authorizer_is_called_again_once_the_ttl_is_over(launch):
    cloud = launch(_authorized_app(ttl=300))
    clock = _frozen(cloud)

    _get(cloud, "items", Authorization="allow-alice")
    clock.now += 300
    _get(cloud, "items", Authorization="allow-alice")

    assert _authorizer_calls(cloud) == 2


def test_a_cached_policy_is_evaluated_against_each_request(launch):
    cloud = launch(_authorized_app(ttl=300))

    # The decision cached for GET /items does not open GET /other.
    assert _get(cloud, "items", Authorization="only-items").status == 200
    assert _get(cloud, "other", Authorization="only-items").status == 403
    assert _authorizer_calls(cloud) == 1


def test_a_ttl_of_zero_calls_the_authorizer_every_time(launch):
    cloud = launch(_authorized_app(ttl=0))

    for _ in range(3):
        _get(cloud, "items", Authorization="allow-alice")

    assert _authorizer_calls(cloud) == 3


# -- REQUEST authorizers ------------------------------------------------------------------------


def _request_authorizer_app(ttl: int = 300) -> App:
    return _authorized_app(
        kind="REQUEST",
        ttl=ttl,
        identity_source="method.request.header.X-Token,method.request.querystring.tenant",
    )


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?tenant=t1", {}), ("", {"X-Token": "allow-alice"})],
    ids=["header-missing", "query-missing"],
)
def test_a_request_authorizer_refuses_a_request_missing_an_identity_source(launch, query, headers):
    cloud = launch(_request_authorizer_app())

    response = _get(cloud, "items" + query, **headers)

    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})
    assert cloud.invocations == []


def test_a_request_authorizer_gets_the_request_and_caches_by_all_identity_sources(launch):
    cloud = launch(_request_authorizer_app())

    _get(cloud, "items?tenant=t1", **{"X-Token": "allow-alice"})
    _get(cloud, "items?tenant=t1", **{"X-Token": "allow-alice"})
    _get(cloud, "items?tenant=t2", **{"X-Token": "allow-alice"})

    events = authorizer_events(cloud)
    assert len(events) == 2
    assert events[0]["type"] == "REQUEST"
    assert events[0]["methodArn"].endswith("/prod/GET/items")
    api_id = cloud.outputs("Stack")["ApiId"]
    assert events[0]["headers"] == {
        "X-Token": "allow-alice",
        "Host": f"{api_id}.execute-api.eu-west-1.amazonaws.com",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    assert events[0]["queryStringParameters"] == {"tenant": "t1"}
    assert events[0]["requestContext"]["resourcePath"] == "/items"
    assert _backend_calls(cloud) == 3


# -- API keys and usage plans --------------------------------------------------------------------


def _keyed_app(
    *,
    throttle: dict | None = None,
    quota: dict | None = None,
    method_throttle: dict | None = None,
    enabled: bool = True,
) -> App:
    """GET /items and GET /other need an API key; KEY_VALUE is in a plan, OTHER_KEY_VALUE is not."""
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    api.method("/items", "GET", api.lambda_proxy(backend), api_key_required=True)
    api.method("/other", "GET", api.lambda_proxy(backend), api_key_required=True)
    api.method("/open", "GET", api.lambda_proxy(backend))
    key = api.api_key("Key", value=KEY_VALUE, enabled=enabled)
    api.api_key("OtherKey", value=OTHER_KEY_VALUE)
    api.usage_plan(
        "Plan", keys=[key], throttle=throttle, quota=quota, method_throttle=method_throttle
    )
    api.finish()
    return app


def test_api_keys_and_plans_are_in_moto(launch):
    cloud = launch(_keyed_app(throttle={"BurstLimit": 2, "RateLimit": 10}))
    apigateway = cloud.client("apigateway")

    keys = {key["value"]: key for key in apigateway.get_api_keys(includeValues=True)["items"]}
    [plan] = apigateway.get_usage_plans()["items"]

    assert set(keys) == {KEY_VALUE, OTHER_KEY_VALUE}
    assert plan["throttle"] == {"burstLimit": 2, "rateLimit": 10.0}
    assert plan["apiStages"][0]["stage"] == "prod"
    plan_keys = apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [key["id"] for key in plan_keys] == [keys[KEY_VALUE]["id"]]


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "not-a-key-of-this-account"}, {"x-api-key": OTHER_KEY_VALUE}],
    ids=["no-key", "unknown-key", "key-in-no-plan"],
)
def test_a_method_needing_a_key_refuses_a_missing_unknown_or_unplanned_key(launch, headers):
    cloud = launch(_keyed_app())

    response = _get(cloud, "items", **headers)

    assert (response.status, response.json()) == (403, {"message": "Forbidden"})
    assert cloud.invocations == []


def test_a_disabled_key_is_refused(launch):
    cloud = launch(_keyed_app(enabled=False))

    assert _get(cloud, "items", **{"x-api-key": KEY_VALUE}).status == 403


def test_a_valid_key_reaches_the_backend_with_its_identity(launch):
    cloud = launch(_keyed_app())

    response = _get(cloud, "items", **{"x-api-key": KEY_VALUE})
    open_response = _get(cloud, "open")

    assert response.status == 200
    identity = response.json()["requestContext"]["identity"]
    keys = cloud.client("apigateway").get_api_keys(includeValues=True)["items"]
    key_id = next(key["id"] for key in keys if key["value"] == KEY_VALUE)
    assert (identity["apiKey"], identity["apiKeyId"]) == (KEY_VALUE, key_id)
    assert open_response.status == 200


def test_the_request_after_a_burst_is_throttled_with_429(launch):
    cloud = launch(_keyed_app(throttle={"BurstLimit": 2, "RateLimit": 1}))
    clock = _frozen(cloud)

    statuses = [_get(cloud, "items", **{"x-api-key": KEY_VALUE}).status for _ in range(3)]
    throttled = _get(cloud, "items", **{"x-api-key": KEY_VALUE})
    clock.now += 1  # one second refills one token at 1 request per second
    after_refill = _get(cloud, "items", **{"x-api-key": KEY_VALUE})

    assert statuses == [200, 200, 429]
    assert (throttled.status, throttled.json()) == (429, {"message": "Too Many Requests"})
    assert after_refill.status == 200
    assert _backend_calls(cloud) == 3


def test_a_method_throttle_in_the_plan_applies_to_that_method_only(launch):
    cloud = launch(_keyed_app(method_throttle={"/items/GET": {"BurstLimit": 1, "RateLimit": 1}}))
    _frozen(cloud)

    items = [_get(cloud, "items", **{"x-api-key": KEY_VALUE}).status for _ in range(2)]
    other = [_get(cloud, "other", **{"x-api-key": KEY_VALUE}).status for _ in range(2)]

    assert items == [200, 429]
    assert other == [200, 200]


def test_a_daily_quota_refuses_the_request_over_it_until_the_next_day(launch):
    cloud = launch(_keyed_app(quota={"Limit": 3, "Period": "DAY"}))
    clock = _frozen(cloud)

    statuses = [_get(cloud, "items", **{"x-api-key": KEY_VALUE}).status for _ in range(4)]
    over = _get(cloud, "other", **{"x-api-key": KEY_VALUE})
    clock.now += 86_400
    next_day = _get(cloud, "items", **{"x-api-key": KEY_VALUE})

    assert statuses == [200, 200, 200, 429]
    assert (over.status, over.json()) == (429, {"message": "Limit Exceeded"})
    assert next_day.status == 200
    assert _backend_calls(cloud) == 4


def test_a_quota_offset_takes_requests_off_the_initial_period_only(launch):
    cloud = launch(_keyed_app(quota={"Limit": 3, "Offset": 2, "Period": "DAY"}))
    clock = _frozen(cloud)

    first_day = [_get(cloud, "items", **{"x-api-key": KEY_VALUE}).status for _ in range(2)]
    clock.now += 86_400
    second_day = [_get(cloud, "items", **{"x-api-key": KEY_VALUE}).status for _ in range(4)]

    # Offset is "the number of requests subtracted from the given limit in the initial time
    # period": 3 - 2 the first day, the whole limit after.
    assert first_day == [200, 429]
    assert second_day == [200, 200, 200, 429]


def test_a_weekly_quota_lasts_until_the_next_sunday(launch):
    cloud = launch(_keyed_app(quota={"Limit": 1, "Period": "WEEK"}))
    clock = _frozen(cloud)  # 2026-01-01 is a Thursday

    thursday = [_get(cloud, "items", **{"x-api-key": KEY_VALUE}).status for _ in range(2)]
    clock.now += 2 * 86_400
    saturday = _get(cloud, "items", **{"x-api-key": KEY_VALUE}).status
    clock.now += 86_400
    sunday = _get(cloud, "items", **{"x-api-key": KEY_VALUE}).status

    assert (thursday, saturday, sunday) == ([200, 429], 429, 200)


def test_the_key_can_come_from_the_authorizer(launch):
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    authorizer_function = app.function(
        "Authorizer",
        AUTHORIZER.replace('"context": {', f'"usageIdentifierKey": "{KEY_VALUE}", "context": {{'),
    )
    api = RestApiBuilder(app, api_key_source="AUTHORIZER")
    authorizer = api.authorizer("TokenAuth", authorizer_function)
    api.method(
        "/items", "GET", api.lambda_proxy(backend), authorizer=authorizer, api_key_required=True
    )
    api.usage_plan("Plan", keys=[api.api_key("Key", value=KEY_VALUE)])
    api.finish()
    cloud = launch(app)

    response = _get(cloud, "items", Authorization="allow-alice")

    assert response.status == 200
    assert response.json()["requestContext"]["identity"]["apiKey"] == KEY_VALUE
