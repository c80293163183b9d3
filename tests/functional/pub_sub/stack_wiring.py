"""How the PubSub stack wires its subscriptions and queues, restated for moto."""

from __future__ import annotations

import json

from pub_sub.contract import EventType, SubscriberName

#: The redrive policy of every subscriber queue (the PubSub construct's default).
MAX_RECEIVE_COUNT = 5

#: The subscriptions of infra/patterns/pub_sub.py DEFAULT_SUBSCRIBERS, as SNS attributes.
#: test_pipeline.py::test_the_moto_wiring_matches_the_synthesized_stack checks them.
SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    SubscriberName.FULFILMENT: {
        "FilterPolicy": json.dumps(
            {"event_type": [EventType.ORDER_PLACED, EventType.ORDER_CANCELLED]}
        ),
    },
    SubscriberName.NOTIFICATIONS: {
        "FilterPolicy": json.dumps(
            {"event_type": [EventType.ORDER_SHIPPED, EventType.ORDER_CANCELLED]}
        ),
        "RawMessageDelivery": "true",
    },
    SubscriberName.FRAUD_REVIEW: {
        "FilterPolicy": json.dumps(
            {"event_type": [EventType.ORDER_PLACED], "amount": [{"numeric": [">=", 1000]}]}
        ),
        "FilterPolicyScope": "MessageBody",
    },
}
