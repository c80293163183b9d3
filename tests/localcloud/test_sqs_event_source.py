"""SQS -> Lambda on localcloud keeps Lambda's rules: batches, windows, partial failures, redrive."""

from __future__ import annotations

import json

import pytest

from localcloud.testing import App, ref
from tests.localcloud.apps import SQS_CONSUMER, bodies, deliveries


def _consumer_app(
    *,
    mode: str = "succeed",
    batch_size: int = 10,
    batching_window: int | None = None,
    report_failures: bool = False,
    visibility_timeout: int = 30,
    extra_environment: dict[str, str] | None = None,
) -> App:
    """An inbox (maxReceiveCount 2, then its DLQ) consumed by SQS_CONSUMER in `mode`."""
    app = App()
    inbox = app.queue("Inbox", visibility_timeout=visibility_timeout, max_receive_count=2)
    table = app.table("Deliveries")
    consumer = app.function(
        "Consumer",
        SQS_CONSUMER,
        environment={"TABLE_NAME": ref(table), "MODE": mode, **(extra_environment or {})},
    )
    app.sqs_source(
        consumer,
        inbox,
        batch_size=batch_size,
        batching_window=batching_window,
        report_failures=report_failures,
    )
    return app


def _send(cloud, *texts: str) -> None:
    queue_url = cloud.outputs("Stack")["InboxUrl"]
    for text in texts:
        cloud.client("sqs").send_message(QueueUrl=queue_url, MessageBody=text)


def test_a_queue_is_delivered_in_batches_of_the_mapping_batch_size(launch):
    cloud = launch(_consumer_app(batch_size=10))

    _send(cloud, *(f"m{n:02}" for n in range(25)))
    cloud.settle()

    # THEN 25 messages arrive as 10 + 10 + 5, each exactly once
    assert [invocation.payload["records"] for invocation in cloud.invocations] == [10, 10, 5]
    outputs = cloud.outputs("Stack")
    assert deliveries(cloud, outputs["DeliveriesName"]) == {f"m{n:02}": 1 for n in range(25)}


def test_a_batching_window_holds_a_partial_batch_until_it_ends(launch):
    cloud = launch(_consumer_app(batch_size=100, batching_window=20))
    cloud.engine.time_scale = 1  # AWS's own timing

    # WHEN two messages (far fewer than the batch size) arrive
    _send(cloud, "first", "second")
    cloud.engine.pump(fast_forward=False)

    # THEN nothing is delivered inside the window...
    assert cloud.invocations == []

    cloud.engine.clock.advance(19)
    cloud.engine.pump(fast_forward=False)
    assert cloud.invocations == []

    cloud.engine.clock.advance(2)
    cloud.engine.pump(fast_forward=False)

    # ...and both arrive together once it has passed
    assert [invocation.payload["records"] for invocation in cloud.invocations] == [2]


def test_only_the_reported_item_failure_is_redelivered_then_dead_lettered(launch):
    cloud = launch(_consumer_app(mode="report", report_failures=True))
    outputs = cloud.outputs("Stack")

    _send(cloud, "good-1", "poison", "good-2")
    cloud.settle()

    # THEN the good messages were processed once; the failed one came back until
    # maxReceiveCount (2) and then went to the DLQ
    assert deliveries(cloud, outputs["DeliveriesName"]) == {"good-1": 1, "good-2": 1, "poison": 2}
    assert bodies(cloud, outputs["InboxDlqUrl"]) == ["poison"]
    assert bodies(cloud, outputs["InboxUrl"]) == []


@pytest.mark.parametrize(
    "malformed_failure",
    [{"itemIdentifier": "not-in-this-batch"}, {"itemIdentifier": ""}, {}],
    ids=["unknown-id", "empty-id", "missing-id"],
)
def test_a_malformed_partial_batch_response_fails_the_whole_batch(launch, malformed_failure):
    cloud = launch(
        _consumer_app(
            mode="report-malformed",
            report_failures=True,
            extra_environment={"MALFORMED_FAILURE": json.dumps(malformed_failure)},
        )
    )
    outputs = cloud.outputs("Stack")

    _send(cloud, "good-1", "poison", "good-2")
    cloud.settle()

    # THEN every message of the batch was retried, and all ended in the DLQ
    assert deliveries(cloud, outputs["DeliveriesName"]) == {"good-1": 2, "good-2": 2, "poison": 2}
    assert bodies(cloud, outputs["InboxDlqUrl"]) == ["good-1", "good-2", "poison"]


def test_batch_item_failures_are_ignored_without_report_batch_item_failures(launch):
    cloud = launch(_consumer_app(mode="report", report_failures=False))
    outputs = cloud.outputs("Stack")

    _send(cloud, "good-1", "poison")
    cloud.settle()

    # THEN the invocation succeeded, so Lambda deleted the whole batch
    assert deliveries(cloud, outputs["DeliveriesName"]) == {"good-1": 1, "poison": 1}
    assert bodies(cloud, outputs["InboxUrl"]) == []
    assert bodies(cloud, outputs["InboxDlqUrl"]) == []


def test_a_raising_handler_returns_the_whole_batch_and_nothing_is_lost(launch):
    cloud = launch(_consumer_app(mode="raise", batch_size=5))
    outputs = cloud.outputs("Stack")
    sent = [f"poison-{n:02}" for n in range(12)]

    _send(cloud, *sent)
    cloud.settle()

    # THEN each message was received maxReceiveCount times, then moved to the DLQ
    assert deliveries(cloud, outputs["DeliveriesName"]) == dict.fromkeys(sent, 2)
    assert all(invocation.error is not None for invocation in cloud.invocations)
    assert bodies(cloud, outputs["InboxDlqUrl"]) == sent
    assert bodies(cloud, outputs["InboxUrl"]) == []


def test_processed_plus_dead_lettered_accounts_for_every_message_sent(launch):
    cloud = launch(_consumer_app(mode="raise", batch_size=1))
    outputs = cloud.outputs("Stack")
    good = [f"good-{n}" for n in range(4)]
    poisoned = [f"poison-{n}" for n in range(3)]

    _send(cloud, *good, *poisoned)
    cloud.settle()

    # THEN the good ones were processed once, the poisoned ones are in the DLQ, none lost
    seen = deliveries(cloud, outputs["DeliveriesName"])
    dead_lettered = bodies(cloud, outputs["InboxDlqUrl"])
    processed = sorted(body for body in seen if body not in dead_lettered)
    assert processed == good
    assert all(seen[body] == 1 for body in good)
    assert dead_lettered == poisoned
    assert len(processed) + len(dead_lettered) == len(good) + len(poisoned)


def test_a_failed_message_returns_only_after_the_queue_visibility_timeout(launch):
    cloud = launch(_consumer_app(mode="raise", visibility_timeout=30))
    cloud.engine.time_scale = 1  # AWS's own timing
    table = cloud.outputs("Stack")["DeliveriesName"]

    _send(cloud, "poison")
    cloud.engine.pump(fast_forward=False)
    assert deliveries(cloud, table) == {"poison": 1}

    # WHEN polled again within the 30 s visibility timeout, it is still invisible
    cloud.engine.clock.advance(29)
    cloud.engine.pump(fast_forward=False)
    assert deliveries(cloud, table) == {"poison": 1}

    # THEN once the timeout has passed on the engine's clock it is delivered again
    cloud.engine.clock.advance(2)
    cloud.engine.pump(fast_forward=False)
    assert deliveries(cloud, table) == {"poison": 2}


def test_settle_takes_a_pending_visibility_timeout_as_over(launch):
    cloud = launch(_consumer_app(mode="raise", visibility_timeout=300))
    cloud.engine.time_scale = 1  # real time, as under `localcloud up`
    outputs = cloud.outputs("Stack")

    # GIVEN a message that failed once and now waits out a 5-minute visibility timeout
    _send(cloud, "poison")
    cloud.engine.pump(fast_forward=False)
    assert deliveries(cloud, outputs["DeliveriesName"]) == {"poison": 1}

    # WHEN settling
    cloud.settle()

    # THEN it was redelivered at once, up to maxReceiveCount, and sits in the DLQ
    assert deliveries(cloud, outputs["DeliveriesName"]) == {"poison": 2}
    assert bodies(cloud, outputs["InboxDlqUrl"]) == ["poison"]
