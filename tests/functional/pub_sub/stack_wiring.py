"""How the PubSub stack wires its subscriptions and queues, restated for moto."""

from __future__ import annotations

import json

#: The redrive policy of every subscriber queue (the PubSub construct's default).
MAX_RECEIVE_COUNT = 5

#: The subscriptions of infra/patterns/pub_sub.py DEFAULT_SUBSCRIBERS, as SNS attributes.
#: test_pipeline.py::test_the_moto_wiring_matches_the_synthesized_stack checks them.
SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    "fulfilment": {
        "FilterPolicy": json.dumps({"event_type": ["order_placed", "order_cancelled"]}),
    },
    "notifications": {
        "FilterPolicy": json.dumps({"event_type": ["order_shipped", "order_cancelled"]}),
        "RawMessageDelivery": "true",
    },
    "fraud_review": {
        "FilterPolicy": json.dumps(
            {"event_type": ["order_placed"], "amount": [{"numeric": [">=", 1000]}]}
        ),
        "FilterPolicyScope": "MessageBody",
    },
}
