"""Unit tests of the ETL logic: each source read into the one schema, every bad row set aside
with its reason, and a run reduced to one row per order."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from etl import logic
from etl.contract import QuarantineReason, SourceFormat
from etl.errors import AccountingError, InvalidRunInputError
from tests.samples import EVENTS_ROOT

UTC = datetime.UTC
SAMPLES = EVENTS_ROOT / "etl"


def _read(name: str) -> logic.FileResult:
    return logic.read_file(f"landing/{name}", (SAMPLES / name).read_bytes())


def test_a_warehouse_export_is_read_into_the_one_schema_with_utc_times_and_normal_units():
    # GIVEN the warehouse system's CSV export WHEN it is read
    result = _read("warehouse_export.csv")

    # THEN every row is an order, normalized
    assert result.quarantined == []
    first, second, third, fourth, _ = result.orders
    assert first.order_id == "W-1001"
    assert first.country == "DE"
    assert first.currency == "EUR"
    assert first.status == "shipped"
    assert first.weight_kg == Decimal("1.500")
    # 23:30 at UTC-2 is 01:30 the next day in UTC: the order's day is in UTC
    assert first.ordered_at == datetime.datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert second.country == "DE"  # "Germany"
    assert second.weight_kg == Decimal("1.451")  # 3.2 lb
    assert second.ordered_at == datetime.datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    assert third.weight_kg == Decimal("0.250")  # 250 g
    assert third.status == "delivered"
    assert fourth.weight_kg == Decimal("0.340")  # 12 oz
    assert (fourth.country, fourth.currency, fourth.status) == ("US", "USD", "placed")
    assert {o.source_format for o in result.orders} == {SourceFormat.CSV}
    assert [o.source_line for o in result.orders] == [2, 3, 4, 5, 6]


def test_a_shop_feed_is_read_into_the_same_schema():
    result = _read("shop_feed.jsonl")

    assert result.quarantined == []
    netherlands, sweden, britain = result.orders
    assert (netherlands.country, netherlands.status, netherlands.weight_kg) == (
        "NL",
        "shipped",  # "dispatched"
        Decimal("2.000"),
    )
    assert (sweden.country, sweden.currency, sweden.total) == ("SE", "SEK", Decimal("199.00"))
    assert sweden.weight_kg == Decimal("0.480")  # 480.5 g, to the gram (half to even)
    assert britain.status == "cancelled"  # "canceled"
    assert britain.total == Decimal("15.00")
    assert britain.ordered_at == datetime.datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    assert {o.source_format for o in result.orders} == {SourceFormat.JSON_LINES}


def test_every_kind_of_bad_csv_row_is_quarantined_with_its_reason_and_none_is_lost():
    # GIVEN an export with one row of each kind the warehouse system gets wrong
    result = _read("warehouse_export_bad_rows.csv")

    # THEN rows in = rows valid + rows quarantined, and each bad row says why
    assert result.rows_in == 16
    assert [o.order_id for o in result.orders] == ["B-15"]
    reasons = {row.line: (row.kind, row.reason) for row in result.quarantined}
    malformed, invalid, encoding = (
        QuarantineReason.MALFORMED,
        QuarantineReason.INVALID,
        QuarantineReason.ENCODING,
    )
    assert reasons == {
        2: (malformed, "expected 10 fields, got 9"),
        3: (invalid, "order_id: required, but empty"),
        4: (invalid, "country: unknown country 'Atlantis'"),
        5: (invalid, "total: not a number: 'abc'"),
        6: (invalid, "total: negative amount '-1.00'"),
        7: (invalid, "total: more than two decimal places: '1.999'"),
        8: (invalid, "currency: unknown currency 'XYZ'"),
        9: (invalid, "weight_unit: unknown unit 'stone' (expected one of g, kg, lb, oz)"),
        10: (invalid, "status: unknown status 'LOST'"),
        11: (invalid, "ordered_at: '2026-11-30 10:00:00' has no UTC offset"),
        12: (invalid, "ordered_at: not an ISO 8601 time: '30/11/2026'"),
        13: (invalid, "ordered_at: '1970-01-01T00:00:00Z' is not between 2000 and 2100"),
        14: (encoding, "not UTF-8 text (byte 0xff)"),
        15: (
            invalid,
            "order_id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'",
        ),
        18: (malformed, "not a CSV record: unexpected end of data"),
    }
    # the raw row is kept, bytes that are not UTF-8 as escapes
    (not_utf8,) = [row for row in result.quarantined if row.line == 14]
    assert "C-\\xff\\xfe" in not_utf8.raw


def test_every_kind_of_bad_feed_line_is_quarantined_with_its_reason():
    result = _read("shop_feed_bad_rows.jsonl")

    assert result.rows_in == 8  # the blank line is not a row
    assert [o.order_id for o in result.orders] == ["J-1"]
    reasons = {row.line: (row.kind.value, row.reason.split(":")[0]) for row in result.quarantined}
    assert reasons == {
        2: ("malformed", "not JSON"),
        3: ("malformed", "expected a JSON object, got list"),
        4: ("invalid", "amount"),
        5: ("invalid", "createdAt"),
        6: ("invalid", "weightGrams"),
        7: ("invalid", "status"),
        8: ("encoding", "not UTF-8 text (byte 0xe9)"),
    }


def test_a_csv_whose_header_lacks_a_column_quarantines_each_row_naming_the_columns():
    body = b"order_id,customer,country\nA-1,C-1,de\nA-2,C-2,fr\n"

    result = logic.read_file("landing/renamed.csv", body)

    assert result.orders == []
    assert [row.line for row in result.quarantined] == [2, 3]
    assert {row.reason for row in result.quarantined} == {
        "the file's header lacks columns ['customer_id', 'total', 'currency', 'weight', "
        "'weight_unit', 'status', 'ordered_at', 'updated_at'] and has unknown columns "
        "['customer']"
    }


def test_a_file_of_neither_source_is_quarantined_line_by_line():
    result = logic.read_file("landing/orders.xlsx", b"PK\x03\x04 one\n\ntwo\n")

    assert [(row.line, row.kind) for row in result.quarantined] == [
        (1, QuarantineReason.UNSUPPORTED_FILE),
        (3, QuarantineReason.UNSUPPORTED_FILE),
    ]
    assert result.rows_in == 2


def test_merge_keeps_the_latest_update_of_each_order_and_says_what_it_superseded():
    # GIVEN the same order from both sources, the feed's updated later
    orders = [*_read("warehouse_export.csv").orders, *_read("shop_feed.jsonl").orders]

    merged = logic.merge(orders)

    assert [o.order_id for o in merged.winners] == [
        "S-2001",
        "S-2002",
        "S-2003",
        "W-1001",
        "W-1002",
        "W-1003",
        "W-1004",
    ]
    (winner,) = [o for o in merged.winners if o.order_id == "S-2001"]
    assert winner.source_format is SourceFormat.JSON_LINES
    (superseded,) = merged.superseded
    assert (superseded.source_key, superseded.line) == ("landing/warehouse_export.csv", 6)
    assert superseded.kind is QuarantineReason.SUPERSEDED
    assert superseded.reason == (
        "order S-2001 has a later row: landing/shop_feed.jsonl line 1, updated "
        "2026-11-30T14:30:00+00:00"
    )
    # and the result does not depend on the order the files were read in
    assert logic.merge(reversed(orders)) == merged


def test_the_run_s_keys_are_stable_per_file_and_under_their_prefixes():
    assert logic.staged_key("run-1", "landing/a.csv") == logic.staged_key("run-1", "landing/a.csv")
    assert logic.staged_key("run-1", "landing/a.csv").startswith("staging/run-1/")
    assert logic.file_quarantine_key("run-1", "landing/a.csv").startswith("quarantine/run-1/")
    assert logic.archive_key("run-1", "landing/x/a.csv") == "archive/run-1/x/a.csv"
    with pytest.raises(InvalidRunInputError, match="not a file under landing/"):
        logic.landing_key("archive/run-1/a.csv")


def test_a_run_whose_rows_do_not_add_up_fails():
    logic.check_accounting(rows_in=10, rows_loaded=7, rows_quarantined=3)
    with pytest.raises(AccountingError, match=r"rows in \(10\) != rows loaded \(7\)"):
        logic.check_accounting(rows_in=10, rows_loaded=7, rows_quarantined=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T10:00:00Z", datetime.datetime(2026, 11, 30, 10, tzinfo=UTC)),
        ("2026-11-30T10:00:00+05:30", datetime.datetime(2026, 11, 30, 4, 30, tzinfo=UTC)),
        ("2026-11-30 10:00:00.250-08:00", datetime.datetime(2026, 11, 30, 18, 0, 0, 250000, UTC)),
    ],
)
def test_times_with_an_offset_become_utc(text: str, expected: datetime.datetime):
    assert logic.utc_from_text("ordered_at", text) == expected


def test_files_are_told_apart_by_suffix():
    assert logic.source_format("landing/a.CSV") is SourceFormat.CSV
    assert logic.source_format("landing/a.ndjson") is SourceFormat.JSON_LINES
    assert logic.source_format("landing/a.json") is None
