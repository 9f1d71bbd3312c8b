"""Transaction lines in PostgreSQL's binary COPY format, built with numpy (pure: no database; the
format's shared pieces are in `retail_platform.binary_copy`).

Every field of a line has a fixed size except the invoice number (text) and the cost (NULL or a
numeric), so the lines are encoded in groups that share an invoice length and a cost presence:
within a group every row has the same layout, one numpy structured array. Row order does not matter
to a table, so the groups go out one after the other.

Numerics go out with four base-10,000 digits (three before the point, one after: values below 10^12).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from analytics.services.import_csv.columnar_lines import LineArrays, sorted_unique
from retail_platform.binary_copy import numeric_template, numeric_write

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
NUMERIC_DIGITS = 4  # base-10,000 digits sent per numeric: 3 before the point, 1 after
NUMERIC_BYTES = 8 + 2 * NUMERIC_DIGITS
# Numeric columns other than the cost, and their scales (decimal places).
NUMERIC_SCALES = {"unit_price": 4, "gross_amount": 2, "discount_amount": 2, "net_amount": 2}
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


def _group_dtype(invoice_bytes: int, *, has_cost: bool) -> np.dtype:
    parts: list[tuple[str, object]] = [("field_count", ">i2")]
    for name, dtype, _ in _HEAD_FIELDS:
        parts += [(f"{name}_length", ">i4"), (name, dtype)]
    parts.append(("cost_length", ">i4"))
    if has_cost:
        parts.append(("cost", (">i2", (4 + NUMERIC_DIGITS,))))
    parts += [("invoice_no_length", ">i4"), ("invoice_no", f"S{invoice_bytes}" if invoice_bytes else "V0")]
    return np.dtype(parts)


def lines_binary(lines: LineArrays, *, keys: npt.NDArray[np.void], batch_id: int) -> Iterator[memoryview]:
    """The COPY data of `lines` (keys aligned with them), without the signature and the trailer."""
    invoice = lines.invoice.cast(pa.binary())
    offsets = np.frombuffer(invoice.buffers()[1], dtype=np.int32)[invoice.offset : invoice.offset + len(invoice) + 1]
    invoice_data = invoice.buffers()[2]
    group_of = np.diff(offsets).astype(np.int64) * 2 + lines.has_cost
    groups = sorted_unique(group_of)
    numerics = {
        "unit_price": lines.unit_price,
        "gross_amount": lines.gross,
        "discount_amount": lines.discount,
        "net_amount": lines.net,
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
    for group in groups:
        length, has_cost = int(group // 2), bool(group % 2)
        dtype = _group_dtype(length, has_cost=has_cost)
        template = _template_row(dtype, length=length, has_cost=has_cost, batch_id=batch_id)
        # One group (the usual case: invoices of one length, every line with or without a cost) is
        # taken in slices; otherwise the group's rows are gathered.
        members = np.arange(len(lines)) if len(groups) == 1 else np.flatnonzero(group_of == group)
        for start in range(0, len(members), ROWS_PER_CHUNK):
            rows: slice | npt.NDArray[np.int64]
            if len(groups) == 1:
                rows = slice(start, min(start + ROWS_PER_CHUNK, len(lines)))
                count = rows.stop - rows.start
            else:
                rows = members[start : start + ROWS_PER_CHUNK]
                count = len(rows)
            # Every row starts as the template (field count, lengths, batch id), then takes its values.
            buffer = np.tile(template, count)
            out = buffer.view(dtype)
            for name, values in numerics.items():
                numeric_write(out[name], values[rows], scale=NUMERIC_SCALES[name])
            for name, column in plain.items():
                out[name] = column[rows]
            if has_cost:
                numeric_write(out["cost"], lines.cost[rows], scale=2)
            if length:
                out["invoice_no"] = _invoices(invoice_data, offsets, rows, length)
            yield buffer.data


def _template_row(dtype: np.dtype, *, length: int, has_cost: bool, batch_id: int) -> npt.NDArray[np.uint8]:
    row = np.zeros(1, dtype=dtype)
    row["field_count"] = len(COLUMNS)
    for name, _, size in _HEAD_FIELDS:
        row[f"{name}_length"] = size
    row["batch_id"] = batch_id
    row["cost_length"] = NUMERIC_BYTES if has_cost else -1
    row["invoice_no_length"] = length
    numerics = {**NUMERIC_SCALES, **({"cost": 2} if has_cost else {})}
    for name, scale in numerics.items():
        numeric_template(row[name], scale=scale)
    return row.view(np.uint8)


def _invoices(
    data: pa.Buffer, offsets: npt.NDArray[np.int32], rows: slice | npt.NDArray[np.int64], length: int
) -> npt.NDArray:
    """The invoice texts of `rows`, all `length` bytes long, as fixed-size byte strings."""
    if isinstance(rows, slice):
        return np.frombuffer(data, dtype=f"S{length}", count=rows.stop - rows.start, offset=int(offsets[rows.start]))
    text = np.frombuffer(data, dtype=np.uint8)
    gather = offsets[rows][:, None] + np.arange(length)
    return text[gather].view(f"S{length}").ravel()
