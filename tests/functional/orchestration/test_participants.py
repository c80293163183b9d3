"""The saga's rules on moto, as both workflows rely on them: each step is safe to run again,
each compensation is transactional and undoes exactly what was done, once."""

from __future__ import annotations

import pytest

from orchestration import logic, participants
from orchestration.contract import Workflow
from orchestration.errors import OutOfStock, PaymentDeclined, ShipmentRefused, TransientStepError
from orchestration.models import OrderLine
from tests.functional.orchestration.conftest import STOCK


def _placed(saga, order: dict) -> object:
    parsed = logic.parse_order(order)
    saga.table.record_order(parsed, workflow=Workflow.STEP_FUNCTIONS, fingerprint="f")
    return parsed


def test_a_retried_reservation_never_takes_the_stock_twice(saga, order):
    placed = _placed(saga, order("o-1"))
    line = placed.lines[0]

    first = participants.reserve_line(saga.table, "o-1", 0, line)
    again = participants.reserve_line(saga.table, "o-1", 0, line)

    assert (first["reserved_now"], again["reserved_now"]) == (True, False)
    assert saga.stock()["BOOK-1"] == STOCK["BOOK-1"] - line.quantity
    assert saga.table.reservations("o-1") == {"BOOK-1": "RESERVED"}


def test_a_line_short_of_stock_reserves_nothing_and_says_so(saga, order):
    _placed(saga, order("o-1"))
    line = OrderLine(sku="PEN-7", quantity=STOCK["PEN-7"] + 1, unit_price_cents=300)

    with pytest.raises(OutOfStock, match="PEN-7: 6 unit"):
        participants.reserve_line(saga.table, "o-1", 0, line)

    assert saga.stock()["PEN-7"] == STOCK["PEN-7"]
    assert saga.table.reservations("o-1") == {}


def test_a_partial_reservation_is_fully_undone_and_each_release_recorded_once(saga, order):
    # GIVEN an order whose first line was reserved and whose second was short of stock
    placed = _placed(
        saga,
        order(
            "o-1",
            lines=[
                {"sku": "BOOK-1", "quantity": 4, "unit_price_cents": 1250},
                {"sku": "PEN-7", "quantity": 50, "unit_price_cents": 300},
            ],
        ),
    )
    participants.reserve_line(saga.table, "o-1", 0, placed.lines[0])
    with pytest.raises(OutOfStock):
        participants.reserve_line(saga.table, "o-1", 1, placed.lines[1])

    # WHEN the stock is released, then released again (a retried compensation)
    released = participants.release_stock(saga.table, placed)
    released_again = participants.release_stock(saga.table, placed)

    # THEN every unit is back, not one more, and the order records one release
    assert (released, released_again) == (["BOOK-1"], [])
    assert saga.stock() == STOCK
    assert saga.table.reservations("o-1") == {"BOOK-1": "RELEASED"}
    assert saga.table.order("o-1").compensations == ("release:BOOK-1",)


def test_a_reservation_retried_after_its_release_does_not_take_the_stock_again(saga, order):
    placed = _placed(saga, order("o-1"))
    participants.reserve_line(saga.table, "o-1", 0, placed.lines[0])
    participants.release_stock(saga.table, placed)

    late = participants.reserve_line(saga.table, "o-1", 0, placed.lines[0])

    assert late["reserved_now"] is False
    assert saga.stock() == STOCK


def test_a_charge_is_made_once_however_often_the_step_runs(saga, order):
    placed = _placed(saga, order("o-1"))

    first = participants.charge_payment(saga.table, placed)
    again = participants.charge_payment(saga.table, placed)

    assert first["status"] == again["status"] == "CHARGED"
    payment = saga.table.payment("o-1")
    assert payment["status"] == "CHARGED"
    assert payment["amount_cents"] == placed.total_cents == 3400
    assert payment["attempts"] == 2


def test_a_charge_whose_answer_was_lost_is_found_by_the_retry_not_made_again(saga, order):
    placed = _placed(saga, order("o-1", payment_token="tok_lost_response_once"))

    with pytest.raises(TransientStepError, match="answer was lost"):
        participants.charge_payment(saga.table, placed)
    retried = participants.charge_payment(saga.table, placed)

    assert retried["status"] == "CHARGED"
    assert participants.refund_payment(saga.table, "o-1") is True
    assert participants.refund_payment(saga.table, "o-1") is False
    assert saga.table.payment("o-1")["status"] == "REFUNDED"
    assert saga.table.order("o-1").compensations == ("refund",)


def test_an_unavailable_provider_charges_nothing_until_the_retry(saga, order):
    placed = _placed(saga, order("o-1", payment_token="tok_unavailable_once"))

    with pytest.raises(TransientStepError, match="nothing was charged"):
        participants.charge_payment(saga.table, placed)
    assert "status" not in saga.table.payment("o-1")

    assert participants.charge_payment(saga.table, placed)["status"] == "CHARGED"


def test_a_declined_card_is_never_charged_so_there_is_nothing_to_refund(saga, order):
    placed = _placed(saga, order("o-1", payment_token="tok_declined"))

    with pytest.raises(PaymentDeclined):
        participants.charge_payment(saga.table, placed)
    # A retry gets the same answer from the ledger, without asking the provider again.
    with pytest.raises(PaymentDeclined):
        participants.charge_payment(saga.table, placed)

    assert participants.refund_payment(saga.table, "o-1") is False
    assert saga.table.payment("o-1")["status"] == "DECLINED"
    assert saga.table.order("o-1").compensations == ()


def test_a_shipment_is_booked_once_and_refused_where_the_carrier_does_not_go(saga, order):
    placed = _placed(saga, order("o-1"))
    abroad = _placed(saga, order("o-2", country="AQ"))

    first = participants.ship(saga.table, placed)
    again = participants.ship(saga.table, placed)
    with pytest.raises(ShipmentRefused, match="does not deliver to AQ"):
        participants.ship(saga.table, abroad)

    assert first == again == {"tracking_number": "TRK-o-1"}
    assert saga.table.shipment("o-1")["tracking_number"] == "TRK-o-1"
    assert saga.table.shipment("o-2") is None


def test_two_lines_of_one_sku_each_hold_and_release_their_own_units(saga, order):
    placed = _placed(
        saga,
        order(
            "o-1",
            lines=[
                {"sku": "BOOK-1", "quantity": 3, "unit_price_cents": 1250},
                {"sku": "BOOK-1", "quantity": 4, "unit_price_cents": 1000},
            ],
        ),
    )

    for number, line in enumerate(placed.lines):
        participants.reserve_line(saga.table, "o-1", number, line)
    assert saga.stock()["BOOK-1"] == STOCK["BOOK-1"] - 7

    assert participants.release_stock(saga.table, placed) == ["BOOK-1", "BOOK-1"]
    assert saga.stock() == STOCK
    assert saga.table.order("o-1").compensations == ("release:BOOK-1", "release:BOOK-1")
