"""Pure pub-sub logic: request validation, batching, envelope unwrapping, subscriber effects."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from pydantic import ValidationError
from shared.batches import chunks
from shared.validation import describe_validation_error, parse_request

from pub_sub.contract import EventType, SubscriberName
from pub_sub.errors import (
    InvalidOrderEventError,
    InvalidPublishRequestError,
    MalformedMessageError,
    PublishBatchRefusedError,
    PublishFailedError,
    UnexpectedEventError,
)
from pub_sub.models import (
    BatchOutcome,
    FailedEvent,
    LedgerUpdate,
    OrderEvent,
    PublishEntry,
    PublishRequest,
    PublishSummary,
)

#: SNS PublishBatch takes at most ten entries per call.
MAX_ENTRIES_PER_PUBLISH_BATCH = 10


# --- publisher ---------------------------------------------------------------------------


PublishBatch = Callable[[Sequence[PublishEntry]], BatchOutcome]


def parse_publish_request(payload: object) -> tuple[OrderEvent, ...]:
    """The events of a publisher invoke, all validated before any is published.

    Raises `InvalidPublishRequestError` naming each bad event's index and field, e.g.
    `events[2].amount: Input should be greater than or equal to 0`.
    """
    request = parse_request(
        PublishRequest,
        payload,
        error=InvalidPublishRequestError,
        request="publish request",
        shape='{"events": [...]}',
    )
    first_index: dict[str, int] = {}
    for index, event in enumerate(request.events):
        event_id = str(event.event_id)
        if event_id in first_index:
            # Subscribers would apply only the first of two events sharing an id: a caller bug.
            raise InvalidPublishRequestError(
                f"invalid publish request: events[{index}].event_id: {event_id} "
                f"repeats events[{first_index[event_id]}].event_id"
            )
        first_index[event_id] = index
    return tuple(request.events)


def publish_entries(events: Sequence[OrderEvent]) -> list[PublishEntry]:
    return [
        PublishEntry(entry_id=f"event-{index}", index=index, event=event)
        for index, event in enumerate(events)
    ]


def publish_all(events: Sequence[OrderEvent], publish_batch: PublishBatch) -> PublishSummary:
    """Publish `events` ten per call through `publish_batch`; report entries SNS did not accept.

    Entry-level failures are returned, not raised: the caller republishes exactly those (their
    `event_id`s make a republish harmless). A call SNS refuses as a whole raises
    `PublishFailedError`, whose message says which events are already on the topic.
    """
    entries = publish_entries(events)
    by_entry_id = {entry.entry_id: entry for entry in entries}
    message_ids: dict[str, str] = {}
    failed: list[FailedEvent] = []
    for batch in chunks(entries, MAX_ENTRIES_PER_PUBLISH_BATCH):
        try:
            outcome = publish_batch(batch)
        except PublishBatchRefusedError as error:
            first = batch[0].index
            raise PublishFailedError(
                f"SNS refused PublishBatch for events[{first}..{batch[-1].index}] "
                f"({error.code}: {error}); events[{first}:] were not published, "
                f"{len(message_ids)} earlier event(s) were; re-invoking with the same events "
                "is safe: subscribers deduplicate on event_id",
                summary=PublishSummary(message_ids=message_ids, failed=failed),
            ) from error
        for entry_id, message_id in outcome.message_ids.items():
            message_ids[str(by_entry_id[entry_id].event.event_id)] = message_id
        for failure in outcome.failures:
            entry = by_entry_id[failure.entry_id]
            failed.append(
                FailedEvent(
                    index=entry.index,
                    event_id=str(entry.event.event_id),
                    code=failure.code,
                    message=failure.message,
                    sender_fault=failure.sender_fault,
                )
            )
    return PublishSummary(message_ids=message_ids, failed=failed)


# --- subscribers -------------------------------------------------------------------------


def unwrap_message(body: str) -> str:
    """The published message inside an SQS body, for either delivery mode.

    With SNS's default delivery the body is a notification envelope whose `Message` holds the
    message; with raw message delivery the body is the message itself.
    """
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise MalformedMessageError(f"the SQS body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise MalformedMessageError(
            f"the SQS body is JSON {type(document).__name__}, not an object"
        )
    if document.get("Type") != "Notification":
        return body
    message = document.get("Message")
    if not isinstance(message, str):
        raise MalformedMessageError("the SNS notification envelope has no string Message")
    return message


def parse_order_event(body: str) -> OrderEvent:
    """The order event an SQS record carries; raises a `PoisonMessageError` if there is none."""
    message = unwrap_message(body)
    try:
        return OrderEvent.model_validate_json(message)
    except ValidationError as error:
        raise InvalidOrderEventError(
            f"not an order event: {describe_validation_error(error)}"
        ) from None


Effect = Callable[[OrderEvent], tuple[LedgerUpdate, ...]]


def _order_key(event: OrderEvent) -> str:
    return f"ORDER#{event.order_id}"


def _audit(event: OrderEvent) -> dict[str, str]:
    return {
        "last_event_id": str(event.event_id),
        "last_event_type": event.event_type.value,
        "updated_at": event.occurred_at.isoformat(),
    }


def _reserve_stock(event: OrderEvent) -> tuple[LedgerUpdate, ...]:
    return (
        LedgerUpdate(
            pk=_order_key(event),
            sk=SubscriberName.FULFILMENT.value,
            add={"reservations": 1},
            set={
                "status": "stock_reserved",
                "amount": event.amount,
                "currency": event.currency,
                **_audit(event),
            },
        ),
    )


def _release_stock(event: OrderEvent) -> tuple[LedgerUpdate, ...]:
    return (
        LedgerUpdate(
            pk=_order_key(event),
            sk=SubscriberName.FULFILMENT.value,
            add={"releases": 1},
            set={"status": "stock_released", **_audit(event)},
        ),
    )


_NOTICES = {
    EventType.ORDER_SHIPPED: "Your order {order_id} has shipped.",
    EventType.ORDER_CANCELLED: "Your order {order_id} was cancelled.",
}


def _notify_customer(event: OrderEvent) -> tuple[LedgerUpdate, ...]:
    if event.customer_id is None:
        raise InvalidOrderEventError(
            f"event {event.event_id}: notifications need a customer_id to address"
        )
    return (
        LedgerUpdate(
            pk=_order_key(event),
            sk=SubscriberName.NOTIFICATIONS.value,
            add={"notifications_sent": 1},
            set={
                "recipient": event.customer_id,
                "last_message": _NOTICES[event.event_type].format(order_id=event.order_id),
                **_audit(event),
            },
        ),
    )


def _request_review(event: OrderEvent) -> tuple[LedgerUpdate, ...]:
    review: dict[str, str | int | Decimal] = {
        "status": "pending_review",
        "amount": event.amount,
        "currency": event.currency,
        **_audit(event),
    }
    if event.customer_id is not None:
        review["customer_id"] = event.customer_id
    return (
        LedgerUpdate(
            pk=_order_key(event),
            sk=SubscriberName.FRAUD_REVIEW.value,
            add={"reviews_requested": 1},
            set=review,
        ),
        # A daily total per currency: what the review team has on its desk that day.
        LedgerUpdate(
            pk=f"FRAUD_REVIEW#{event.occurred_at.date().isoformat()}",
            sk=f"TOTAL#{event.currency}",
            add={"reviews": 1, "amount_under_review": event.amount},
        ),
    )


#: What each subscriber does per event type. An event type missing here is one its filter
#: policy should have dropped. fraud_review's amount threshold is left to its body filter:
#: repeating it here would be a second copy of a number that lives in the infrastructure.
EFFECTS: Mapping[SubscriberName, Mapping[EventType, Effect]] = {
    SubscriberName.FULFILMENT: {
        EventType.ORDER_PLACED: _reserve_stock,
        EventType.ORDER_CANCELLED: _release_stock,
    },
    SubscriberName.NOTIFICATIONS: {
        EventType.ORDER_SHIPPED: _notify_customer,
        EventType.ORDER_CANCELLED: _notify_customer,
    },
    SubscriberName.FRAUD_REVIEW: {
        EventType.ORDER_PLACED: _request_review,
    },
}


def effects_for(subscriber: SubscriberName, event: OrderEvent) -> tuple[LedgerUpdate, ...]:
    """The ledger updates `subscriber` makes for `event`.

    Raises `UnexpectedEventError` for an event type the subscriber has no effect for: a filter
    policy that lets it through is a misconfiguration to surface (DLQ), not to hide.
    """
    effect = EFFECTS[subscriber].get(event.event_type)
    if effect is None:
        raise UnexpectedEventError(
            f"{subscriber.value} has no effect for {event.event_type.value} "
            f"(event {event.event_id}); its subscription filter should not have delivered it"
        )
    return effect(event)
