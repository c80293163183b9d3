"""What moto's CloudFormation skips and localcloud deploys: subscriptions, HTTP APIs, outputs."""

from __future__ import annotations

import json

from localcloud.core.assembly import load_assembly
from localcloud.testing import App
from tests.localcloud.apps import API


def _api_app(*, colour: str = "blue") -> App:
    app = App()
    handler = app.function("Handler", API, environment={"COLOUR": colour})
    app.http_api("HttpApi", handler, ["GET /items/{id}", "GET /boom"])
    topic = app.topic("Topic")
    app.subscription(
        "InboxSubscription",
        topic,
        queue=app.queue("Inbox"),
        filter_policy={"kind": ["order"]},
        raw_message_delivery=True,
    )
    app.subscription("HandlerSubscription", topic, function=handler)
    return app


def _subscriptions(cloud) -> list[dict]:
    topic_arn = cloud.outputs("Stack")["TopicArn"]
    return cloud.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]


def test_subscriptions_exist_after_deploy_with_their_attributes(launch):
    cloud = launch(_api_app())
    outputs = cloud.outputs("Stack")

    by_protocol = {subscription["Protocol"]: subscription for subscription in _subscriptions(cloud)}

    assert set(by_protocol) == {"sqs", "lambda"}
    assert by_protocol["sqs"]["Endpoint"].endswith(outputs["InboxUrl"].rsplit("/", 1)[1])
    assert by_protocol["lambda"]["Endpoint"].endswith(f":function:{outputs['HandlerName']}")
    attributes = cloud.client("sns").get_subscription_attributes(
        SubscriptionArn=by_protocol["sqs"]["SubscriptionArn"]
    )["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"kind": ["order"]}
    assert attributes["RawMessageDelivery"] == "true"


def test_stack_outputs_resolve_refs_and_get_atts_of_the_http_api(launch):
    cloud = launch(_api_app())
    api_id = cloud.physical_id("Stack", "HttpApi")

    outputs = cloud.outputs("Stack")

    assert outputs["ApiUrl"] == f"https://{api_id}.execute-api.eu-west-1.amazonaws.com/"
    assert outputs["ApiEndpoint"] == f"https://{api_id}.execute-api.eu-west-1.amazonaws.com"
    assert outputs["TopicArn"].startswith("arn:aws:sns:eu-west-1:123456789012:")
    routes = cloud.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]
    assert sorted(route["RouteKey"] for route in routes) == ["GET /boom", "GET /items/{id}"]


def test_http_api_routes_answer_as_api_gateway_does(launch):
    cloud = launch(_api_app())
    url = cloud.outputs("Stack")["ApiUrl"]

    found = cloud.http("GET", url + "items/7")
    unknown = cloud.http("GET", url + "nowhere")
    failing = cloud.http("GET", url + "boom")

    assert found.status == 200
    assert found.json() == {
        "routeKey": "GET /items/{id}",
        "pathParameters": {"id": "7"},
        "colour": "blue",
    }
    assert (unknown.status, unknown.json()) == (404, {"message": "Not Found"})
    assert (failing.status, failing.json()) == (500, {"message": "Internal Server Error"})


def test_redeploying_a_changed_environment_updates_the_function(launch, tmp_path):
    cloud = launch(_api_app(colour="blue"))
    outputs = cloud.outputs("Stack")
    url = outputs["ApiUrl"]
    assert cloud.http("GET", url + "items/1").json()["colour"] == "blue"

    # WHEN the app is synthesized again with another value and deployed over the stack
    cloud.stacks = load_assembly(_api_app(colour="red").write(tmp_path / "cdk.out.2"))
    cloud.deploy("Stack")

    # THEN the same function (and API) now runs with the new environment
    assert cloud.outputs("Stack") == outputs
    configuration = cloud.client("lambda").get_function_configuration(
        FunctionName=outputs["HandlerName"]
    )
    assert configuration["Environment"]["Variables"]["COLOUR"] == "red"
    assert cloud.http("GET", url + "items/1").json()["colour"] == "red"


def test_redeploying_the_same_template_changes_nothing(launch):
    cloud = launch(_api_app())
    outputs = cloud.outputs("Stack")
    subscriptions = _subscriptions(cloud)

    cloud.deploy("Stack")

    assert cloud.outputs("Stack") == outputs
    assert _subscriptions(cloud) == subscriptions
    assert cloud.http("GET", outputs["ApiUrl"] + "items/2").status == 200


def test_a_fifo_queue_without_a_name_gets_a_generated_name_ending_in_fifo(launch):
    app = App()
    app.add("Orders", "AWS::SQS::Queue", {"FifoQueue": True})
    app.output("OrdersUrl", {"Ref": "Orders"})

    cloud = launch(app)

    url = cloud.outputs("Stack")["OrdersUrl"]
    assert url.endswith(".fifo")
    attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert attributes["Attributes"]["FifoQueue"] == "true"


def _change_set_as_the_cdk_cli_sends_it(cloud, app: App) -> dict:
    """An UPDATE change set as `cdk deploy` creates it: the template by URL, and every
    parameter kept at its previous value."""
    s3 = cloud.client("s3")
    s3.create_bucket(
        Bucket="templates", CreateBucketConfiguration={"LocationConstraint": cloud.region}
    )
    s3.put_object(Bucket="templates", Key="stack.json", Body=json.dumps(app.template()))
    cloudformation = cloud.client("cloudformation")
    cloudformation.create_change_set(
        StackName=app.stack_name,
        ChangeSetName="cdk-deploy-change-set",
        TemplateURL=f"https://s3.{cloud.region}.amazonaws.com/templates/stack.json",
        ChangeSetType="UPDATE",
        Parameters=[
            {"ParameterKey": name, "UsePreviousValue": True}
            for name in app.template()["Parameters"]
        ],
    )
    return cloudformation.describe_change_set(
        StackName=app.stack_name, ChangeSetName="cdk-deploy-change-set"
    )


def test_a_change_set_of_the_deployed_template_and_parameters_has_no_changes(launch):
    app = App()
    app.queue("Inbox")
    cloud = launch(app)

    change_set = _change_set_as_the_cdk_cli_sends_it(cloud, app)

    # What the CDK CLI reads as "no changes": it deletes the change set and updates nothing.
    assert (change_set["Status"], change_set["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert change_set["StatusReason"].startswith(
        "The submitted information didn't contain changes."
    )
    stack = cloud.client("cloudformation").describe_stacks(StackName=app.stack_name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_a_change_set_of_a_changed_template_can_be_executed(launch):
    app = App()
    app.queue("Inbox")
    cloud = launch(app)
    app.queue("Outbox")

    change_set = _change_set_as_the_cdk_cli_sends_it(cloud, app)

    assert (change_set["Status"], change_set["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")


def test_an_endpoint_url_in_the_environment_does_not_steer_in_process_calls(tmp_path, monkeypatch):
    import localcloud.inprocess
    from localcloud import LocalCloud

    # As in a shell set up for `localcloud up`, with nothing listening there; and no client
    # built earlier in this process, which would hide the variable.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")
    monkeypatch.setattr(localcloud.inprocess, "_clients", {})
    app = App(stack_name="EndpointFree")
    app.queue("Inbox")

    with LocalCloud(app.write(tmp_path / "cdk.out")) as cloud:
        cloud.deploy()
        queues = cloud.client("sqs").list_queues()["QueueUrls"]

    assert len(queues) == 1
    assert "Inbox" in queues[0]
