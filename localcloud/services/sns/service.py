"""SNS: subscriptions from the template, notifications to functions as Lambda's async invokes,
and messages published to a topic by ARN.

moto's CloudFormation skips `AWS::SNS::Subscription`; the `SnsSubscription` model creates each
in moto's SNS backend with its filter policy (and its scope), raw delivery, redrive and delivery
policies. moto delivers to queues itself (filters included); a notification to a function
becomes an asynchronous invocation, with Lambda's retries and destinations. The engine's
dispatcher hands it messages for `arn:aws:sns:...`.
"""

from __future__ import annotations

import json

from moto.sns import models as sns_models
from moto.sns.models import sns_backends

from localcloud.core.cloudformation import OwnedResource
from localcloud.core.engine import active_engine
from localcloud.core.hooks import Hook
from localcloud.core.service import DeliveryError, Message, Service
from localcloud.rules import lambda_delivery


class Topics(Service):
    """SNS subscriptions and deliveries to topics (see the module docstring)."""

    NAME = "sns"
    DELIVERS = ("sns",)

    def deliver(self, arn: str, message: Message) -> None:
        region, account = arn.split(":")[3:5]
        backend = sns_backends[account][region]
        if arn not in backend.topics:
            raise DeliveryError("NO_RESOURCE", f"Topic not found: {arn}")
        backend.publish(
            message.body,
            arn=arn,
            subject=message.subject,
            message_attributes={
                name: {"Type": value["DataType"], "Value": value["StringValue"]}
                for name, value in message.attributes.items()
            },
        )


class SnsSubscription(OwnedResource):
    resource_type = "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **_
    ) -> SnsSubscription:
        props = cloudformation_json["Properties"]
        topic_arn = props["TopicArn"]
        backend = sns_backends[account_id][topic_arn.split(":")[3]]
        subscription = backend.subscribe(topic_arn, props["Endpoint"], props["Protocol"])
        attributes = {
            "FilterPolicy": props.get("FilterPolicy"),
            "FilterPolicyScope": props.get("FilterPolicyScope"),
            "RawMessageDelivery": props.get("RawMessageDelivery"),
            "RedrivePolicy": props.get("RedrivePolicy"),
            "DeliveryPolicy": props.get("DeliveryPolicy"),
        }
        # The scope goes first: it decides how the filter policy is read.
        for name in (
            "FilterPolicyScope",
            *(key for key in attributes if key != "FilterPolicyScope"),
        ):
            value = attributes[name]
            if value is None:
                continue
            if name == "RawMessageDelivery":
                # moto's delivery tests the value's truth, so it must be a real boolean.
                value = value is True or str(value).lower() == "true"
            elif isinstance(value, dict):
                value = json.dumps(value)
            backend.set_subscription_attributes(subscription.arn, name, value)
        return cls(subscription.arn, props, region_name, account_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sns_backends[account_id][self.physical_id.split(":")[3]]
        if self.physical_id in backend.subscriptions:
            backend.unsubscribe(self.physical_id)


# -- moto hooks ---------------------------------------------------------------------------


def _sns_to_lambda_is_async(original):
    def publish(self, message, message_id, subject=None, message_attributes=None, **kwargs):
        if self.protocol != "lambda":
            return original(
                self,
                message,
                message_id,
                subject=subject,
                message_attributes=message_attributes,
                **kwargs,
            )
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
            message_attributes, message
        ):
            return None
        if kwargs.get("message_structure") == "json":
            message = self._parse_message_structure(message, self.protocol)
        engine = active_engine()
        event = lambda_delivery.sns_lambda_event(
            subscription_arn=self.arn,
            topic_arn=self.topic.arn,
            message_id=message_id,
            message=message,
            subject=subject,
            message_attributes=message_attributes,
        )
        engine.invoke_async(engine.function(self.endpoint), event, trigger=f"SNS {self.topic.name}")
        return None

    return publish


Topics.MODELS = (SnsSubscription,)
Topics.HOOKS = (
    Hook(
        sns_models.Subscription,
        "publish",
        _sns_to_lambda_is_async,
        why="SNS invokes a function asynchronously, with Lambda's retries",
        parameters=(
            "self",
            "message",
            "message_id",
            "subject",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "message_structure",
        ),
    ),
)
