"""The CDNOW 1/10 sample (tests/data/cdnow_sample.txt) as a retailer's file: one line per purchase,
customer_id,invoice_date,quantity,price (the CDs and the dollars), imported through the real pipeline.
Without an invoice column a customer's lines of one day form one transaction, as in the papers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from analytics.models import ImportBatch

SAMPLE = Path(__file__).resolve().parents[2] / "tests" / "data" / "cdnow_sample.txt"
MAPPING = {
    "columns": {"customer": "customer_id", "date": "invoice_date", "quantity": "quantity", "price": "price"},
    "price_is": "line_amount",
    "date_format": "ymd",
}


def cdnow_csv() -> str:
    rows = ["customer_id,invoice_date,quantity,price"]
    for line in SAMPLE.read_text().splitlines():
        _master, customer, day, cds, dollars = line.split()
        rows.append(f"C{int(customer):04d},{day[:4]}-{day[4:6]}-{day[6:]},{cds},{dollars}")
    return "\n".join(rows) + "\n"


def cdnow_import(run_import: Callable[..., ImportBatch]) -> ImportBatch:
    batch = run_import(cdnow_csv(), name="cdnow_sample.csv", mapping=MAPPING)
    assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
    assert batch.imported == 6919
    return batch
