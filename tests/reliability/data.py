"""Sales data imported the way a retailer's file is (import pipeline, then a segmentation refit), with
customer ids that must never reach a viewer."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from analytics.models import Customer, ImportBatch, Store
from analytics.services.import_batches import import_batch_create, import_batch_run
from segmentation.services.refit import segmentation_run_create

# They look like the retailer's ids, so no page treats them specially.
MARKER_CUSTOMERS = [f"C9{n:05d}" for n in range(1, 31)]
HOSTILE_TEXT = "<script>alert(1)</script>"
MALL_HEADER = [
    "invoice_no",
    "customer_id",
    "gender",
    "age",
    "category",
    "quantity",
    "price",
    "payment_method",
    "invoice_date",
    "shopping_mall",
]
CATEGORIES = ["Clothing", "Shoes", "Books", "Cosmetics"]
PAYMENTS = ["Cash", "Credit Card", "Debit Card"]


def mall_file_text(*, store_names: tuple[str, ...]) -> str:
    """Thirty customers, one to four purchases each over a year, in the public file's layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MALL_HEADER)
    invoice = 0
    for n, customer in enumerate(MARKER_CUSTOMERS):
        for visit in range(1 + n % 4):
            invoice += 1
            quantity = 1 + (n + visit) % 5
            writer.writerow(
                [
                    f"I{invoice:06d}",
                    customer,
                    "Female" if n % 2 else "Male",
                    20 + n,
                    CATEGORIES[(n + visit) % len(CATEGORIES)],
                    quantity,
                    f"{quantity * (10 + n):.2f}",
                    PAYMENTS[visit % len(PAYMENTS)],
                    f"{1 + (n * 7 + visit * 11) % 28}/{1 + (n + visit * 5) % 12}/2023",
                    store_names[(n + visit) % len(store_names)],
                ]
            )
    return out.getvalue()


def sample_data_create(
    *, directory: Path, store_names: tuple[str, ...] = ("Mall of Istanbul", "Kanyon", "Metrocity")
) -> dict[str, Any]:
    """Import the file synchronously and refit the segments; returns one object of each kind."""
    path = directory / "sales.csv"
    path.write_text(mall_file_text(store_names=store_names), encoding="utf-8")
    batch = import_batch_create(
        path_or_file=path, file_name=path.name, source=ImportBatch.Source.COMMAND, enqueue=False
    )
    batch = import_batch_run(batch_id=batch.id, queue_refit=False)
    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    run = segmentation_run_create()
    assert run.status == "succeeded", run.message
    return {
        "store": Store.objects.get(name=store_names[0]),
        "customer": Customer.objects.get(external_id=MARKER_CUSTOMERS[0]),
        "batch": batch,
        "run": run,
    }
