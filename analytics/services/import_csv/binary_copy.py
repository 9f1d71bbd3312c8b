"""Transaction lines in PostgreSQL's binary COPY format, built with numpy (pure: no database).

A binary COPY row is a field count, then each field as a 4-byte length and its bytes (length -1 for
NULL), all big-endian. Every field of a line has a fixed size except the invoice number (text) and
the cost (NULL or a numeric), so the lines are encoded in groups that share an invoice length and
a cost presence: within a group every row has the same layout, one numpy structured array. Row
order does not matter to a table, so the groups go out one after the other.

Numerics go out as PostgreSQL's base-10,000 digits with a fixed four-digit layout (three groups
before the point, one after: values below 10^12); PostgreSQL strips the zero groups on receipt, so
what it stores is what it would store for the same value written as text.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from analytics.services.import_csv.columnar_lines import LineArrays

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
# The order of the COPY's column list (the invoice last: it is the only field of varying length).
COLUMNS = (
    "row_key",
    "batch_id",
    "customer_id",
    "store_id",
    "category_id",
    "payment_method_id",
    "date",
    "quantity",
    "unit_price",
    "gross_amount",
    "discount_amount",
    "net_amount",
    "is_return",
    "cost",
    "invoice_no",
)
NUMERIC_POSITIVE = 0x0000
NUMERIC_NEGATIVE = 0x4000
NUMERIC_DIGITS = 4  # base-10,000 digits sent per numeric: 3 before the point, 1 after
NUMERIC_BYTES = 8 + 2 * NUMERIC_DIGITS
ROWS_PER_CHUNK = 65_536

_HEAD_FIELDS: list[tuple[str, str | tuple[str, tuple[int]], int]] = [
    ("row_key", "V16", 16),
    ("batch_id", ">i8", 8),
    ("customer_id", ">i8", 8),
    ("store_id", ">i8", 8),
    ("category_id", ">i8", 8),
    ("payment_method_id", ">i8", 8),
    ("date", ">i4", 4),
    ("quantity", ">i4", 4),
    ("unit_price", (">i2", (4 + NUMERIC_DIGITS,)), NUMERIC_BYTES),
    ("gross_amount", (">i2", (4 + NUMERIC_DIGITS,)), NUMERIC_BYTES),
    ("discount_amount", (">i2", (4 + NUMERIC_DIGITS,)), NUMERIC_BYTES),
    ("net_amount", (">i2", (4 + NUMERIC_DIGITS,)), NUMERIC_BYTES),
    ("is_return", "u1", 1),
]


def numeric_fields(values: npt.NDArray[np.int64], *, scale: int) -> npt.NDArray[np.int16]:
    """Binary numerics (ndigits, weight, sign, dscale, digits) for integers in units of 10^-scale
    (scale 2 or 4), as rows of int16 to be stored big-endian."""
    magnitude = np.abs(values)
    unit = 10**scale
    whole, fraction = magnitude // unit, magnitude % unit
    fields = np.empty((len(values), 4 + NUMERIC_DIGITS), dtype=np.int64)
    fields[:, 0] = NUMERIC_DIGITS
    fields[:, 1] = NUMERIC_DIGITS - 2  # weight of the first digit: 10,000^2
    fields[:, 2] = np.where(values < 0, NUMERIC_NEGATIVE, NUMERIC_POSITIVE)
    fields[:, 3] = scale
    fields[:, 4] = whole // 100_000_000
    fields[:, 5] = (whole // 10_000) % 10_000
    fields[:, 6] = whole % 10_000
    fields[:, 7] = fraction * 10 ** (4 - scale)
    return fields.astype(np.int16)


def _group_dtype(invoice_bytes: int, *, has_cost: bool) -> np.dtype:
    parts: list[tuple[str, object]] = [("field_count", ">i2")]
    for name, dtype, _ in _HEAD_FIELDS:
        parts += [(f"{name}_length", ">i4"), (name, dtype)]
    parts.append(("cost_length", ">i4"))
    if has_cost:
        parts.append(("cost", (">i2", (4 + NUMERIC_DIGITS,))))
    parts += [("invoice_no_length", ">i4"), ("invoice_no", f"S{invoice_bytes}" if invoice_bytes else "V0")]
    return np.dtype(parts)


def lines_binary(lines: LineArrays, *, keys: npt.NDArray[np.void], batch_id: int) -> Iterator[bytes]:
    """The COPY data of `lines` (keys aligned with them), without the signature and the trailer."""
    invoice = lines.invoice.cast(pa.binary())
    invoice_bytes = pc.binary_length(invoice).to_numpy(zero_copy_only=False).astype(np.int64)
    numerics = {
        "unit_price": numeric_fields(lines.unit_price, scale=4),
        "gross_amount": numeric_fields(lines.gross, scale=2),
        "discount_amount": numeric_fields(lines.discount, scale=2),
        "net_amount": numeric_fields(lines.net, scale=2),
        "cost": numeric_fields(lines.cost, scale=2),
    }
    plain = {
        "row_key": keys,
        "customer_id": lines.customer_id,
        "store_id": lines.store_id,
        "category_id": lines.category_id,
        "payment_method_id": lines.payment_method_id,
        "date": lines.date,
        "quantity": lines.quantity,
        "is_return": lines.is_return,
    }
    group_of = invoice_bytes * 2 + lines.has_cost
    for group in np.unique(group_of):
        rows_of_group = np.flatnonzero(group_of == group)
        length, has_cost = int(group // 2), bool(group % 2)
        dtype = _group_dtype(length, has_cost=has_cost)
        for start in range(0, len(rows_of_group), ROWS_PER_CHUNK):
            rows = rows_of_group[start : start + ROWS_PER_CHUNK]
            out = np.empty(len(rows), dtype=dtype)
            out["field_count"] = len(COLUMNS)
            for name, _, size in _HEAD_FIELDS:
                out[f"{name}_length"] = size
                if name == "batch_id":
                    out[name] = batch_id
                elif name in numerics:
                    out[name] = numerics[name][rows]
                else:
                    out[name] = plain[name][rows]
            if has_cost:
                out["cost_length"] = NUMERIC_BYTES
                out["cost"] = numerics["cost"][rows]
            else:
                out["cost_length"] = -1
            out["invoice_no_length"] = length
            if length:
                taken = invoice.take(pa.array(rows))
                data = taken.buffers()[2]
                first = np.frombuffer(taken.buffers()[1], dtype=np.int32)[taken.offset]
                out["invoice_no"] = np.frombuffer(data, dtype=f"S{length}", count=len(rows), offset=int(first))
            yield out.tobytes()
