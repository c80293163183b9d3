"""Pure orchestration logic: order checks, the approval rule, the sandbox providers' answers,
and what an execution's error means for the order. No boto3."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
from collections.abc import Iterator
from enum import StrEnum

from shared.batches import Backoff
from shared.routes import RouteTable, is_json_media_type
from shared.validation import parse_request

from orchestration.contract import (
    ROUTES,
    SHIPPABLE_COUNTRIES,
    STATES_TIMEOUT,
    TRANSIENT_ERROR,
    FailureReason,
    SandboxCard,
)
from orchestration.errors import (
    BodyTooLargeError,
    InvalidOrderError,
    MalformedBodyError,
    UnsupportedMediaTypeError,
)
from orchestration.models import Order, PlaceOrder, ShippingAddress

#: Longest failure cause kept on the order (Step Functions allows 32,768 characters).
MAX_CAUSE_LENGTH = 1000
#: The largest request body the API reads: 25 lines and an address fit in a few KiB.
MAX_BODY_BYTES = 32 * 1024

#: The methods the API serves on a path (sorted, for an `Allow` header); empty if none.
allowed_methods = RouteTable(ROUTES).allowed_methods


def check_json_content_type(content_type: str | None) -> None:
    """Accept only `application/json` (any letter case, any parameters); raises
    `UnsupportedMediaTypeError` otherwise, a missing type included: it is not guessed at."""
    if not is_json_media_type(content_type):
        raise UnsupportedMediaTypeError


def check_raw_body(body: str | None, *, is_base64_encoded: bool) -> None:
    """Refuse a body over `MAX_BODY_BYTES` (`BodyTooLargeError`) or one that is not UTF-8 text
    (`MalformedBodyError`), before any parsing."""
    if not body:
        return
    if not is_base64_encoded:
        size = len(body.encode("utf-8", errors="surrogatepass"))
        if size > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"request body is {size} bytes; the limit is {MAX_BODY_BYTES}")
        return
    estimated = len(body) * 3 // 4
    if estimated > MAX_BODY_BYTES:
        raise BodyTooLargeError(f"request body is {estimated} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        base64.b64decode(body, validate=True).decode("utf-8")
    except binascii.Error:
        raise MalformedBodyError("request body is marked base64-encoded but is not") from None
    except UnicodeDecodeError:
        raise MalformedBodyError("request body is not UTF-8 text") from None


def parse_place_order(payload: object) -> PlaceOrder:
    """The order and workflow of an API request or an `OrderPlaced` event's detail; raises
    `InvalidOrderError` saying every problem."""
    return parse_request(
        PlaceOrder,
        payload,
        error=InvalidOrderError,
        request="order",
        shape='{"order_id": ..., "customer_id": ..., "lines": [...], ...}',
    )


def parse_order(payload: object) -> Order:
    """The order a saga runs; raises `InvalidOrderError`."""
    return parse_request(
        Order, payload, error=InvalidOrderError, request="order", shape='{"order_id": ...}'
    )


def needs_approval(order: Order, threshold_cents: int) -> bool:
    """Orders over the threshold wait for a person's approval before the card is charged."""
    return order.total_cents > threshold_cents


def fingerprint(order: Order, workflow: str) -> str:
    """What makes two placements of one order id the same order: its content and workflow."""
    canonical = json.dumps(
        {"order": order.model_dump(mode="json"), "workflow": workflow},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ChargeAnswer(StrEnum):
    """The sandbox payment provider's answer to one charge attempt."""

    CHARGED = "charged"
    DECLINED = "declined"
    #: Nothing was charged; ask again later.
    UNAVAILABLE = "unavailable"
    #: The card was charged but the answer never reached the caller.
    CHARGED_ANSWER_LOST = "charged-answer-lost"


def sandbox_charge(token: str, attempt: int) -> ChargeAnswer:
    """The sandbox provider's answer to attempt number `attempt` (from 1) for `token`."""
    match token:
        case SandboxCard.DECLINED:
            return ChargeAnswer.DECLINED
        case SandboxCard.UNAVAILABLE_ONCE if attempt == 1:
            return ChargeAnswer.UNAVAILABLE
        case SandboxCard.LOST_RESPONSE_ONCE if attempt == 1:
            return ChargeAnswer.CHARGED_ANSWER_LOST
        case _:
            return ChargeAnswer.CHARGED


def carrier_accepts(address: ShippingAddress) -> bool:
    """Whether the sandbox carrier delivers to `address`."""
    return address.country in SHIPPABLE_COUNTRIES


def tracking_number(order_id: str) -> str:
    """The shipment's tracking number: one per order, so a retried shipment is the same one."""
    return f"TRK-{order_id}"


def failure_reason(error: str | None) -> FailureReason:
    """What an execution's error name means for the order.

    A participant's business failure is named after its reason; `States.Timeout` on the
    approval task is its deadline passing; anything else (retries exhausted, a crash no retry
    absorbed) is a participant that stayed unavailable.
    """
    if error == STATES_TIMEOUT:
        return FailureReason.APPROVAL_TIMED_OUT
    short = (error or "").rsplit(".", 1)[-1]
    try:
        return FailureReason(short)
    except ValueError:
        return FailureReason.PARTICIPANT_UNAVAILABLE


def failure_cause(cause: str | None) -> str:
    """A readable cause from Step Functions' `Cause` (a Lambda error's JSON) or a message."""
    text = cause or ""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        text = parsed["errorMessage"]
    return text[:MAX_CAUSE_LENGTH] or "no cause given"


def is_transient(error_type: str | None) -> bool:
    """Whether an error (by its type name, qualified or not) is worth retrying: anything but a
    business failure. A participant says `TransientStepError` when it knows; an error it did
    not expect (a throttled or failed call past the SDK's own retries, a crash) is more often
    passing than not, and every step is safe to run again."""
    short = (error_type or "").rsplit(".", 1)[-1]
    return short == TRANSIENT_ERROR or short not in {reason.value for reason in FailureReason}


def retry_delays(backoff: Backoff, seed: str) -> Iterator[int]:
    """The whole seconds to wait before each retry, with full jitter, at least one second
    (a durable wait's unit and minimum).

    Seeded per order and step: a durable function computes its delays again on every replay,
    and the same seed gives the same delays, while different orders still spread out.
    """
    rng = random.Random(seed)  # noqa: S311 - jitter, not security
    for retry in range(backoff.max_attempts - 1):
        yield max(1, round(backoff.delay(retry, rng)))
