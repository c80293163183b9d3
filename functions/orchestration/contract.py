"""Names the orchestration stack, its functions, the demo and the tests share: each is written
here and nowhere else.

Standard library only: infra, the demo and the tests import this module as well as the
functions, and it ships in the functions' asset with the rest of `orchestration/`.
"""

from __future__ import annotations

from enum import StrEnum

# Handlers, as Lambda resolves them from the asset root.
API_HANDLER = "orchestration.api.handler"
EVENTS_HANDLER = "orchestration.events.handler"
STEPS_HANDLER = "orchestration.steps.handler"
DURABLE_HANDLER = "orchestration.durable.handler"


class Workflow(StrEnum):
    """The two implementations of the saga; an order names the one that runs it."""

    STEP_FUNCTIONS = "step-functions"
    DURABLE_FUNCTION = "durable-function"


class Step(StrEnum):
    """What the steps function does for one Step Functions task (the payload's `step`)."""

    VALIDATE = "validate"
    RESERVE_LINE = "reserve-line"
    RELEASE_STOCK = "release-stock"
    REQUEST_APPROVAL = "request-approval"
    CHARGE_PAYMENT = "charge-payment"
    REFUND_PAYMENT = "refund-payment"
    SHIP = "ship"
    NOTIFY = "notify"
    COMPLETE = "complete"
    RECORD_FAILURE = "record-failure"


class OrderStatus(StrEnum):
    """An order's status in the orders table, as `GET /orders/{id}` shows it."""

    RUNNING = "RUNNING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class FailureReason(StrEnum):
    """Why a saga failed: the order's `failure_reason` and the execution's error."""

    OUT_OF_STOCK = "OutOfStock"
    PAYMENT_DECLINED = "PaymentDeclined"
    SHIPMENT_REFUSED = "ShipmentRefused"
    APPROVAL_REJECTED = "ApprovalRejected"
    APPROVAL_TIMED_OUT = "ApprovalTimedOut"
    #: A participant kept failing after every retry (or failed in a way no rule names).
    PARTICIPANT_UNAVAILABLE = "ParticipantUnavailable"


#: The error a participant raises for a failure it knows is worth retrying (a provider briefly
#: unavailable, a response lost after the work was done). Both sagas retry every error but a
#: business failure (`FailureReason`), this one included.
TRANSIENT_ERROR = "TransientStepError"
#: Step Functions' error when a task outlives its timeout: the approval's deadline.
STATES_TIMEOUT = "States.Timeout"


class Compensation(StrEnum):
    """What undoing a step records on the order, once, when it changed something."""

    REFUND = "refund"
    RELEASE = "release"


def compensation_entry(kind: Compensation, subject: str | None = None) -> str:
    """The order's record of one compensation: `refund`, `release:BOOK-1`."""
    return kind.value if subject is None else f"{kind.value}:{subject}"


#: Payment tokens of the sandbox payment provider the template ships with (replace it with
#: your provider's client): as with card networks' test cards, the token chooses the answer.
class SandboxCard(StrEnum):
    APPROVED = "tok_visa"
    DECLINED = "tok_declined"
    #: The provider is unavailable on the first attempt (nothing charged), then approves.
    UNAVAILABLE_ONCE = "tok_unavailable_once"
    #: The first attempt charges the card but its answer is lost (a worker dying right after
    #: the provider acted); the retry must find the charge, not make a second one.
    LOST_RESPONSE_ONCE = "tok_lost_response_once"


#: Countries the sandbox carrier delivers to; any other address is refused.
SHIPPABLE_COUNTRIES = frozenset({"IE", "GB", "FR", "DE", "ES", "IT", "NL", "BE", "PT", "US"})

# Environment variables the stack sets and the functions read.
ENV_TABLE_NAME = "TABLE_NAME"
ENV_STATE_MACHINE_ARN = "STATE_MACHINE_ARN"
#: The durable function, qualified (`...:function:name:$LATEST`): a durable execution is
#: started on a qualified ARN.
ENV_DURABLE_FUNCTION_ARN = "DURABLE_FUNCTION_ARN"
ENV_APPROVAL_THRESHOLD_CENTS = "APPROVAL_THRESHOLD_CENTS"
ENV_APPROVAL_TIMEOUT_SECONDS = "APPROVAL_TIMEOUT_SECONDS"
ENV_MAX_CONCURRENCY = "MAP_MAX_CONCURRENCY"
ENV_RETRY_MAX_ATTEMPTS = "RETRY_MAX_ATTEMPTS"
ENV_RETRY_BASE_SECONDS = "RETRY_BASE_SECONDS"

#: Powertools' `service` of each function.
API_SERVICE_NAME = "orchestration-api"
EVENTS_SERVICE_NAME = "orchestration-events"
STEPS_SERVICE_NAME = "orchestration-steps"
DURABLE_SERVICE_NAME = "orchestration-durable"

# The event that starts a saga from EventBridge (on the stack's bus).
EVENT_SOURCE = "shop.orders"
EVENT_DETAIL_TYPE = "OrderPlaced"

#: The routes of the orders API: (method, path).
ROUTES = (
    ("POST", "/orders"),
    ("GET", "/orders/{order_id}"),
    ("POST", "/orders/{order_id}/approval"),
    ("GET", "/openapi.json"),
)

# Stack outputs a user, the demo and the tests drive the stack with.
OUTPUT_API_URL = "ApiUrl"
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_STATE_MACHINE_ARN = "StateMachineArn"
OUTPUT_DURABLE_FUNCTION_NAME = "DurableFunctionName"
OUTPUT_STEPS_FUNCTION_NAME = "StepsFunctionName"
OUTPUT_EVENT_BUS_NAME = "EventBusName"
OUTPUT_EVENTS_DEAD_LETTER_QUEUE_URL = "EventsDeadLetterQueueUrl"


# The table's keys: one partition per order (its record, reservations, payment, shipment,
# notification, approval) and one item per SKU's stock.
ORDER_SORT_KEY = "ORDER"
PAYMENT_SORT_KEY = "PAYMENT"
SHIPMENT_SORT_KEY = "SHIPMENT"
NOTIFICATION_SORT_KEY = "NOTIFICATION"
APPROVAL_SORT_KEY = "APPROVAL"
STOCK_SORT_KEY = "STOCK"


def order_key(order_id: str, sort_key: str = ORDER_SORT_KEY) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": sort_key}


def reservation_key(order_id: str, line_number: int, sku: str) -> dict[str, str]:
    """One line's reservation: by its position, so two lines of one SKU hold one each."""
    return {"pk": f"ORDER#{order_id}", "sk": f"RESERVATION#{line_number:03d}#{sku}"}


def stock_key(sku: str) -> dict[str, str]:
    return {"pk": f"STOCK#{sku}", "sk": STOCK_SORT_KEY}
