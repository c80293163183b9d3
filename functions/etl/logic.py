"""Pure ETL logic: read each source's rows, normalize them into one schema, set aside what
cannot be loaded with its reason, and reduce a run to one row per natural key."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from shared.validation import describe_validation_error

from etl.contract import (
    ARCHIVE_PREFIX,
    LANDING_PREFIX,
    QUARANTINE_PREFIX,
    STAGING_PREFIX,
    QuarantineReason,
    SourceFormat,
)
from etl.errors import AccountingError, InvalidRunInputError, RowRejectedError
from etl.models import CSV_COLUMNS, FileResult, Merge, Order, QuarantinedRow, ShopOrder

# --- normalization tables --------------------------------------------------------------------

#: ISO 3166-1 alpha-2 code by every spelling the sources use (alpha-2, alpha-3, English name),
#: upper-cased. A country outside this table is quarantined, not guessed.
_COUNTRIES: dict[str, tuple[str, ...]] = {
    "AT": ("AUT", "AUSTRIA"),
    "BE": ("BEL", "BELGIUM"),
    "CH": ("CHE", "SWITZERLAND"),
    "CZ": ("CZE", "CZECHIA", "CZECH REPUBLIC"),
    "DE": ("DEU", "GERMANY"),
    "DK": ("DNK", "DENMARK"),
    "ES": ("ESP", "SPAIN"),
    "FI": ("FIN", "FINLAND"),
    "FR": ("FRA", "FRANCE"),
    "GB": ("GBR", "UNITED KINGDOM", "UK"),
    "IE": ("IRL", "IRELAND"),
    "IT": ("ITA", "ITALY"),
    "NL": ("NLD", "NETHERLANDS", "THE NETHERLANDS"),
    "NO": ("NOR", "NORWAY"),
    "PL": ("POL", "POLAND"),
    "PT": ("PRT", "PORTUGAL"),
    "SE": ("SWE", "SWEDEN"),
    "US": ("USA", "UNITED STATES", "UNITED STATES OF AMERICA"),
    "CA": ("CAN", "CANADA"),
    "JP": ("JPN", "JAPAN"),
}
COUNTRY_CODES: dict[str, str] = {
    spelling: code for code, spellings in _COUNTRIES.items() for spelling in (code, *spellings)
}
#: ISO 4217 codes the business sells in.
CURRENCIES = frozenset(
    {"EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "CAD", "JPY"}
)
#: The order statuses of the table, and each source's code for them (case-insensitive): the
#: warehouse export writes two-letter codes, the web shop words of its own.
ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
STATUS_CODES: dict[str, str] = {
    **{status.upper(): status for status in ORDER_STATUSES},
    "PL": "placed",
    "PD": "paid",
    "SH": "shipped",
    "DL": "delivered",
    "CX": "cancelled",
    "RT": "returned",
    "CREATED": "placed",
    "DISPATCHED": "shipped",
    "CANCELED": "cancelled",
}
#: Kilograms per unit of the weights the sources write.
KILOGRAMS_PER_UNIT: dict[str, Decimal] = {
    "G": Decimal("0.001"),
    "KG": Decimal(1),
    "LB": Decimal("0.45359237"),
    "OZ": Decimal("0.028349523125"),
}
_CENTS = Decimal("0.01")
_GRAMS = Decimal("0.001")
#: Times outside these years are typing errors (a day and a year swapped, epoch seconds sent
#: as milliseconds), not orders.
_EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
#: A quarantined row keeps at most this much of its raw text.
MAX_RAW_LENGTH = 4096


def normalize_country(value: str) -> str:
    code = COUNTRY_CODES.get(value.strip().upper())
    if code is None:
        raise RowRejectedError(QuarantineReason.INVALID, f"country: unknown country {value!r}")
    return code


def normalize_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise RowRejectedError(QuarantineReason.INVALID, f"currency: unknown currency {value!r}")
    return code


def normalize_status(value: str) -> str:
    status = STATUS_CODES.get(value.strip().upper())
    if status is None:
        raise RowRejectedError(QuarantineReason.INVALID, f"status: unknown status {value!r}")
    return status


def _decimal(field: str, value: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise RowRejectedError(
            QuarantineReason.INVALID, f"{field}: not a number: {value!r}"
        ) from None
    if not number.is_finite():
        raise RowRejectedError(QuarantineReason.INVALID, f"{field}: not a finite number: {value!r}")
    return number


def normalize_total(value: str) -> Decimal:
    total = _decimal("total", value)
    if total < 0:
        raise RowRejectedError(QuarantineReason.INVALID, f"total: negative amount {value!r}")
    if total != total.quantize(_CENTS):
        # Rounding money silently would change what the source said it was.
        raise RowRejectedError(
            QuarantineReason.INVALID, f"total: more than two decimal places: {value!r}"
        )
    return total.quantize(_CENTS)


def normalize_weight(value: str, unit: str) -> Decimal:
    """The weight in kilograms, to the gram."""
    factor = KILOGRAMS_PER_UNIT.get(unit.strip().upper())
    if factor is None:
        raise RowRejectedError(
            QuarantineReason.INVALID,
            f"weight_unit: unknown unit {unit!r} (expected one of g, kg, lb, oz)",
        )
    weight = _decimal("weight", value)
    if weight < 0:
        raise RowRejectedError(QuarantineReason.INVALID, f"weight: negative weight {value!r}")
    return (weight * factor).quantize(_GRAMS)


def _in_range(field: str, moment: datetime.datetime, raw: object) -> datetime.datetime:
    if not _EARLIEST <= moment < _LATEST:
        raise RowRejectedError(
            QuarantineReason.INVALID, f"{field}: {raw!r} is not between 2000 and 2100"
        )
    return moment


def utc_from_text(field: str, value: str) -> datetime.datetime:
    """An ISO 8601 time with its UTC offset, in UTC. A time without an offset is refused: the
    export runs in several time zones, so its wall-clock time alone is ambiguous."""
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowRejectedError(
            QuarantineReason.INVALID, f"{field}: not an ISO 8601 time: {value!r}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RowRejectedError(QuarantineReason.INVALID, f"{field}: {value!r} has no UTC offset")
    return _in_range(field, moment.astimezone(datetime.UTC), value)


def utc_from_epoch_millis(field: str, value: int) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise RowRejectedError(
            QuarantineReason.INVALID, f"{field}: {value!r} is not a time in epoch milliseconds"
        ) from None
    return _in_range(field, moment, value)


# --- reading the sources ---------------------------------------------------------------------


def source_format(key: str) -> SourceFormat | None:
    """Which source wrote the file, from its suffix; None for neither."""
    lowered = key.lower()
    if lowered.endswith(".csv"):
        return SourceFormat.CSV
    if lowered.endswith((".jsonl", ".ndjson")):
        return SourceFormat.JSON_LINES
    return None


def read_file(key: str, body: bytes) -> FileResult:
    """Every row of one landed file, as an `Order` or as a `QuarantinedRow` with its reason.

    A row is a non-blank line (a CSV record may span lines inside quotes); blank lines are
    not rows. Nothing is dropped: `rows_in` is the count of rows the file holds.
    """
    match source_format(key):
        case SourceFormat.CSV:
            return _read_csv(key, body)
        case SourceFormat.JSON_LINES:
            return _read_json_lines(key, body)
        case None:
            return FileResult(
                source_key=key,
                quarantined=[
                    QuarantinedRow(
                        source_key=key,
                        line=number,
                        kind=QuarantineReason.UNSUPPORTED_FILE,
                        reason=f"{key!r} is neither a .csv export nor a .jsonl feed",
                        raw=_raw(text),
                    )
                    for number, text in _lines(body)
                ],
            )


def _lines(body: bytes) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line; bytes that are not UTF-8 kept as escapes."""
    for number, line in enumerate(body.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if line.strip():
            yield number, line.rstrip(b"\r").decode("utf-8", errors="surrogateescape")


def _not_utf8(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _raw(text: str) -> str:
    return text.encode("utf-8", errors="surrogateescape").decode(
        "utf-8", errors="backslashreplace"
    )[:MAX_RAW_LENGTH]


def _encoding_rejection(text: str) -> RowRejectedError:
    offending = next(char for char in text if "\udc80" <= char <= "\udcff")
    return RowRejectedError(
        QuarantineReason.ENCODING,
        f"not UTF-8 text (byte 0x{ord(offending) - 0xDC00:02x})",
    )


def _read_csv(key: str, body: bytes) -> FileResult:
    text = body.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    orders: list[Order] = []
    quarantined: list[QuarantinedRow] = []
    header: list[str] | None = None
    header_problem: str | None = None
    line = 0
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            quarantined.append(
                QuarantinedRow(
                    source_key=key,
                    line=line,
                    kind=QuarantineReason.MALFORMED,
                    reason=f"not a CSV record: {error}",
                    raw=_raw(_physical_lines(text, line, reader.line_num)),
                )
            )
            continue
        if not fields or all(not value.strip() for value in fields):
            continue
        if header is None:
            header = [name.strip().lower() for name in fields]
            header_problem = _header_problem(header)
            continue
        raw = _raw(",".join(fields))
        try:
            if header_problem:
                raise RowRejectedError(QuarantineReason.MALFORMED, header_problem)
            if any(_not_utf8(value) for value in fields):
                raise _encoding_rejection("".join(fields))
            if len(fields) != len(header):
                raise RowRejectedError(
                    QuarantineReason.MALFORMED,
                    f"expected {len(header)} fields, got {len(fields)}",
                )
            orders.append(
                order_from_csv(dict(zip(header, fields, strict=True)), key=key, line=line)
            )
        except RowRejectedError as rejected:
            quarantined.append(
                QuarantinedRow(
                    source_key=key, line=line, kind=rejected.kind, reason=rejected.reason, raw=raw
                )
            )
    return FileResult(source_key=key, orders=orders, quarantined=quarantined)


def _physical_lines(text: str, first: int, last: int) -> str:
    return "\n".join(text.splitlines()[first - 1 : max(first, last)])


def _header_problem(header: list[str]) -> str | None:
    missing = [column for column in CSV_COLUMNS if column not in header]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if not missing and not unknown:
        return None
    parts = []
    if missing:
        parts.append(f"lacks columns {missing}")
    if unknown:
        parts.append(f"has unknown columns {unknown}")
    return "the file's header " + " and ".join(parts)


def _required(row: Mapping[str, str], field: str) -> str:
    value = row.get(field, "").strip()
    if not value:
        raise RowRejectedError(QuarantineReason.INVALID, f"{field}: required, but empty")
    return value


def order_from_csv(row: Mapping[str, str], *, key: str, line: int) -> Order:
    """One warehouse export record in the table's schema, or `RowRejectedError`."""
    return _order(
        order_id=_required(row, "order_id"),
        customer_id=_required(row, "customer_id"),
        country=normalize_country(_required(row, "country")),
        total=normalize_total(_required(row, "total")),
        currency=normalize_currency(_required(row, "currency")),
        weight_kg=normalize_weight(_required(row, "weight"), _required(row, "weight_unit")),
        status=normalize_status(_required(row, "status")),
        ordered_at=utc_from_text("ordered_at", _required(row, "ordered_at")),
        updated_at=utc_from_text("updated_at", _required(row, "updated_at")),
        source_format=SourceFormat.CSV,
        source_key=key,
        source_line=line,
    )


def _read_json_lines(key: str, body: bytes) -> FileResult:
    orders: list[Order] = []
    quarantined: list[QuarantinedRow] = []
    for line, text in _lines(body):
        try:
            if _not_utf8(text):
                raise _encoding_rejection(text)
            try:
                record = json.loads(text)
            except ValueError as error:
                raise RowRejectedError(QuarantineReason.MALFORMED, f"not JSON: {error}") from None
            orders.append(order_from_shop(record, key=key, line=line))
        except RowRejectedError as rejected:
            quarantined.append(
                QuarantinedRow(
                    source_key=key,
                    line=line,
                    kind=rejected.kind,
                    reason=rejected.reason,
                    raw=_raw(text),
                )
            )
    return FileResult(source_key=key, orders=orders, quarantined=quarantined)


def order_from_shop(record: object, *, key: str, line: int) -> Order:
    """One web shop feed record in the table's schema, or `RowRejectedError`."""
    if not isinstance(record, dict):
        raise RowRejectedError(
            QuarantineReason.MALFORMED,
            f"expected a JSON object, got {type(record).__name__}",
        )
    try:
        shop = ShopOrder.model_validate(record)
    except ValidationError as error:
        raise RowRejectedError(QuarantineReason.INVALID, describe_validation_error(error)) from None
    return _order(
        order_id=shop.id,
        customer_id=shop.customer.id,
        country=normalize_country(shop.ship_to.country),
        total=normalize_total(shop.amount.value),
        currency=normalize_currency(shop.amount.currency),
        weight_kg=normalize_weight(str(shop.weight_grams), "g"),
        status=normalize_status(shop.state),
        ordered_at=utc_from_epoch_millis("createdAt", shop.created_at),
        updated_at=utc_from_epoch_millis("updatedAt", shop.updated_at),
        source_format=SourceFormat.JSON_LINES,
        source_key=key,
        source_line=line,
    )


def _order(**fields: Any) -> Order:
    try:
        return Order(**fields)
    except ValidationError as error:
        raise RowRejectedError(QuarantineReason.INVALID, describe_validation_error(error)) from None


# --- a run -----------------------------------------------------------------------------------


def merge(orders: Iterable[Order]) -> Merge:
    """One row per order id: the one updated last (ties: the later file, then line), so the
    result does not depend on the order files were read in. The others are superseded."""
    ranked = sorted(orders, key=lambda o: (o.updated_at, o.source_key, o.source_line))
    winners: dict[str, Order] = {}
    for order in ranked:
        winners[order.order_id] = order
    superseded = [
        QuarantinedRow(
            source_key=order.source_key,
            line=order.source_line,
            kind=QuarantineReason.SUPERSEDED,
            reason=(
                f"order {order.order_id} has a later row: {winner.source_key} line "
                f"{winner.source_line}, updated {winner.updated_at.isoformat()}"
            ),
            raw=json.dumps(order.to_json_dict(), sort_keys=True),
        )
        for order in ranked
        if (winner := winners[order.order_id]) is not order
    ]
    return Merge(winners=sorted(winners.values(), key=lambda o: o.order_id), superseded=superseded)


def drop_stale(
    winners: Iterable[Order], in_table: Mapping[str, datetime.datetime]
) -> tuple[list[Order], list[QuarantinedRow]]:
    """The rows the table should take, and those older than the table's row of their order (a
    late or replayed file must not undo a later update); an equal time is the same row again,
    which the merge leaves as it is."""
    fresh: list[Order] = []
    stale: list[QuarantinedRow] = []
    for order in winners:
        current = in_table.get(order.order_id)
        if current is not None and order.updated_at < current:
            stale.append(
                QuarantinedRow(
                    source_key=order.source_key,
                    line=order.source_line,
                    kind=QuarantineReason.SUPERSEDED,
                    reason=(
                        f"order {order.order_id} is in the table with a later update "
                        f"({current.isoformat()})"
                    ),
                    raw=json.dumps(order.to_json_dict(), sort_keys=True),
                )
            )
        else:
            fresh.append(order)
    return fresh, stale


def landing_key(key: str) -> str:
    """`key` checked to be one the state machine lists (under the landing prefix)."""
    if not key.startswith(LANDING_PREFIX) or key == LANDING_PREFIX:
        raise InvalidRunInputError(f"{key!r} is not a file under {LANDING_PREFIX}")
    return key


def _file_id(source_key: str) -> str:
    """A short, stable name for a source file's outputs (its key may be long or odd)."""
    return hashlib.sha256(source_key.encode()).hexdigest()[:16]


def staged_key(run_id: str, source_key: str) -> str:
    return f"{STAGING_PREFIX}{run_id}/{_file_id(source_key)}.jsonl"


def quarantine_key(run_id: str, name: str) -> str:
    return f"{QUARANTINE_PREFIX}{run_id}/{name}.jsonl"


def file_quarantine_key(run_id: str, source_key: str) -> str:
    return quarantine_key(run_id, _file_id(source_key))


def archive_key(run_id: str, source_key: str) -> str:
    return f"{ARCHIVE_PREFIX}{run_id}/{source_key.removeprefix(LANDING_PREFIX)}"


def to_json_lines(records: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode()


def from_json_lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def check_accounting(*, rows_in: int, rows_loaded: int, rows_quarantined: int) -> None:
    """Every row is loaded or quarantined: anything else is a bug, and the run must fail."""
    if rows_in != rows_loaded + rows_quarantined:
        raise AccountingError(
            f"rows in ({rows_in}) != rows loaded ({rows_loaded}) + rows quarantined "
            f"({rows_quarantined})"
        )
