"""REST API integrations on localcloud: validation, mapping templates, AWS services, MOCK,
Lambda without proxy, passthrough behaviour and gateway responses."""

from __future__ import annotations

import json
import textwrap

import pytest

from localcloud.testing import App, get_att, ref
from tests.localcloud.apps import bodies, drain
from tests.localcloud.rest_apps import AUTHORIZER, REST_BACKEND, RestApiBuilder, service_uri

CUSTOM_BACKEND = textwrap.dedent(
    '''
    """A Lambda behind a non-proxy integration: doubles n, refuses a negative one (below -1
    with a second line in its error message)."""


    def handler(event, context):
        if event.get("n", 0) < 0:
            detail = "\\nsecond line" if event["n"] < -1 else ""
            raise ValueError(f"Bad n: {event['n']}{detail}")
        return {"doubled": event.get("n", 0) * 2, "who": event.get("who")}
    '''
)


def _post(cloud, path: str, body: str, content_type: str = "application/json", **headers):
    return cloud.http(
        "POST",
        cloud.outputs("Stack")["ApiUrl"] + path,
        body=body,
        headers={"Content-Type": content_type, **headers},
    )


def _backend_calls(cloud) -> int:
    return sum(1 for invocation in cloud.invocations if "Backend" in invocation.function)


# -- request validation --------------------------------------------------------------------------


def _validated_app(bad_body_template: str | None = None) -> App:
    """PUT /items/{id}: body must be {"name": string, "qty": integer >= 1}; ?mode required."""
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    api = RestApiBuilder(app)
    model = api.model(
        "ItemModel",
        {
            "type": "object",
            "required": ["name", "qty"],
            "properties": {"name": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
        },
    )
    validator = api.validator("Validator", body=True, parameters=True)
    api.method(
        "/items/{id}",
        "PUT",
        api.lambda_proxy(backend),
        request_validator=validator,
        request_models={"application/json": model},
        request_parameters={
            "method.request.querystring.mode": True,
            "method.request.header.X-Trace": False,
        },
    )
    if bad_body_template is not None:
        api.gateway_response(
            "BadBody", "BAD_REQUEST_BODY", templates={"application/json": bad_body_template}
        )
    api.finish()
    return app


def _put(cloud, path: str, body: str):
    return cloud.http(
        "PUT",
        cloud.outputs("Stack")["ApiUrl"] + path,
        body=body,
        headers={"Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    "body",
    ['{"name": "pen"}', '{"name": "pen", "qty": 0}', '{"name": 7, "qty": 1}', "not json"],
    ids=["missing-property", "below-minimum", "wrong-type", "not-json"],
)
def test_a_body_failing_its_model_is_400_and_the_backend_is_not_called(launch, body):
    cloud = launch(_validated_app())

    response = _put(cloud, "items/1?mode=fast", body)

    assert (response.status, response.json()) == (400, {"message": "Invalid request body"})
    assert cloud.invocations == []


def test_a_missing_required_parameter_is_400_naming_it(launch):
    cloud = launch(_validated_app())

    response = _put(cloud, "items/1", '{"name": "pen", "qty": 1}')

    assert (response.status, response.json()) == (
        400,
        {"message": "Missing required request parameters: [mode]"},
    )
    assert cloud.invocations == []


def test_a_required_parameter_sent_blank_counts_as_missing(launch):
    cloud = launch(_validated_app())

    # The validator wants required parameters "included and not blank".
    response = _put(cloud, "items/1?mode=", '{"name": "pen", "qty": 1}')

    assert (response.status, response.json()) == (
        400,
        {"message": "Missing required request parameters: [mode]"},
    )
    assert cloud.invocations == []


def test_a_valid_request_reaches_the_backend(launch):
    cloud = launch(_validated_app())

    response = _put(cloud, "items/1?mode=fast", '{"name": "pen", "qty": 2}')

    assert response.status == 200
    assert response.json()["pathParameters"] == {"id": "1"}


# -- AWS service integrations --------------------------------------------------------------------


def _sqs_app() -> App:
    """POST /orders sends a reshaped message to the Orders queue, as CDK's AwsIntegration writes."""
    app = App()
    queue = app.queue("Orders")
    api = RestApiBuilder(app)
    api.method(
        "/orders",
        "POST",
        {
            "Credentials": "arn:aws:iam::123456789012:role/api-to-sqs",
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [
                {
                    "StatusCode": "200",
                    "ResponseTemplates": {
                        "application/json": '{"messageId": '
                        "\"$input.path('$.SendMessageResponse.SendMessageResult.MessageId')\"}"
                    },
                },
                {"StatusCode": "500", "SelectionPattern": "5\\d{2}"},
            ],
            "PassthroughBehavior": "NEVER",
            "RequestParameters": {
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
            },
            "RequestTemplates": {
                "application/json": "#set($order = $input.path('$'))"
                "Action=SendMessage&MessageBody="
                '$util.urlEncode("order $order.id for $order.customer via $context.stage")'
            },
            "Type": "AWS",
            "Uri": service_uri(
                "sqs", "path", [ref("AWS::AccountId"), "/", get_att(queue, "QueueName")]
            ),
        },
        method_responses=["200"],
    )
    api.finish()
    return app


def test_a_mapping_template_reshapes_the_body_onto_an_sqs_queue(launch):
    cloud = launch(_sqs_app())

    response = _post(cloud, "orders", '{"id": 42, "customer": "ada"}')

    [message] = drain(cloud, cloud.outputs("Stack")["OrdersUrl"])
    assert message["Body"] == "order 42 for ada via prod"
    # THEN the integration response template shaped the answer from SQS's own
    assert (response.status, response.json()) == (200, {"messageId": message["MessageId"]})


def test_passthrough_never_refuses_a_content_type_without_template_with_415(launch):
    cloud = launch(_sqs_app())

    response = _post(cloud, "orders", "id=42", content_type="text/plain")

    assert (response.status, response.json()) == (415, {"message": "Unsupported Media Type"})
    assert bodies(cloud, cloud.outputs("Stack")["OrdersUrl"]) == []


def _dynamodb_app() -> App:
    """POST /items puts {"id", "name"} in the Items table; GET /items/{id} reads one back."""
    app = App()
    table = app.table("Items")
    api = RestApiBuilder(app)
    role = "arn:aws:iam::123456789012:role/api-to-dynamodb"
    put_template = {
        "Fn::Join": [
            "",
            [
                '{"TableName": "',
                ref(table),
                '", "Item": {"id": {"S": "$input.path(\'$.id\')"}, '
                '"name": {"S": "$input.path(\'$.name\')"}}}',
            ],
        ]
    }
    api.method(
        "/items",
        "POST",
        {
            "Credentials": role,
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [
                {
                    "StatusCode": "201",
                    "ResponseTemplates": {"application/json": '{"stored": true}'},
                },
                {
                    "StatusCode": "400",
                    "SelectionPattern": "4\\d{2}",
                    "ResponseTemplates": {
                        "application/json": '{"error": "$input.path(\'$.__type\')"}'
                    },
                },
            ],
            "RequestTemplates": {"application/json": put_template},
            "Type": "AWS",
            "Uri": service_uri("dynamodb", "action", "PutItem"),
        },
    )
    get_template = {
        "Fn::Join": [
            "",
            ['{"TableName": "', ref(table), '", "Key": {"id": {"S": "$input.params(\'id\')"}}}'],
        ]
    }
    api.method(
        "/items/{id}",
        "GET",
        {
            "Credentials": role,
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [
                {
                    "StatusCode": "200",
                    "ResponseParameters": {"method.response.header.X-Source": "'dynamodb'"},
                    "ResponseTemplates": {
                        "application/json": "#set($item = $input.path('$.Item'))"
                        '{"id": "$item.id.S", "name": "$item.name.S"}'
                    },
                }
            ],
            "RequestTemplates": {"application/json": get_template},
            "Type": "AWS",
            "Uri": service_uri("dynamodb", "action", "GetItem"),
        },
    )
    api.finish()
    return app


def test_dynamodb_put_item_then_get_item_through_mapping_templates(launch):
    cloud = launch(_dynamodb_app())
    table = cloud.outputs("Stack")["ItemsName"]

    stored = _post(cloud, "items", '{"id": "i-1", "name": "pen"}')
    fetched = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items/i-1")

    assert (stored.status, stored.json()) == (201, {"stored": True})
    item = cloud.client("dynamodb").get_item(TableName=table, Key={"id": {"S": "i-1"}})["Item"]
    assert item == {"id": {"S": "i-1"}, "name": {"S": "pen"}}
    assert (fetched.status, fetched.json()) == (200, {"id": "i-1", "name": "pen"})
    assert fetched.headers["x-source"] == "dynamodb"


def test_a_service_error_status_picks_the_integration_response_by_selection_pattern(launch):
    cloud = launch(_dynamodb_app())

    # An empty key value is refused by DynamoDB with a 400 ValidationException.
    response = _post(cloud, "items", '{"id": "", "name": "pen"}')

    assert response.status == 400
    assert "ValidationException" in response.json()["error"]


@pytest.mark.parametrize("topic_from", ["request-parameter", "request-override"])
def test_sns_publish_through_an_action_uri_reaches_a_subscribed_queue(launch, topic_from):
    app = App()
    topic = app.topic("Events")
    queue = app.queue("Audit")
    app.subscription("AuditSubscription", topic, queue=queue, raw_message_delivery=True)
    api = RestApiBuilder(app)
    api.method(
        "/events",
        "POST",
        {
            "Credentials": "arn:aws:iam::123456789012:role/api-to-sns",
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [
                {
                    "StatusCode": "202",
                    "ResponseTemplates": {
                        "application/json": '{"published": '
                        "\"$input.path('$.PublishResponse.PublishResult.MessageId')\"}"
                    },
                }
            ],
            "RequestParameters": {
                "integration.request.querystring.TopicArn": {
                    "Fn::Join": ["", ["'", ref(topic), "'"]]
                }
            }
            if topic_from == "request-parameter"
            else {},
            "RequestTemplates": {
                "application/json": "Message=$util.urlEncode($input.body)"
                if topic_from == "request-parameter"
                else {
                    "Fn::Join": [
                        "",
                        [
                            '#set($context.requestOverride.querystring.TopicArn = "',
                            ref(topic),
                            '")Message=$util.urlEncode($input.body)',
                        ],
                    ]
                }
            },
            "Type": "AWS",
            "Uri": service_uri("sns", "action", "Publish"),
        },
    )
    api.finish()
    cloud = launch(app)

    response = _post(cloud, "events", '{"kind": "signup"}')

    assert response.status == 202
    assert response.json()["published"]
    assert bodies(cloud, cloud.outputs("Stack")["AuditUrl"]) == ['{"kind": "signup"}']


def test_step_functions_start_execution_gets_the_body_as_input(launch):
    app = App()
    role = app.role("MachineRole", "states.amazonaws.com")
    machine = app.add(
        "Machine",
        "AWS::StepFunctions::StateMachine",
        {
            "DefinitionString": json.dumps(
                {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
            ),
            "RoleArn": get_att(role),
        },
    )
    app.output("MachineArn", ref(machine))
    api = RestApiBuilder(app)
    template = {
        "Fn::Join": [
            "",
            [
                '{"stateMachineArn": "',
                ref(machine),
                '", "name": "$context.requestId", "input": "$util.escapeJavaScript($input.body)"}',
            ],
        ]
    }
    api.method(
        "/runs",
        "POST",
        {
            "Credentials": "arn:aws:iam::123456789012:role/api-to-sfn",
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [
                {
                    "StatusCode": "200",
                    "ResponseTemplates": {
                        "application/json": '{"run": "$input.path(\'$.executionArn\')"}'
                    },
                }
            ],
            "RequestTemplates": {"application/json": template},
            "Type": "AWS",
            "Uri": service_uri("states", "action", "StartExecution"),
        },
    )
    api.finish()
    cloud = launch(app)

    response = _post(cloud, "runs", '{"order": 7}')

    assert response.status == 200, response.body
    run = response.json()["run"]
    described = cloud.client("stepfunctions").describe_execution(executionArn=run)
    assert json.loads(described["input"]) == {"order": 7}
    assert described["name"] == response.headers["x-amzn-requestid"]


# -- Lambda without proxy, MOCK and passthrough --------------------------------------------------


def _custom_lambda_app(passthrough: str = "WHEN_NO_MATCH") -> App:
    app = App()
    backend = app.function("Backend", CUSTOM_BACKEND)
    api = RestApiBuilder(app)
    api.method(
        "/double",
        "POST",
        {
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [
                {
                    "StatusCode": "200",
                    # A header mapped from the function's answer, not from the template's output.
                    "ResponseParameters": {
                        "method.response.header.X-Doubled": "integration.response.body.doubled"
                    },
                    "ResponseTemplates": {
                        "application/json": "{\"doubled\": $input.json('$.doubled'), "
                        "\"who\": $input.json('$.who')}"
                    },
                },
                {
                    "StatusCode": "400",
                    "SelectionPattern": "Bad n.*",
                    "ResponseTemplates": {
                        "application/json": '{"refused": "$input.path(\'$.errorMessage\')"}'
                    },
                },
            ],
            "PassthroughBehavior": passthrough,
            "RequestTemplates": {
                "application/json": '{"n": $input.path(\'$.n\'), "who": "$input.params(\'who\')"}'
            },
            "Type": "AWS",
            "Uri": {
                "Fn::Join": [
                    "",
                    [
                        "arn:aws:apigateway:",
                        ref("AWS::Region"),
                        ":lambda:path/2015-03-31/functions/",
                        get_att(backend),
                        "/invocations",
                    ],
                ]
            },
        },
    )
    api.finish()
    return app


def test_a_lambda_without_proxy_gets_the_template_output_and_answers_through_the_default(launch):
    cloud = launch(_custom_lambda_app())

    response = _post(cloud, "double?who=ada", '{"n": 21, "ignored": true}')

    assert (response.status, response.json()) == (200, {"doubled": 42, "who": "ada"})
    assert response.headers["x-doubled"] == "42"


def test_a_lambda_error_message_picks_the_integration_response(launch):
    cloud = launch(_custom_lambda_app())

    response = _post(cloud, "double", '{"n": -1}')

    assert (response.status, response.json()) == (400, {"refused": "Bad n: -1"})


def test_an_event_invocation_type_queues_the_function_and_answers_at_once(launch):
    app = App()
    backend = app.function("Backend", CUSTOM_BACKEND)
    api = RestApiBuilder(app)
    api.method(
        "/jobs",
        "POST",
        {
            "IntegrationHttpMethod": "POST",
            "IntegrationResponses": [{"StatusCode": "202"}],
            "RequestParameters": {"integration.request.header.X-Amz-Invocation-Type": "'Event'"},
            "RequestTemplates": {"application/json": "{\"n\": $input.json('$.n')}"},
            "Type": "AWS",
            "Uri": {
                "Fn::Join": [
                    "",
                    [
                        "arn:aws:apigateway:",
                        ref("AWS::Region"),
                        ":lambda:path/2015-03-31/functions/",
                        get_att(backend),
                        "/invocations",
                    ],
                ]
            },
        },
        method_responses=["202"],
    )
    api.finish()
    cloud = launch(app)

    accepted = _post(cloud, "jobs", '{"n": 4}')
    refused_later = _post(cloud, "jobs", '{"n": -1}')

    # Lambda only queued the events: the caller has its answer before the function runs, and
    # a failure of the function (retried by Lambda) never reaches it.
    assert (accepted.status, accepted.body) == (202, "")
    assert refused_later.status == 202
    assert cloud.invocations == []
    cloud.settle()
    outcomes = [(i.succeeded, i.payload) for i in cloud.invocations if i.succeeded]
    assert outcomes == [(True, {"doubled": 8, "who": None})]


def test_a_selection_pattern_dot_does_not_cross_a_line_end(launch):
    cloud = launch(_custom_lambda_app())

    # `Bad n.*` covers "Bad n: -2" but not a message with a second line: as a Java regex, `.`
    # stops at a line end, so the default (200) response maps the error.
    response = _post(cloud, "double", '{"n": -2}')

    assert response.status == 200
    assert [invocation.succeeded for invocation in cloud.invocations] == [False]


@pytest.mark.parametrize(
    ("passthrough", "expected_status"),
    [("WHEN_NO_MATCH", 200), ("WHEN_NO_TEMPLATES", 415), ("NEVER", 415)],
)
def test_passthrough_behaviour_for_a_content_type_without_template(
    launch, passthrough, expected_status
):
    cloud = launch(_custom_lambda_app(passthrough))

    response = _post(cloud, "double", '{"n": 5}', content_type="text/plain")

    assert response.status == expected_status
    if expected_status == 200:
        # THEN the body went through unchanged: no template added "who"
        assert response.json() == {"doubled": 10, "who": None}
    else:
        assert response.json() == {"message": "Unsupported Media Type"}
        assert cloud.invocations == []


def test_a_passed_through_body_that_is_not_json_cannot_reach_a_lambda(launch):
    cloud = launch(_custom_lambda_app())

    response = _post(cloud, "double", "plain words", content_type="text/plain")

    # API Gateway parses a Lambda payload before the call: not JSON is the caller's bad request.
    assert response.status == 400
    assert response.json()["message"].startswith("Could not parse request body into json: ")
    assert response.headers["x-amzn-errortype"] == "BadRequestException"
    assert cloud.invocations == []


def test_a_template_whose_output_is_not_json_cannot_reach_a_lambda(launch):
    cloud = launch(_custom_lambda_app())

    # The request template writes `"who": "$input.params('who')"`: a quote in it breaks the JSON.
    response = _post(cloud, "double?who=a%22b", '{"n": 1}')

    assert response.status == 400
    assert response.json()["message"].startswith("Could not parse request body into json: ")
    assert cloud.invocations == []


def test_a_mock_integration_answers_from_the_status_its_request_template_picks(launch):
    app = App()
    api = RestApiBuilder(app)
    api.method(
        "/health",
        "GET",
        {
            "IntegrationResponses": [
                {"StatusCode": "200", "ResponseTemplates": {"application/json": '{"ok": true}'}},
                {
                    "StatusCode": "503",
                    "SelectionPattern": "503",
                    "ResponseTemplates": {"application/json": '{"ok": false}'},
                },
            ],
            "RequestTemplates": {
                "application/json": "#if($input.params('down') == 'yes')"
                '{"statusCode": 503}#else{"statusCode": 200}#end'
            },
            "Type": "MOCK",
        },
        method_responses=["200", "503"],
    )
    api.finish()
    cloud = launch(app)
    url = cloud.outputs("Stack")["ApiUrl"] + "health"

    up = cloud.http("GET", url)
    down = cloud.http("GET", url + "?down=yes")

    assert (up.status, up.json()) == (200, {"ok": True})
    assert (down.status, down.json()) == (503, {"ok": False})


def test_a_mock_request_template_with_an_unquoted_status_code_picks_its_response(launch):
    # CDK's CORS preflight writes `{ statusCode: 200 }`: API Gateway reads the status anyway.
    app = App()
    api = RestApiBuilder(app)
    api.method(
        "/gone",
        "GET",
        {
            "IntegrationResponses": [
                {"StatusCode": "200"},
                {"StatusCode": "410", "SelectionPattern": "410"},
            ],
            "RequestTemplates": {"application/json": "{ statusCode: 410 }"},
            "Type": "MOCK",
        },
        method_responses=["200", "410"],
    )
    api.finish()
    cloud = launch(app)

    response = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "gone")

    assert response.status == 410


def test_a_response_template_can_override_the_status_and_headers(launch):
    app = App()
    api = RestApiBuilder(app)
    api.method(
        "/things",
        "POST",
        {
            "IntegrationResponses": [
                {
                    "StatusCode": "200",
                    "ResponseTemplates": {
                        "application/json": "#set($context.responseOverride.status = 201)"
                        '#set($context.responseOverride.header.Location = "/things/1")'
                        '{"created": true}'
                    },
                }
            ],
            "RequestTemplates": {"application/json": '{"statusCode": 200}'},
            "Type": "MOCK",
        },
    )
    api.finish()
    cloud = launch(app)

    response = _post(cloud, "things", "{}")

    assert (response.status, response.json()) == (201, {"created": True})
    assert response.headers["location"] == "/things/1"


def test_a_template_reference_to_a_missing_value_prints_nothing(launch):
    # API Gateway prints nothing for a missing value, where plain Velocity would print the
    # reference's own text: no authorizer ran, so there is no principal.
    app = App()
    api = RestApiBuilder(app)
    api.method(
        "/whoami",
        "GET",
        {
            "IntegrationResponses": [
                {
                    "StatusCode": "200",
                    "ResponseTemplates": {
                        "application/json": '{"principal": "$context.authorizer.principalId"}'
                    },
                }
            ],
            "RequestTemplates": {"application/json": '{"statusCode": 200}'},
            "Type": "MOCK",
        },
    )
    api.finish()
    cloud = launch(app)

    response = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "whoami")

    assert (response.status, response.json()) == (200, {"principal": ""})


# -- gateway responses ---------------------------------------------------------------------------


def _gateway_response_app(**responses) -> App:
    app = App()
    backend = app.function("Backend", REST_BACKEND)
    authorizer_function = app.function("Authorizer", AUTHORIZER)
    api = RestApiBuilder(app)
    authorizer = api.authorizer("TokenAuth", authorizer_function)
    api.method("/items", "GET", api.lambda_proxy(backend), authorizer=authorizer)
    for logical_id, (response_type, options) in responses.items():
        api.gateway_response(logical_id, response_type, **options)
    api.finish()
    return app


def test_a_gateway_response_overrides_unauthorized(launch):
    cloud = launch(
        _gateway_response_app(
            Unauth=(
                "UNAUTHORIZED",
                {
                    "status_code": "418",
                    "headers": {"Access-Control-Allow-Origin": "'*'"},
                    "templates": {
                        "application/json": '{"error": $context.error.messageString, '
                        '"type": "$context.error.responseType", '
                        '"raw": "$context.error.message"}'
                    },
                },
            )
        )
    )

    response = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items")

    assert response.status == 418
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "error": "Unauthorized",
        "type": "UNAUTHORIZED",
        "raw": "Unauthorized",
    }
    assert cloud.invocations == []


def test_default_4xx_covers_every_4xx_type_without_its_own_response(launch):
    cloud = launch(
        _gateway_response_app(
            Default4xx=(
                "DEFAULT_4XX",
                {
                    "headers": {"Access-Control-Allow-Origin": "'https://example.com'"},
                    "templates": {"application/json": '{"problem": $context.error.messageString}'},
                },
            )
        )
    )
    url = cloud.outputs("Stack")["ApiUrl"]

    missing = cloud.http("GET", url + "nowhere")
    denied = cloud.http("GET", url + "items", headers={"Authorization": "deny"})

    assert (missing.status, missing.json()) == (403, {"problem": "Missing Authentication Token"})
    assert (denied.status, denied.json()) == (
        403,
        {"problem": "User is not authorized to access this resource with an explicit deny"},
    )
    assert missing.headers["access-control-allow-origin"] == "https://example.com"


def test_a_status_set_on_default_4xx_replaces_the_status_of_the_types_it_covers(launch):
    cloud = launch(_gateway_response_app(Default4xx=("DEFAULT_4XX", {"status_code": "400"})))

    response = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items")

    assert (response.status, response.json()) == (400, {"message": "Unauthorized"})


def test_a_type_without_its_own_status_takes_the_status_set_on_default_4xx(launch):
    cloud = launch(
        _gateway_response_app(
            Default4xx=("DEFAULT_4XX", {"status_code": "400"}),
            Unauth=(
                "UNAUTHORIZED",
                {"templates": {"application/json": '{"login": $context.error.messageString}'}},
            ),
        )
    )

    response = cloud.http("GET", cloud.outputs("Stack")["ApiUrl"] + "items")

    assert (response.status, response.json()) == (400, {"login": "Unauthorized"})


def test_a_validation_error_string_reaches_a_bad_request_body_template(launch):
    cloud = launch(
        _validated_app(bad_body_template='{"details": "$context.error.validationErrorString"}')
    )

    response = _put(cloud, "items/1?mode=fast", '{"name": "pen"}')

    assert response.status == 400
    assert "'qty' is a required property" in response.json()["details"]


def test_default_5xx_shapes_a_failed_backend(launch):
    cloud = launch(
        _gateway_response_app(
            Default5xx=(
                "DEFAULT_5XX",
                {"templates": {"application/json": '{"sorry": $context.error.messageString}'}},
            )
        )
    )

    response = cloud.http(
        "GET",
        cloud.outputs("Stack")["ApiUrl"] + "items",
        headers={"Authorization": "allow-alice"},
        body='{"fail": true}',
    )

    assert (response.status, response.json()) == (502, {"sorry": "Internal server error"})
    assert _backend_calls(cloud) == 1
