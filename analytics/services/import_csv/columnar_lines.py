"""The columnar import path's arithmetic, on Arrow record batches of raw cells (pure: no database).

The columnar path (`columnar.py`) reads a file with Arrow and turns it into transaction lines with
numpy, so that the importing process and PostgreSQL work side by side. It must store exactly what
the SQL path (`statements.py`) stores for the same file, so everything here follows that module's
SQL rule for rule, and it only takes files whose every cell it is sure to read the same way:
whenever a cell is anything but plain (a quote or a line break inside a cell, a number written
another way than `-1234.56`, a cell too long, an empty required cell...), `ColumnarDeclined` is
raised and the SQL path imports the file, checking and reporting every row.

Money is handled as integers: amounts in millionths (`MICRO`) as read, lines in cents, unit prices
in ten-thousandths, each rounded half away from zero as PostgreSQL rounds numeric values.
"""

from __future__ import annotations

import hashlib
import uuid

try:
    # CPython's own MD5 costs less per call than OpenSSL's for short texts (0.4 against 0.55 µs).
    from _md5 import md5 as _md5
except ImportError:  # a CPython built without its own hashes
    _md5 = hashlib.md5
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from analytics.mappings import DIMENSIONS, MAX_LENGTHS, ColumnMappingSpec
from analytics.services.import_csv.statements import (
    AGE_PATTERN,
    INT4_MAX,
    KEY_FIELDS,
    MAX_AGE,
    NUMBER_PATTERNS,
    WHOLE_NUMBER_PATTERN,
)

MICRO = 1_000_000
# Bytes after which PostgreSQL's CSV parser and Arrow's could disagree about a cell: a quote, a
# line break, a NUL.
UNSURE_BYTES = (0x22, 0x0D, 0x0A, 0x00)
# Below 10,000,000,000 once rounded to cents (numeric(12,2)), in millionths.
AMOUNT_LIMIT_MICRO = 9_999_999_999_995_000
LINE_LIMIT = 1e10
INT64_SAFE = 9_000_000_000_000_000_000


class ColumnarDeclined(Exception):
    """The file has a cell the columnar path does not read with certainty; the SQL path takes it."""


@dataclass(frozen=True)
class BatchFacts:
    """What one record batch contributes before anything is written: its distinct cells, the
    customers with their gender and age cells, and its numbers read."""

    rows: int
    distinct: dict[str, list[str]]
    customers: pa.Table | None  # columns raw, gender, age: distinct triples (None when not asked for)
    amounts: Amounts
    # The date, dimension, gender and age columns dictionary-encoded (the lines reuse them), and the
    # customer column when the distinct customers are asked for.
    encoded: dict[str, pa.DictionaryArray]


@dataclass(frozen=True)
class Lookups:
    """Ids and dates for raw cells, from the database."""

    dimensions: dict[str, dict[str, int]]  # field -> raw cell -> id ('' when the file lacks the column)
    dates: dict[str, int]  # raw cell -> days since 2000-01-01
    customer_cells: pa.Array  # the file's distinct raw customer cells ...
    customer_ids: npt.NDArray[np.int64]  # ... and their customer ids, aligned


@dataclass(frozen=True)
class LineArrays:
    """Transaction lines as aligned arrays (money in cents, unit prices in ten-thousandths)."""

    customer_id: npt.NDArray[np.int64]
    store_id: npt.NDArray[np.int64]
    category_id: npt.NDArray[np.int64]
    payment_method_id: npt.NDArray[np.int64]
    date: npt.NDArray[np.int32]  # days since 2000-01-01
    quantity: npt.NDArray[np.int64]
    unit_price: npt.NDArray[np.int64]
    gross: npt.NDArray[np.int64]
    discount: npt.NDArray[np.int64]
    net: npt.NDArray[np.int64]
    cost: npt.NDArray[np.int64]
    has_cost: npt.NDArray[np.bool_]
    is_return: npt.NDArray[np.bool_]
    invoice: pa.Array  # UTF-8 text

    def __len__(self) -> int:
        return len(self.gross)


class Cells:
    """The raw cells of one record batch, by field."""

    def __init__(self, batch: pa.RecordBatch, *, spec: ColumnMappingSpec, positions: Mapping[str, int]) -> None:
        self.batch = batch
        self.spec = spec
        self.positions = positions
        self.rows = batch.num_rows
        self._trimmed: dict[str, pa.Array] = {}

    def has(self, field: str) -> bool:
        return field in self.positions

    def raw(self, field: str) -> pa.Array:
        return self.batch.column(self.positions[field])

    def trimmed(self, field: str) -> pa.Array:
        """The cell without surrounding spaces (PostgreSQL's btrim)."""
        if field not in self._trimmed:
            raw = self.raw(field)
            padded = pc.any(pc.or_(pc.starts_with(raw, " "), pc.ends_with(raw, " "))).as_py()
            self._trimmed[field] = pc.utf8_trim(raw, characters=" ") if padded else raw
        return self._trimmed[field]

    def filled(self, field: str) -> pa.Array:
        return pc.greater(pc.binary_length(self.trimmed(field)), 0)

    def number_text(self, field: str) -> pa.Array:
        text = self.trimmed(field)
        if self.spec.decimal_separator == ",":
            text = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
        return text


def batch_check(
    batch: pa.RecordBatch, *, spec: ColumnMappingSpec, positions: Mapping[str, int], customers: bool = True
) -> BatchFacts:
    """Check one batch's cells and collect what the database must resolve, the distinct customer
    cells too with `customers`. Raises ColumnarDeclined."""
    for column in batch.columns:
        if _holds_unsure_bytes(column):
            raise ColumnarDeclined("a cell holds a quote, a line break or a NUL")
    cells = Cells(batch, spec=spec, positions=positions)
    for field in spec.required_fields():
        if not pc.all(cells.filled(field)).as_py():
            raise ColumnarDeclined(f"an empty {field} cell")
    for field, limit in MAX_LENGTHS.items():
        # Bytes first: a cell of at most `limit` bytes has at most `limit` characters.
        if (
            cells.has(field)
            and pc.max(pc.binary_length(cells.raw(field))).as_py() > limit
            and pc.max(pc.utf8_length(cells.trimmed(field))).as_py() > limit
        ):
            raise ColumnarDeclined(f"a {field} longer than {limit} characters")
    amounts = amounts_read(cells)
    encoded = {
        field: cells.raw(field).dictionary_encode()
        for field in ("date", *DIMENSIONS, "gender", "age", *(("customer",) if customers else ()))
        if cells.has(field)
    }
    distinct = {field: column.dictionary.to_pylist() for field, column in encoded.items() if field != "customer"}
    triples = None
    if customers:
        nothing = pa.nulls(cells.rows, pa.string()).dictionary_encode()
        triples = distinct_rows(
            {
                "raw": encoded["customer"],
                "gender": encoded.get("gender", nothing),
                "age": encoded.get("age", nothing),
            }
        )
    return BatchFacts(rows=cells.rows, distinct=distinct, customers=triples, amounts=amounts, encoded=encoded)


def sorted_unique(values: npt.NDArray) -> npt.NDArray:
    """np.unique by sorting: numpy's own hashes the values, 40 times slower on a million integers."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def distinct_rows(columns: Mapping[str, pa.Array | pa.ChunkedArray]) -> pa.Table:
    """The distinct rows of a few text columns (each column dictionary-encoded, the codes combined
    into one integer per row and sorted: much cheaper than grouping by the texts)."""
    combined = np.zeros(0, dtype=np.int64)
    dictionaries, radices = [], []
    for number, column in enumerate(columns.values()):
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        encoded = column if isinstance(column, pa.DictionaryArray) else column.dictionary_encode()
        codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False).astype(np.int64)
        radix = len(encoded.dictionary) + 1  # the last code stands for NULL
        combined = codes if number == 0 else combined * radix + codes
        dictionaries.append(pa.concat_arrays([encoded.dictionary, pa.nulls(1, encoded.dictionary.type)]))
        radices.append(radix)
    if np.prod(np.array(radices, dtype=np.float64)) >= 2**62:
        raise ColumnarDeclined("too many distinct customer, gender and age cells")
    remaining = sorted_unique(combined)
    decoded = []
    for radix in reversed(radices):
        remaining, codes = np.divmod(remaining, radix)
        decoded.append(codes)
    return pa.table(
        {
            name: dictionary.take(pa.array(codes))
            for name, dictionary, codes in zip(columns, dictionaries, reversed(decoded), strict=True)
        }
    )


def customer_values(triples: pa.Table) -> pa.Table | None:
    """The customers' rows (external_id, gender, age) from the file's distinct customer, gender and
    age cells, when every customer has one gender cell and one age cell, plain digits or empty: what
    `dimensions.customer_values_build` makes of them then. None otherwise (PostgreSQL takes the
    greatest of the cells, in its collation)."""
    external_id = pc.utf8_trim(triples.column("raw").combine_chunks(), characters=" ")
    if len(pc.unique(external_id)) != len(external_id):
        return None
    age = pc.utf8_trim(triples.column("age").combine_chunks(), characters=" ")
    filled = pc.fill_null(pc.greater(pc.binary_length(age), 0), False)
    plain = pc.fill_null(pc.match_substring_regex(age, AGE_PATTERN), True)
    if not pc.all(pc.or_(pc.invert(filled), plain)).as_py():
        return None
    age_value = pc.cast(pc.if_else(filled, age, None), pa.int16())
    age_value = pc.if_else(pc.less_equal(age_value, MAX_AGE), age_value, None)
    gender = pc.utf8_slice_codeunits(pc.utf8_trim(triples.column("gender").combine_chunks(), characters=" "), 0, 20)
    return pa.table({"external_id": external_id, "gender": pc.fill_null(gender, ""), "age": age_value})


def _holds_unsure_bytes(column: pa.Array) -> bool:
    """Whether a cell's text holds one of UNSURE_BYTES (a scan of the column's bytes, not per cell)."""
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)
    start, stop = int(offsets[column.offset]), int(offsets[column.offset + len(column)])
    data = column.buffers()[2]
    text = data[start:stop].to_pybytes() if data is not None else b""
    return any(bytes([byte]) in text for byte in UNSURE_BYTES)


def row_keys(batch: pa.RecordBatch, *, positions: Mapping[str, int]) -> npt.NDArray[np.void]:
    """MD5 of the mapped raw cells joined by the unit separator: `md5(concat_ws(chr(31), ...))`,
    16 bytes per row (before repeated lines are numbered)."""
    cells = Cells(batch, spec=ColumnMappingSpec(columns={}), positions=positions)
    joined = pc.binary_join_element_wise(*(cells.raw(field) for field in KEY_FIELDS if cells.has(field)), "\x1f")
    digest = _md5
    packed = b"".join([digest(text).digest() for text in joined.cast(pa.binary()).to_pylist()])
    return np.frombuffer(packed, dtype="V16")


def repeated_keys_number(keys: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """Give the 2nd, 3rd, ... copy of a line repeated in the file its own key, as the SQL path does:
    `md5(<key as uuid text> || ':' || <occurrence>)`. Copies are identical, so which copy is which
    does not matter."""
    # Repeats are rare: find candidates on the first 8 bytes (a fast sort), then compare whole keys.
    leading = keys.view("<u8")[::2]
    ordered = np.sort(leading)
    repeated_leading = sorted_unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(repeated_leading):
        return keys
    keys = keys.copy()
    seen: dict[bytes, int] = {}
    for row in np.flatnonzero(np.isin(leading, repeated_leading)):
        key = keys[row].tobytes()
        occurrence = seen.get(key, 0) + 1
        seen[key] = occurrence
        if occurrence > 1:
            text = f"{uuid.UUID(bytes=key)}:{occurrence}"
            keys[row] = np.frombuffer(hashlib.md5(text.encode(), usedforsecurity=False).digest(), dtype="V16")[0]
    return keys


def _follows_rule(text: pa.Array, filled: pa.Array, pattern: str) -> bool:
    """Whether every filled cell (trimmed) matches the number rule's pattern (statements.py)."""
    return bool(pc.all(pc.or_(pc.invert(filled), pc.match_substring_regex(text, pattern))).as_py())


def _micro(cells: Cells, field: str, *, required: bool) -> npt.NDArray[np.int64]:
    """A number column in millionths; empty cells are 0 (ColumnarDeclined when `required`)."""
    text = cells.number_text(field)
    filled = pc.greater(pc.binary_length(text), 0)
    if required and not pc.all(filled).as_py():
        raise ColumnarDeclined(f"an empty {field} cell")
    if not _follows_rule(cells.trimmed(field), filled, NUMBER_PATTERNS[cells.spec.decimal_separator]):
        raise ColumnarDeclined(f"a {field} cell that is not a number by the import's rule")
    try:
        # Arrow reads a number of the rule as PostgreSQL does (signs, leading zeros); it refuses more
        # than 6 decimals or 12 digits.
        parsed = pc.cast(pc.if_else(filled, text, "0"), pa.decimal128(18, 6))
    except pa.ArrowInvalid as error:
        raise ColumnarDeclined(f"a {field} cell that is not a plain number") from error
    values = _decimal_low_words(parsed)
    if np.abs(values).max(initial=0) >= AMOUNT_LIMIT_MICRO:
        raise ColumnarDeclined(f"a {field} of 10,000,000,000 or more")
    return values


def _decimal_low_words(array: pa.Array) -> npt.NDArray[np.int64]:
    """The unscaled values of a decimal128 array that fit 64 bits (little-endian low words)."""
    words = np.frombuffer(array.buffers()[1], dtype="<i8")
    return words[2 * array.offset : 2 * (array.offset + len(array)) : 2].copy()


def _quantity(cells: Cells) -> npt.NDArray[np.int64]:
    if not cells.has("quantity"):
        return np.ones(cells.rows, dtype=np.int64)
    text = cells.trimmed("quantity")
    filled = pc.greater(pc.binary_length(text), 0)
    if "quantity" in cells.spec.required_fields() and not pc.all(filled).as_py():
        raise ColumnarDeclined("an empty quantity cell")
    if not _follows_rule(text, filled, WHOLE_NUMBER_PATTERN):
        raise ColumnarDeclined("a quantity cell that is not a whole number by the import's rule")
    try:
        quantity = pc.cast(pc.if_else(filled, text, "1"), pa.int64()).to_numpy()
    except pa.ArrowInvalid as error:
        raise ColumnarDeclined("a quantity cell that is not a plain whole number") from error
    if np.abs(quantity).max(initial=0) > INT4_MAX:
        raise ColumnarDeclined("a quantity beyond a 4-byte integer")
    return quantity


@dataclass(frozen=True)
class Amounts:
    quantity: npt.NDArray[np.int64]
    amount: npt.NDArray[np.int64]  # millionths, as read (quantity x unit price for unit prices)
    discount_micro: npt.NDArray[np.int64] | None  # millionths: the amount, or the fraction of the line
    cost: npt.NDArray[np.int64] | None  # millionths, the line's (quantity x unit cost for unit costs)
    has_cost: npt.NDArray[np.bool_]


def amounts_read(cells: Cells) -> Amounts:
    spec = cells.spec
    quantity = _quantity(cells)
    price = _micro(cells, "price", required=True)
    amount = price
    if spec.price_is == "unit_price":
        amount = _line_product(price, quantity, "price")
    discount = None
    if cells.has("discount"):
        discount = _micro(cells, "discount", required=False)
        if spec.discount_is == "fraction":
            if discount.min(initial=0) < 0 or discount.max(initial=0) > MICRO:
                raise ColumnarDeclined("a discount fraction outside 0 to 1")
            if np.abs(amount).max(initial=0) * max(int(discount.max(initial=0)), 1) >= INT64_SAFE:
                raise ColumnarDeclined("a discounted line too large for exact integer arithmetic")
    cost = None
    has_cost = np.zeros(cells.rows, dtype=np.bool_)
    if cells.has("cost"):
        has_cost = cells.filled("cost").to_numpy(zero_copy_only=False)
        cost = _micro(cells, "cost", required=False)
        if spec.cost_is == "unit_price":
            cost = _line_product(cost, quantity, "cost")
    return Amounts(quantity=quantity, amount=amount, discount_micro=discount, cost=cost, has_cost=has_cost)


def _line_product(
    unit_micro: npt.NDArray[np.int64], quantity: npt.NDArray[np.int64], field: str
) -> npt.NDArray[np.int64]:
    """quantity x unit price, refused (as by the SQL path) at 10,000,000,000 or more."""
    if (np.abs(unit_micro.astype(np.float64)) * np.abs(quantity.astype(np.float64))).max(initial=0) >= (
        LINE_LIMIT * MICRO * 0.999
    ):
        raise ColumnarDeclined(f"quantity x unit {field} too large")
    return unit_micro * quantity


def _round_half_away(values: npt.NDArray[np.int64], divisor: int) -> npt.NDArray[np.int64]:
    """values / divisor rounded half away from zero, as PostgreSQL rounds numeric."""
    magnitude = (np.abs(values) + divisor // 2) // divisor
    return np.where(values < 0, -magnitude, magnitude)


def lines_compute(
    batch: pa.RecordBatch,
    *,
    spec: ColumnMappingSpec,
    positions: Mapping[str, int],
    lookups: Lookups,
    facts: BatchFacts | None = None,
    customer_codes: npt.NDArray[np.int64] | None = None,
) -> LineArrays:
    """The transaction lines of one checked batch (the SQL path's `lines_select`, in numpy), reusing
    the numbers and encodings `batch_check` made when its facts are given, and the rows' positions in
    `lookups.customer_cells` when they are known."""
    cells = Cells(batch, spec=spec, positions=positions)
    amounts = facts.amounts if facts else amounts_read(cells)
    encoded = facts.encoded if facts else {}
    quantity, amount = amounts.quantity, amounts.amount

    def lookup_column(field: str, lookup: Mapping[str, int], dtype: type) -> npt.NDArray:
        """Map each raw cell through `lookup` (a field the file lacks maps its '' entry on every row)."""
        if not cells.has(field):
            return np.full(cells.rows, lookup[""], dtype=dtype)
        column = encoded.get(field) or cells.raw(field).dictionary_encode()
        table: npt.NDArray = np.array([lookup[text] for text in column.dictionary.to_pylist()], dtype=dtype)
        return table[column.indices.to_numpy(zero_copy_only=False)]

    date = lookup_column("date", lookups.dates, np.int32)
    if cells.has("invoice"):
        invoice = cells.trimmed("invoice")
    else:
        # Without an invoice column, a customer's purchases on one day form one invoice.
        day_text = pa.array(
            (np.datetime64("2000-01-01") + date.astype("timedelta64[D]")).astype("datetime64[D]").astype(str)
        )
        customer = pc.utf8_slice_codeunits(cells.trimmed("customer"), 0, 88)
        invoice = pc.binary_join_element_wise(customer, day_text, "/")

    is_return = (quantity < 0) | (amount < 0)
    if spec.return_invoice_prefix and cells.has("invoice"):
        prefixed = pc.starts_with(invoice, spec.return_invoice_prefix).to_numpy(zero_copy_only=False)
        is_return |= prefixed

    gross_magnitude = _round_half_away(np.abs(amount), MICRO // 100)
    gross = np.where(is_return, -gross_magnitude, gross_magnitude)
    if amounts.discount_micro is None:
        off_magnitude = np.zeros(cells.rows, dtype=np.int64)
    elif spec.discount_is == "amount":
        off_magnitude = _round_half_away(np.abs(amounts.discount_micro), MICRO // 100)
    else:
        off_magnitude = _round_half_away(np.abs(amount) * amounts.discount_micro, MICRO * MICRO // 100)
    discount = np.where(is_return, -off_magnitude, off_magnitude)

    magnitude = np.maximum(np.abs(quantity), 1)
    # abs(amount) / quantity in ten-thousandths, rounded half up: amount is in millionths.
    unit_price = (2 * np.abs(amount) + 100 * magnitude) // (200 * magnitude)

    cost = np.zeros(cells.rows, dtype=np.int64)
    if amounts.cost is not None:
        cost_magnitude = _round_half_away(np.abs(amounts.cost), MICRO // 100)
        cost = np.where(is_return, -cost_magnitude, cost_magnitude)

    if customer_codes is None:
        customer_codes = pc.index_in(cells.raw("customer"), value_set=lookups.customer_cells).to_numpy(
            zero_copy_only=False
        )
    return LineArrays(
        customer_id=lookups.customer_ids[customer_codes],
        store_id=lookup_column("store", lookups.dimensions["store"], np.int64),
        category_id=lookup_column("category", lookups.dimensions["category"], np.int64),
        payment_method_id=lookup_column("payment_method", lookups.dimensions["payment_method"], np.int64),
        date=date,
        quantity=np.where(is_return, -np.abs(quantity), quantity),
        unit_price=unit_price,
        gross=gross,
        discount=discount,
        net=gross - discount,
        cost=cost,
        has_cost=amounts.has_cost,
        is_return=is_return,
        invoice=invoice,
    )


def lines_take(lines: LineArrays, rows: npt.NDArray[np.int64]) -> LineArrays:
    """The lines at `rows` (to leave out duplicates)."""
    values = {name: getattr(lines, name)[rows] for name in LineArrays.__dataclass_fields__ if name != "invoice"}
    return LineArrays(**values, invoice=lines.invoice.take(pa.array(rows)))
