"""`localcloud diagram`: the Mermaid wiring of hand-written templates shaped as CDK writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localcloud.cli import main
from localcloud.core.assembly import StackTemplate, write_assembly
from localcloud.diagram import render
from localcloud.testing import get_att, ref


class Template:
    """A template built resource by resource, each with the construct path CDK records."""

    def __init__(self, stack_name: str = "Shop") -> None:
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = {}

    def add(self, logical_id: str, type_: str, path: str | None, **props: Any) -> str:
        resource: dict[str, Any] = {"Type": type_, "Properties": props}
        if path is not None:
            resource["Metadata"] = {"aws:cdk:path": f"{self.stack_name}/{path}"}
        self.resources[logical_id] = resource
        return logical_id

    def function(self, logical_id: str, path: str, handler: str = "app.handler", **props) -> str:
        role = self.add(f"{logical_id}Role", "AWS::IAM::Role", f"{path}/ServiceRole/Resource")
        return self.add(
            logical_id,
            "AWS::Lambda::Function",
            f"{path}/Resource",
            Handler=handler,
            Role=get_att(role),
            Runtime="python3.13",
            **props,
        )

    def grant(self, function: str, statements: list[dict[str, Any]]) -> None:
        self.add(
            f"{function}RoleDefaultPolicy",
            "AWS::IAM::Policy",
            f"{function}/ServiceRole/DefaultPolicy/Resource",
            PolicyDocument={"Statement": statements, "Version": "2012-10-17"},
            PolicyName=f"{function}RoleDefaultPolicy",
            Roles=[ref(f"{function}Role")],
        )

    def stack(self) -> StackTemplate:
        return StackTemplate(self.stack_name, {"Resources": self.resources}, Path())

    def lines(self) -> list[str]:
        return render(self.stack()).splitlines()


def allow(actions: list[str] | str, resource: Any) -> dict[str, Any]:
    return {"Action": actions, "Effect": "Allow", "Resource": resource}


def _queue_with_consumer(template: Template) -> tuple[str, str]:
    queue = template.add("OrdersQueue1A2B", "AWS::SQS::Queue", "Orders/Queue/Resource")
    worker = template.function("Worker3C4D", "Orders/Worker")
    template.add(
        "WorkerSqsSource",
        "AWS::Lambda::EventSourceMapping",
        "Orders/Worker/SqsEventSource:OrdersQueue/Resource",
        BatchSize=10,
        MaximumBatchingWindowInSeconds=5,
        EventSourceArn=get_att(queue),
        FunctionName=ref(worker),
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return queue, worker


# -- nodes ---------------------------------------------------------------------------------------


def test_each_kind_of_node_has_its_shape_and_a_label_from_its_construct_path():
    template = Template()
    template.function("ApiHandlerAB12CD34", "Orders/Api/Handler", handler="orders.api.handler")
    template.add("OrdersQueue1A2B", "AWS::SQS::Queue", "Orders/Queue/Resource")
    template.add("OrdersTopicFF00", "AWS::SNS::Topic", "Orders/Events/Topic/Resource")
    template.add(
        "LedgerTable00AA",
        "AWS::DynamoDB::Table",
        "Orders/Ledger/Table/Resource",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    template.add("ClicksStream11BB", "AWS::Kinesis::Stream", "Clicks/Stream/Resource", ShardCount=2)
    template.add("UploadsBucket22CC", "AWS::S3::Bucket", "Uploads/Resource")
    template.add("PublicApi33DD", "AWS::ApiGatewayV2::Api", "PublicApi/Resource")
    template.add("LegacyApi44EE", "AWS::ApiGateway::RestApi", "LegacyApi/Resource")
    template.add("CheckoutSm55FF", "AWS::StepFunctions::StateMachine", "Checkout/Resource")
    template.add(
        "NightlyRule66AA",
        "AWS::Events::Rule",
        "Nightly/Resource",
        ScheduleExpression="cron(0 2 * * ? *)",
    )
    template.add(
        "Namespace9B63B8C8",
        "AWS::ServiceDiscovery::HttpNamespace",
        "Namespace/Resource",
        Name="orders.local",
    )
    template.add(
        "NamespaceBilling0706EB3A",
        "AWS::ServiceDiscovery::Service",
        "Namespace/Billing/Resource",
        Name="billing",
        NamespaceId=get_att("Namespace9B63B8C8", "Id"),
    )
    template.add(
        "NamespaceBillingInstanceA1133B40",
        "AWS::ServiceDiscovery::Instance",
        "Namespace/Billing/Instance/Resource",
        InstanceAttributes={"url": "https://billing.example"},
        ServiceId=get_att("NamespaceBilling0706EB3A", "Id"),
    )
    template.add("Db", "AWS::Glue::Database", "Db", DatabaseInput={"Name": "lake"})
    template.add(
        "Table", "AWS::Glue::Table", "Table", DatabaseName=ref("Db"), TableInput={"Name": "orders"}
    )

    lines = template.lines()

    assert lines[0] == "flowchart LR"
    assert set(lines[1:]) == {
        '    fn_orders_api["Orders / Api<br/>orders.api.handler"]',
        '    queue_orders[["Orders<br/>SQS queue"]]',
        '    topic_orders_events{{"Orders / Events<br/>SNS topic"}}',
        '    table_orders_ledger[("Orders / Ledger<br/>DynamoDB table, key pk, sk")]',
        '    stream_clicks>"Clicks<br/>Kinesis stream, 2 shards"]',
        '    bucket_uploads[/"Uploads<br/>S3 bucket"\\]',
        '    api_public_api(["PublicApi<br/>HTTP API"])',
        '    api_legacy_api(["LegacyApi<br/>REST API"])',
        '    sm_checkout("Checkout<br/>Step Functions, STANDARD")',
        '    rule_nightly[/"Nightly<br/>EventBridge schedule cron(0 2 * * ? *)"/]',
        '    service_namespace_billing[\\"Namespace / Billing<br/>Cloud Map service '
        'billing.orders.local, 1 instance"\\]',
        '    glue_table[("Table<br/>Glue table lake.orders")]',
    }


def test_cdk_plumbing_is_not_drawn():
    template = Template()
    _queue_with_consumer(template)
    template.function(
        "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aFD4BFC8A",
        "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a",
    )
    template.function(
        "BucketNotificationsHandler050a0587b7544547bf325f094a3db8347ECC3691",
        "BucketNotificationsHandler050a0587b7544547bf325f094a3db834",
    )
    template.function(
        "AWS679f53fac002430cb0da5b7982bd22872D164C4C", "AWS679f53fac002430cb0da5b7982bd2287"
    )
    template.add("WorkerLogGroup", "AWS::Logs::LogGroup", "Orders/Worker/LogGroup/Resource")
    template.add("CDKMetadata", "AWS::CDK::Metadata", "CDKMetadata/Default")
    template.add("OrdersQueuePolicy", "AWS::SQS::QueuePolicy", "Orders/Queue/Policy/Resource")

    text = render(template.stack())

    assert "LogRetention" not in text
    assert "BucketNotificationsHandler" not in text
    assert "AWS679f53fac" not in text
    for plumbing in ("Role", "Policy", "LogGroup", "CDKMetadata"):
        assert plumbing not in text
    assert text.splitlines() == [
        "flowchart LR",
        '    queue_orders[["Orders<br/>SQS queue"]]',
        '    fn_orders_worker["Orders / Worker<br/>app.handler"]',
        '    queue_orders -->|"batch 10, window 5 s, partial failures"| fn_orders_worker',
    ]


def test_node_ids_are_readable_and_unique_when_paths_collide():
    template = Template()
    template.add("AQueue1111", "AWS::SQS::Queue", "Orders/Queue/Resource")
    template.add("AQueue2222", "AWS::SQS::Queue", "Orders/Resource")
    template.add("NoPath", "AWS::SQS::Queue", None)

    lines = template.lines()

    assert '    queue_orders[["Orders<br/>SQS queue"]]' in lines
    assert '    queue_orders_2[["Orders<br/>SQS queue"]]' in lines
    assert '    queue_no_path[["NoPath<br/>SQS queue"]]' in lines


def test_the_same_template_gives_the_same_text_byte_for_byte():
    template = Template()
    _queue_with_consumer(template)
    template.add("Topic", "AWS::SNS::Topic", "Topic/Resource")

    first = render(template.stack())
    reloaded = json.loads(json.dumps(template.stack().template))
    second = render(StackTemplate("Shop", reloaded, Path()))

    assert first == second
    assert first.endswith("\n")


# -- wiring --------------------------------------------------------------------------------------


def test_sqs_event_source_is_an_edge_with_batch_window_and_partial_failures():
    template = Template()
    _queue_with_consumer(template)

    lines = template.lines()

    assert (
        '    queue_orders -->|"batch 10, window 5 s, partial failures"| fn_orders_worker' in lines
    )


def test_stream_event_sources_and_their_on_failure_destination():
    template = Template()
    stream = template.add("Clicks", "AWS::Kinesis::Stream", "Clicks/Resource", ShardCount=1)
    table = template.add(
        "Orders",
        "AWS::DynamoDB::Table",
        "Orders/Resource",
        StreamSpecification={"StreamViewType": "NEW_IMAGE"},
    )
    failures = template.add("Failures", "AWS::SQS::Queue", "Failures/Resource")
    worker = template.function("Worker", "Worker")
    template.add(
        "WorkerKinesis",
        "AWS::Lambda::EventSourceMapping",
        "Worker/KinesisEventSource/Resource",
        BatchSize=100,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": get_att(failures)}},
        EventSourceArn=get_att(stream),
        FunctionName=ref(worker),
        MaximumRetryAttempts=3,
        StartingPosition="TRIM_HORIZON",
    )
    template.add(
        "WorkerDynamo",
        "AWS::Lambda::EventSourceMapping",
        "Worker/DynamoDBEventSource/Resource",
        BatchSize=100,
        EventSourceArn=get_att(table, "StreamArn"),
        FunctionName=ref(worker),
        StartingPosition="LATEST",
    )

    lines = template.lines()

    assert (
        '    stream_clicks -->|"batch 100, from TRIM_HORIZON, bisect on error, 3 retries"| '
        "fn_worker" in lines
    )
    assert '    table_orders -->|"batch 100, from LATEST"| fn_worker' in lines
    assert '    fn_worker -.->|"failed batches"| queue_failures' in lines


def test_subscription_edge_notes_the_filter_policy_and_raw_delivery():
    template = Template()
    topic = template.add("Topic", "AWS::SNS::Topic", "Orders/Topic/Resource")
    big = template.add("Big", "AWS::SQS::Queue", "Big/Queue/Resource")
    shipped = template.add("Shipped", "AWS::SQS::Queue", "Shipped/Queue/Resource")
    handler = template.function("Audit", "Audit")
    template.add(
        "BigSubscription",
        "AWS::SNS::Subscription",
        "Big/Queue/Sub/Resource",
        Endpoint=get_att(big),
        FilterPolicy={"amount": [{"numeric": [">=", 1000]}], "kind": [{"anything-but": "test"}]},
        FilterPolicyScope="MessageBody",
        Protocol="sqs",
        TopicArn=ref(topic),
    )
    template.add(
        "ShippedSubscription",
        "AWS::SNS::Subscription",
        "Shipped/Queue/Sub/Resource",
        Endpoint=get_att(shipped),
        FilterPolicy={"event_type": ["order_shipped", "order_cancelled"]},
        Protocol="sqs",
        RawMessageDelivery=True,
        TopicArn=ref(topic),
    )
    template.add(
        "AuditSubscription",
        "AWS::SNS::Subscription",
        "Audit/Sub/Resource",
        Endpoint=get_att(handler),
        Protocol="lambda",
        TopicArn=ref(topic),
    )

    lines = template.lines()

    assert (
        '    topic_orders -->|"filter on body:<br/>amount >= 1000<br/>kind not test"| queue_big'
    ) in lines
    assert (
        '    topic_orders -->|"filter on attributes:<br/>event_type order_shipped or '
        'order_cancelled<br/>raw delivery"| queue_shipped'
    ) in lines
    assert '    topic_orders -->|"lambda"| fn_audit' in lines


def test_redrive_marks_the_dead_letter_queue_and_draws_a_dotted_edge():
    template = Template()
    dead = template.add("InboxDlq", "AWS::SQS::Queue", "Inbox/DeadLetterQueue/Resource")
    template.add(
        "Inbox",
        "AWS::SQS::Queue",
        "Inbox/Queue/Resource",
        RedrivePolicy={"deadLetterTargetArn": get_att(dead), "maxReceiveCount": 5},
    )

    lines = template.lines()

    assert (
        '    dlq_inbox_dead_letter_queue[["Inbox / DeadLetterQueue<br/>SQS dead-letter queue"]]'
        in (lines)
    )
    assert '    queue_inbox -.->|"after 5 receives"| dlq_inbox_dead_letter_queue' in lines


def test_http_api_routes_reach_functions_through_their_integrations():
    template = Template()
    api = template.add("HttpApi", "AWS::ApiGatewayV2::Api", "HttpApi/Resource")
    reader = template.function("Reader", "Reader")
    writer = template.function("Writer", "Writer")
    for name, function in (("ReadIntegration", reader), ("WriteIntegration", writer)):
        template.add(
            name,
            "AWS::ApiGatewayV2::Integration",
            f"HttpApi/{name}/Resource",
            ApiId=ref(api),
            IntegrationType="AWS_PROXY",
            IntegrationUri=get_att(function),
            PayloadFormatVersion="2.0",
        )
    for number, (route_key, integration, authorization) in enumerate(
        [
            ("GET /items", "ReadIntegration", "NONE"),
            ("GET /items/{id}", "ReadIntegration", "NONE"),
            ("POST /items", "WriteIntegration", "JWT"),
        ]
    ):
        template.add(
            f"Route{number}",
            "AWS::ApiGatewayV2::Route",
            f"HttpApi/Route{number}/Resource",
            ApiId=ref(api),
            AuthorizationType=authorization,
            RouteKey=route_key,
            Target={"Fn::Join": ["", ["integrations/", ref(integration)]]},
        )

    lines = template.lines()

    assert '    api_http_api -->|"GET /items<br/>GET /items/{id}"| fn_reader' in lines
    assert '    api_http_api -->|"POST /items (JWT)"| fn_writer' in lines


def test_rest_api_methods_reach_functions_with_their_full_paths():
    template = Template()
    api = template.add("Rest", "AWS::ApiGateway::RestApi", "Rest/Resource")
    handler = template.function("Handler", "Handler")
    orders = template.add(
        "RestOrders",
        "AWS::ApiGateway::Resource",
        "Rest/Default/orders/Resource",
        ParentId=get_att(api, "RootResourceId"),
        PathPart="orders",
        RestApiId=ref(api),
    )
    one = template.add(
        "RestOrdersId",
        "AWS::ApiGateway::Resource",
        "Rest/Default/orders/{id}/Resource",
        ParentId=ref(orders),
        PathPart="{id}",
        RestApiId=ref(api),
    )
    uri = {
        "Fn::Join": [
            "",
            [
                "arn:",
                ref("AWS::Partition"),
                ":apigateway:",
                ref("AWS::Region"),
                ":lambda:path/2015-03-31/functions/",
                get_att(handler),
                "/invocations",
            ],
        ]
    }
    for method, resource in (("POST", orders), ("GET", one)):
        template.add(
            f"Rest{method}",
            "AWS::ApiGateway::Method",
            f"Rest/Default/{method}/Resource",
            AuthorizationType="NONE",
            HttpMethod=method,
            Integration={"IntegrationHttpMethod": "POST", "Type": "AWS_PROXY", "Uri": uri},
            ResourceId=ref(resource),
            RestApiId=ref(api),
        )

    lines = template.lines()

    assert '    api_rest -->|"POST /orders<br/>GET /orders/{id}"| fn_handler' in lines


def test_s3_notifications_written_by_cdk_reach_their_targets_with_filters():
    template = Template()
    bucket = template.add("Uploads", "AWS::S3::Bucket", "Uploads/Resource")
    handler = template.function("Ingest", "Ingest")
    template.add(
        "UploadsNotifications",
        "Custom::S3BucketNotifications",
        "Uploads/Notifications/Resource",
        BucketName=ref(bucket),
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "suffix", "Value": ".json"},
                                {"Name": "prefix", "Value": "in/"},
                            ]
                        }
                    },
                    "LambdaFunctionArn": get_att(handler),
                }
            ]
        },
    )

    lines = template.lines()

    assert (
        '    bucket_uploads -->|"ObjectCreated:*<br/>suffix .json, prefix in/"| fn_ingest' in lines
    )


def test_rule_targets_and_their_dead_letter_queue():
    template = Template()
    handler = template.function("Handler", "Handler")
    queue = template.add("Orders", "AWS::SQS::Queue", "Orders/Resource")
    dead = template.add("Undelivered", "AWS::SQS::Queue", "Undelivered/Resource")
    template.add(
        "OnOrder",
        "AWS::Events::Rule",
        "OnOrder/Resource",
        EventPattern={"source": ["orders"], "detail-type": ["OrderPlaced"], "detail": {}},
        Targets=[
            {"Arn": get_att(handler), "Id": "Target0"},
            {
                "Arn": get_att(queue),
                "Id": "Target1",
                "InputPath": "$.detail",
                "DeadLetterConfig": {"Arn": get_att(dead)},
            },
        ],
    )

    lines = template.lines()

    assert (
        '    rule_on_order[/"OnOrder<br/>EventBridge rule<br/>source orders<br/>'
        'detail-type OrderPlaced<br/>on detail"/]'
    ) in lines
    assert '    rule_on_order -->|"event"| fn_handler' in lines
    assert '    rule_on_order -->|"input $.detail"| queue_orders' in lines
    assert '    rule_on_order -.->|"undelivered events"| dlq_undelivered' in lines


def test_state_machine_task_states_reach_their_resources():
    template = Template()
    handler = template.function("Charge", "Charge")
    queue = template.add("Receipts", "AWS::SQS::Queue", "Receipts/Resource")
    table = template.add("Orders", "AWS::DynamoDB::Table", "Orders/Resource")
    template.add(
        "Checkout",
        "AWS::StepFunctions::StateMachine",
        "Checkout/Resource",
        DefinitionString={
            "Fn::Join": [
                "",
                [
                    '{"StartAt":"Charge","States":{"Charge":{"Next":"Both","Type":"Task",'
                    '"Resource":"arn:',
                    ref("AWS::Partition"),
                    ':states:::lambda:invoke","Parameters":{"FunctionName":"',
                    get_att(handler),
                    '","Payload.$":"$"}},"Both":{"Type":"Parallel","End":true,"Branches":['
                    '{"StartAt":"Send","States":{"Send":{"End":true,"Type":"Task",'
                    '"Resource":"arn:',
                    ref("AWS::Partition"),
                    ':states:::sqs:sendMessage","Parameters":{"QueueUrl":"',
                    ref(queue),
                    '","MessageBody":"done"}}}},'
                    '{"StartAt":"Save","States":{"Save":{"End":true,"Type":"Task",'
                    '"Resource":"arn:',
                    ref("AWS::Partition"),
                    ':states:::dynamodb:putItem","Parameters":{"TableName":"',
                    ref(table),
                    '","Item":{}}}}}]}}}',
                ],
            ]
        },
    )

    lines = template.lines()

    assert '    sm_checkout -->|"Charge: lambda:invoke"| fn_charge' in lines
    assert '    sm_checkout -->|"Send: sqs:sendMessage"| queue_receipts' in lines
    assert '    sm_checkout -->|"Save: dynamodb:putItem"| table_orders' in lines


def test_async_failures_go_to_the_function_dlq_and_on_failure_destination():
    template = Template()
    dead = template.add("Dead", "AWS::SQS::Queue", "Dead/Resource")
    failed = template.add("Failed", "AWS::SNS::Topic", "Failed/Resource")
    worker = template.function("Worker", "Worker", DeadLetterConfig={"TargetArn": get_att(dead)})
    template.add(
        "WorkerInvokeConfig",
        "AWS::Lambda::EventInvokeConfig",
        "Worker/EventInvokeConfig/Resource",
        DestinationConfig={"OnFailure": {"Destination": ref(failed)}},
        FunctionName=ref(worker),
        Qualifier="$LATEST",
    )

    lines = template.lines()

    assert '    dlq_dead[["Dead<br/>SQS dead-letter queue"]]' in lines
    assert '    fn_worker -.->|"failed async events"| dlq_dead' in lines
    assert '    fn_worker -.->|"failed async events"| topic_failed' in lines


def test_grants_of_a_functions_role_are_summarized_per_resource():
    template = Template()
    queue, worker = _queue_with_consumer(template)
    table = template.add("Ledger", "AWS::DynamoDB::Table", "Ledger/Resource")
    topic = template.add("Events", "AWS::SNS::Topic", "Events/Resource")
    outbox = template.add("Outbox", "AWS::SQS::Queue", "Outbox/Resource")
    bucket = template.add("Archive", "AWS::S3::Bucket", "Archive/Resource")
    template.grant(
        worker,
        [
            allow(["logs:CreateLogStream", "logs:PutLogEvents"], get_att("WorkerLogGroup")),
            allow(["xray:PutTraceSegments"], "*"),
            allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueUrl"], get_att(queue)),
            allow(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"], [get_att(table)]),
            allow("sns:Publish", ref(topic)),
            allow(["kms:Decrypt", "kms:GenerateDataKey*"], get_att("Key")),
            allow("sqs:SendMessage", get_att(outbox)),
            allow(
                ["s3:GetObject*", "s3:List*"],
                [get_att(bucket), {"Fn::Join": ["", [get_att(bucket), "/*"]]}],
            ),
        ],
    )

    lines = [line for line in template.lines() if "-->" in line]

    assert lines == [
        '    queue_orders -->|"batch 10, window 5 s, partial failures"| fn_orders_worker',
        '    fn_orders_worker -->|"read/write"| table_ledger',
        '    fn_orders_worker -->|"publish"| topic_events',
        '    fn_orders_worker -->|"send"| queue_outbox',
        '    fn_orders_worker -->|"read"| bucket_archive',
    ]


def test_alarms_on_a_resources_metric_point_at_their_action_topic():
    template = Template()
    dead = template.add("Dead", "AWS::SQS::Queue", "Dead/Resource")
    template.add(
        "Inbox",
        "AWS::SQS::Queue",
        "Inbox/Resource",
        RedrivePolicy={"deadLetterTargetArn": get_att(dead), "maxReceiveCount": 3},
    )
    alarms = template.add("Alarms", "AWS::SNS::Topic", "Alarms/Topic/Resource")
    worker = template.function("Worker", "Worker")
    template.add(
        "DeadDepth",
        "AWS::CloudWatch::Alarm",
        "Dead/DepthAlarm/Resource",
        AlarmActions=[ref(alarms)],
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Dimensions=[{"Name": "QueueName", "Value": get_att(dead, "QueueName")}],
        MetricName="ApproximateNumberOfMessagesVisible",
        Threshold=1,
    )
    template.add(
        "WorkerErrors",
        "AWS::CloudWatch::Alarm",
        "Worker/ErrorsAlarm/Resource",
        AlarmActions=[ref(alarms)],
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "FunctionName", "Value": ref(worker)}],
        MetricName="Errors",
        Threshold=0.0,
    )

    lines = template.lines()

    assert '    dlq_dead -.->|"ApproximateNumberOfMessagesVisible >= 1"| topic_alarms' in lines
    assert '    fn_worker -.->|"Errors > 0"| topic_alarms' in lines


def test_edges_alike_from_several_sources_are_written_once():
    template = Template()
    table = template.add("Ledger", "AWS::DynamoDB::Table", "Ledger/Resource")
    for name in ("First", "Second"):
        template.function(name, name)
        template.grant(name, [allow(["dynamodb:PutItem"], get_att(table))])

    lines = template.lines()

    assert '    fn_first & fn_second -->|"write"| table_ledger' in lines


def test_glue_table_points_at_the_bucket_holding_its_data():
    template = Template()
    bucket = template.add("Lake", "AWS::S3::Bucket", "Lake/Resource")
    template.add("Db", "AWS::Glue::Database", "Db", DatabaseInput={"Name": "lake"})
    template.add(
        "Orders",
        "AWS::Glue::Table",
        "Orders",
        DatabaseName=ref("Db"),
        TableInput={
            "Name": "orders",
            "StorageDescriptor": {
                "Location": {"Fn::Join": ["", ["s3://", ref(bucket), "/orders/"]]}
            },
        },
    )

    lines = template.lines()

    assert '    glue_orders -->|"data at /orders/"| bucket_lake' in lines


# -- the command ---------------------------------------------------------------------------------


def test_diagram_command_prints_the_rendered_stack(tmp_path, capsys):
    template = Template("Stack")
    _queue_with_consumer(template)
    assembly = write_assembly(tmp_path / "cdk.out", "Stack", {"Resources": template.resources}, {})

    code = main(["diagram", "Stack", "--app", str(assembly)])

    assert code == 0
    assert capsys.readouterr().out == render(template.stack())


def test_diagram_command_names_the_stacks_it_has_when_one_is_unknown(tmp_path, capsys):
    assembly = write_assembly(tmp_path / "cdk.out", "Stack", {"Resources": {}}, {})

    code = main(["diagram", "Nope", "--app", str(assembly)])

    assert code == 2
    assert "no stack 'Nope' in" in (error := capsys.readouterr().err)
    assert "it has Stack" in error


def test_paths_come_from_the_assembly_metadata_when_the_template_has_none(tmp_path):
    # GIVEN an assembly synthesized without the CDK CLI: no aws:cdk:path in the template, the
    # paths only in the stack's metadata file
    template = Template("Stack")
    _queue_with_consumer(template)
    paths = {}
    for logical_id, resource in template.resources.items():
        paths[f"/{resource.pop('Metadata')['aws:cdk:path']}"] = [
            {"type": "aws:cdk:logicalId", "data": logical_id}
        ]
    assembly = write_assembly(tmp_path / "cdk.out", "Stack", {"Resources": template.resources}, {})
    manifest = json.loads((assembly / "manifest.json").read_text())
    manifest["artifacts"]["Stack"]["additionalMetadataFile"] = "Stack.metadata.json"
    (assembly / "manifest.json").write_text(json.dumps(manifest))
    (assembly / "Stack.metadata.json").write_text(json.dumps(paths))

    stack = StackTemplate("Stack", {"Resources": template.resources}, assembly)

    # THEN the labels and ids are those the construct paths give
    assert render(stack).splitlines()[1:3] == [
        '    queue_orders[["Orders<br/>SQS queue"]]',
        '    fn_orders_worker["Orders / Worker<br/>app.handler"]',
    ]


def test_without_any_path_the_logical_id_loses_its_hash_suffix():
    template = Template()
    template.add("IncomingOrdersQueue5AB12C3D", "AWS::SQS::Queue", None)

    assert '    queue_incoming_orders_queue[["IncomingOrdersQueue<br/>SQS queue"]]' in (
        template.lines()
    )


def test_permission_to_reach_a_failure_destination_is_not_drawn_twice():
    template = Template()
    dead = template.add("Dead", "AWS::SQS::Queue", "Dead/Resource")
    worker = template.function("Worker", "Worker", DeadLetterConfig={"TargetArn": get_att(dead)})
    template.grant(worker, [allow("sqs:SendMessage", get_att(dead))])

    edges = [line for line in template.lines() if "->" in line]

    assert edges == ['    fn_worker -.->|"failed async events"| dlq_dead']


def test_state_machine_definition_with_substitutions_reaches_its_resources():
    template = Template()
    topic = template.add("Done", "AWS::SNS::Topic", "Done/Resource")
    template.add(
        "Flow",
        "AWS::StepFunctions::StateMachine",
        "Flow/Resource",
        Definition={
            "StartAt": "Tell",
            "States": {
                "Tell": {
                    "Type": "Task",
                    "End": True,
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {"TopicArn": "${DoneTopic}", "Message.$": "$"},
                }
            },
        },
        DefinitionSubstitutions={"DoneTopic": ref(topic)},
    )

    assert '    sm_flow -->|"Tell: sns:publish"| topic_done' in template.lines()


def test_a_durable_function_is_reached_through_its_alias_and_says_so():
    template = Template()
    topic = template.add("Topic", "AWS::SNS::Topic", "Orders/Topic/Resource")
    saga = template.function("Saga", "Saga", DurableConfig={"ExecutionTimeout": 86400})
    version = template.add(
        "SagaVersion",
        "AWS::Lambda::Version",
        "Saga/CurrentVersion/Resource",
        FunctionName=ref(saga),
    )
    alias = template.add(
        "SagaAlias",
        "AWS::Lambda::Alias",
        "Saga/Aliaslive/Resource",
        FunctionName=ref(saga),
        FunctionVersion=get_att(version, "Version"),
        Name="live",
    )
    template.add(
        "SagaSubscription",
        "AWS::SNS::Subscription",
        "Saga/Sub/Resource",
        Endpoint=ref(alias),
        Protocol="lambda",
        TopicArn=ref(topic),
    )

    lines = template.lines()

    assert '    fn_saga["Saga<br/>app.handler, durable up to 1d"]' in lines
    assert '    topic_orders -->|"lambda"| fn_saga' in lines
