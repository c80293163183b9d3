"""PubSub template: filter policies, delivery settings, event sources, least privilege, ids."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from pub_sub import contract
from tests.synth import CloudAssembly, resources_of_type

STATEFUL_LOGICAL_IDS = {
    "PubSubTopic59C60992",
    "PubSubLedgerTableB41CC6F7",
    "PubSubIdempotencyTable7EC7F47B",
    "PubSubFulfilmentInboxQueue0165868A",
    "PubSubFulfilmentInboxDeadLetterQueue8DC57175",
    "PubSubNotificationsInboxQueueAC489BA8",
    "PubSubNotificationsInboxDeadLetterQueueF884EE8D",
    "PubSubFraudReviewInboxQueue20A0DA91",
    "PubSubFraudReviewInboxDeadLetterQueue21FECC66",
}


def test_stateful_logical_ids_are_stable(dev_assembly: CloudAssembly):
    # Renaming one of these replaces the resource (losing its messages or items) on deploy.
    resources = dev_assembly.templates["PubSub"]["Resources"]
    stateful = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::SQS::Queue", "AWS::DynamoDB::Table"}
        or (resource["Type"] == "AWS::SNS::Topic" and not logical_id.startswith("Alarms"))
    }
    assert stateful == STATEFUL_LOGICAL_IDS


def _subscriptions(dev_assembly: CloudAssembly) -> dict[str, dict]:
    """Subscription properties by the logical id of the queue they deliver to."""
    subscriptions = resources_of_type(dev_assembly.templates["PubSub"], "AWS::SNS::Subscription")
    return {
        s["Properties"]["Endpoint"]["Fn::GetAtt"][0]: s["Properties"]
        for s in subscriptions.values()
    }


def test_fulfilment_filters_on_the_event_type_attribute(dev_assembly: CloudAssembly):
    subscription = _subscriptions(dev_assembly)["PubSubFulfilmentInboxQueue0165868A"]
    assert subscription["Protocol"] == "sqs"
    assert subscription["FilterPolicy"] == {"event_type": ["order_placed", "order_cancelled"]}
    assert "FilterPolicyScope" not in subscription  # MessageAttributes is the default scope
    assert subscription.get("RawMessageDelivery", False) is False


def test_notifications_filters_on_attributes_with_raw_delivery(dev_assembly: CloudAssembly):
    subscription = _subscriptions(dev_assembly)["PubSubNotificationsInboxQueueAC489BA8"]
    assert subscription["FilterPolicy"] == {"event_type": ["order_shipped", "order_cancelled"]}
    assert subscription["RawMessageDelivery"] is True


def test_fraud_review_filters_on_the_message_body(dev_assembly: CloudAssembly):
    subscription = _subscriptions(dev_assembly)["PubSubFraudReviewInboxQueue20A0DA91"]
    assert subscription["FilterPolicyScope"] == "MessageBody"
    assert subscription["FilterPolicy"] == {
        "event_type": ["order_placed"],
        "amount": [{"numeric": [">=", 1000]}],
    }


def test_subscriber_queues_redrive_after_five_receives_and_outlast_the_consumer(
    dev_assembly: CloudAssembly,
):
    template = dev_assembly.templates["PubSub"]
    queues = resources_of_type(template, "AWS::SQS::Queue")
    inboxes = {k: q for k, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert len(inboxes) == 3
    for logical_id, queue in inboxes.items():
        assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5, logical_id
        assert queue["Properties"]["VisibilityTimeout"] == 180, logical_id  # 6 x 30 s timeout


def test_each_consumer_reads_its_own_queue_in_batches_of_ten(dev_assembly: CloudAssembly):
    template = dev_assembly.templates["PubSub"]
    functions = resources_of_type(template, "AWS::Lambda::Function")
    for mapping in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        assert props["BatchSize"] == 10
        function = functions[props["FunctionName"]["Ref"]]
        subscriber = function["Properties"]["Environment"]["Variables"][
            contract.ENV_SUBSCRIBER_NAME
        ]
        queue = props["EventSourceArn"]["Fn::GetAtt"][0]
        prefix = "PubSub" + contract.subscriber_id(contract.SubscriberName(subscriber))
        assert queue.startswith(prefix), (subscriber, queue)


def test_consumers_share_one_handler_and_differ_by_subscriber_name(pub_sub: Template):
    for name in contract.SubscriberName:
        pub_sub.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Handler": contract.SUBSCRIBER_HANDLER,
                "Timeout": 30,
                "Environment": {
                    "Variables": Match.object_like(
                        {
                            contract.ENV_SUBSCRIBER_NAME: name.value,
                            contract.ENV_LEDGER_TABLE_NAME: {"Ref": "PubSubLedgerTableB41CC6F7"},
                            contract.ENV_IDEMPOTENCY_TABLE_NAME: {
                                "Ref": "PubSubIdempotencyTable7EC7F47B"
                            },
                        }
                    )
                },
            },
        )


def _policy_of(template: dict, function_prefix: str) -> list[dict]:
    (policy,) = (
        p
        for logical_id, p in resources_of_type(template, "AWS::IAM::Policy").items()
        if logical_id.startswith(function_prefix)
    )
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def test_publisher_may_only_publish_to_the_topic(dev_assembly: CloudAssembly):
    statements = _policy_of(dev_assembly.templates["PubSub"], "PubSubPublisherRole")
    (publish,) = (s for s in statements if "sns:Publish" in _actions(s))
    assert publish["Resource"] == {"Ref": "PubSubTopic59C60992"}
    (kms,) = (s for s in statements if "kms:Decrypt" in _actions(s))
    assert kms["Resource"] == {"Fn::GetAtt": ["PubSubTopicKey575BDE99", "Arn"]}
    services = {action.split(":")[0] for s in statements for action in _actions(s)}
    assert services == {"logs", "xray", "sns", "kms"}


def test_consumer_may_only_read_its_own_queue_and_write_the_tables(dev_assembly: CloudAssembly):
    statements = _policy_of(dev_assembly.templates["PubSub"], "PubSubFulfilmentConsumerRole")

    def resources_for(service: str) -> set[str]:
        return {
            resource["Fn::GetAtt"][0]
            for s in statements
            if any(action.startswith(f"{service}:") for action in _actions(s))
            for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        }

    assert resources_for("sqs") == {"PubSubFulfilmentInboxQueue0165868A"}
    assert resources_for("dynamodb") == {
        "PubSubIdempotencyTable7EC7F47B",
        "PubSubLedgerTableB41CC6F7",
    }
    services = {action.split(":")[0] for s in statements for action in _actions(s)}
    assert services == {"logs", "xray", "sqs", "dynamodb"}


def test_stack_outputs_what_a_user_needs_to_drive_it(pub_sub: Template):
    for output in (
        contract.OUTPUT_TOPIC_ARN,
        contract.OUTPUT_PUBLISHER_FUNCTION_NAME,
        contract.OUTPUT_LEDGER_TABLE_NAME,
        *(contract.output_queue_url(name) for name in contract.SubscriberName),
        *(contract.output_dead_letter_queue_url(name) for name in contract.SubscriberName),
    ):
        pub_sub.has_output(output, {"Value": Match.any_value()})


def test_events_the_publisher_could_not_publish_raise_an_alarm(pub_sub: Template):
    pub_sub.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.PUBLISHER_HANDLER,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "POWERTOOLS_SERVICE_NAME": contract.PUBLISHER_SERVICE_NAME,
                        "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns",
                    }
                )
            },
        },
    )
    pub_sub.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "ServerlessPatterns",
            "MetricName": contract.EVENTS_NOT_PUBLISHED_METRIC,
            "Dimensions": [{"Name": "service", "Value": contract.PUBLISHER_SERVICE_NAME}],
            "Statistic": "Sum",
            "Threshold": 1,
        },
    )
