"""A dry run of the import on a file's first rows, for the column-mapping editor.

The real pipeline (`import_file_run`, both of its paths, its checks and its error report) imports the
sample inside a transaction that is always rolled back; before the rollback, the lines it stored are
read back and each is paired with the file row it came from by its row key (the MD5 of the row's
mapped cells, numbered among identical rows: `columnar_lines.row_keys`). So the preview shows each
row exactly as the import reads it: its parsed date, amounts and names, or the errors it would
report, or that it is already imported.

The dry run takes the data-write lock like an import, for at most PREVIEW_LOCK_SECONDS: while an
import or a refit holds it, the preview says so instead of waiting for them.
"""

from __future__ import annotations

import datetime
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
from django.db import OperationalError, connection, transaction

from analytics.mapping_sample import PREVIEW_ROWS, FileSample
from analytics.mappings import ColumnMappingSpec, header_resolve
from analytics.models import Category, Customer, ImportBatch, PaymentMethod, Store, TransactionLine
from analytics.services.import_csv.columnar_lines import repeated_keys_number, row_keys
from analytics.services.import_csv.pipeline import ImportOutcome, import_file_run
from analytics.services.import_csv.progress import ProgressWriter
from analytics.services.import_csv.reading import ImportFailure
from retail_platform.errors import ApplicationError
from retail_platform.locks import data_write_lock

PREVIEW_LOCK_SECONDS = 5


@dataclass(frozen=True)
class PreviewLine:
    date: datetime.date
    invoice: str
    customer: str
    gender: str
    age: int | None
    store: str
    category: str
    payment_method: str
    quantity: int
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    net: Decimal
    cost: Decimal | None
    is_return: bool


@dataclass(frozen=True)
class PreviewRow:
    row: int  # in the file, the header being row 1
    line: PreviewLine | None
    errors: tuple[dict[str, Any], ...]  # {"column", "value", "reason"}
    duplicate: bool  # read fine, and already imported


@dataclass(frozen=True)
class ImportPreview:
    rows: tuple[PreviewRow, ...]
    rows_read: int
    imported: int
    rejected: int
    duplicates: int
    warnings: tuple[str, ...]
    # Why the import would refuse the whole file (a missing column, ...), "" when it would not.
    failure: str
    load_path: str


class _NoProgress(ProgressWriter):
    """A dry run reports no progress (there is no batch anyone watches)."""

    def __init__(self) -> None:
        super().__init__(batch_id=0)

    def update(self, stage: str, progress: int, *, force: bool = False) -> None:
        return None


def _keys(sample: FileSample, spec: ColumnMappingSpec) -> list[uuid.UUID]:
    """The row key of each shown row, as the import computes it."""
    positions = header_resolve(spec, sample.header).positions
    width = len(sample.header)
    rows = [(row + [""] * width)[:width] for row in sample.shown_rows]
    batch = pa.RecordBatch.from_arrays(
        [pa.array([row[index] for row in rows], pa.string()) for index in range(width)],
        names=[f"f{index}" for index in range(width)],
    )
    keys = repeated_keys_number(row_keys(batch, positions=positions))
    return [uuid.UUID(bytes=key.tobytes()) for key in keys]


def _lines(batch_id: int) -> dict[uuid.UUID, PreviewLine]:
    """The lines the dry run stored, with their customers' and dimensions' names. Read apart and put
    together here: on a Citus cluster, a join of the lines just copied (over several connections to
    each worker) with the customers just added (a reference table, over another) cannot run in the
    transaction that wrote both, and this one is rolled back, never committed."""
    values = list(
        TransactionLine.objects.filter(batch_id=batch_id).values_list(
            "row_key",
            "date",
            "invoice_no",
            "customer_id",
            "store_id",
            "category_id",
            "payment_method_id",
            "quantity",
            "unit_price",
            "gross_amount",
            "discount_amount",
            "net_amount",
            "cost",
            "is_return",
        )
    )
    customers = {
        row[0]: row[1:]
        for row in Customer.objects.filter(pk__in={row[3] for row in values}).values_list(
            "pk", "external_id", "gender", "age"
        )
    }
    names = [
        dict(model.objects.filter(pk__in={row[column] for row in values}).values_list("pk", "name"))
        for model, column in ((Store, 4), (Category, 5), (PaymentMethod, 6))
    ]
    lines = {}
    for (
        key,
        date,
        invoice,
        customer,
        store,
        category,
        method,
        quantity,
        unit,
        gross,
        off,
        net,
        cost,
        returned,
    ) in values:
        external_id, gender, age = customers[customer]
        lines[key] = PreviewLine(
            date=date,
            invoice=invoice,
            customer=external_id,
            gender=gender,
            age=age,
            store=names[0][store],
            category=names[1][category],
            payment_method=names[2][method],
            quantity=quantity,
            unit_price=unit,
            gross=gross,
            discount=off,
            net=net,
            cost=cost,
            is_return=returned,
        )
    return lines


def import_preview_run(*, sample: FileSample, spec: ColumnMappingSpec) -> ImportPreview:
    """Import the sample's first PREVIEW_ROWS rows with `spec`, report them row by row, keep nothing."""
    outcome = ImportOutcome()
    failure = ""
    errors: list[dict[str, Any]] = []
    lines: dict[uuid.UUID, PreviewLine] = {}
    with transaction.atomic():
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{PREVIEW_LOCK_SECONDS}s'")
                try:
                    with transaction.atomic():
                        data_write_lock()
                except OperationalError as error:
                    raise ApplicationError(
                        "An import or a segment refit is running: the preview can run when it is done "
                        "(try again in a minute).",
                        {"reason": "data_write_lock_busy"},
                        status=409,
                    ) from error
                cursor.execute("SET LOCAL lock_timeout = DEFAULT")
            batch = ImportBatch.objects.create(
                file_name=sample.file_name[:255],
                source=ImportBatch.Source.WEB,
                status=ImportBatch.Status.RUNNING,
                mapping_name="(preview)",
            )
            try:
                outcome = import_file_run(
                    batch_id=batch.id,
                    file_name=sample.file_name,
                    opener=lambda: io.BytesIO(sample.preview_bytes),
                    size=len(sample.preview_bytes),
                    spec=spec,
                    mapping_label="being edited",
                    skip_invalid=True,
                    skip_invalid_hint="tick Skip invalid rows when you import the file",
                    progress=_NoProgress(),
                )
                errors = outcome.errors
                lines = _lines(batch.id)
            except ImportFailure as refused:
                failure, errors = refused.message, refused.errors
                outcome.rows_read, outcome.warnings = refused.rows_read, refused.warnings
                outcome.rejected = len({error["row"] for error in errors if error.get("row")})
        finally:
            transaction.set_rollback(True)
    by_row: dict[int, list[dict[str, Any]]] = {}
    for entry in errors:
        by_row.setdefault(int(entry.get("row") or 0), []).append(entry)
    rows = []
    for index, key in enumerate(_keys(sample, spec)):
        number = index + 2
        line = lines.get(key)
        row_errors = tuple(by_row.get(number, ()))
        rows.append(
            PreviewRow(
                row=number, line=line, errors=row_errors, duplicate=line is None and not row_errors and not failure
            )
        )
    return ImportPreview(
        rows=tuple(rows[:PREVIEW_ROWS]),
        rows_read=outcome.rows_read,
        imported=outcome.imported,
        rejected=outcome.rejected,
        duplicates=outcome.duplicates,
        warnings=tuple(outcome.warnings),
        failure=failure,
        load_path=outcome.path,
    )
