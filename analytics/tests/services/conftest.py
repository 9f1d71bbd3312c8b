"""Helpers for the import tests: write a file, import it through the services, count every table."""

from __future__ import annotations

from django.apps import apps

from analytics.models import ImportBatch

MALL_HEADER = "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall"


def table_counts() -> dict[str, int]:
    """Rows in every table of the project's apps (the database 'as it was' check)."""
    counts = {}
    for model in apps.get_models():
        if model._meta.app_label in {"analytics", "segmentation", "campaigns"} and model._meta.managed:
            counts[model._meta.db_table] = model._base_manager.count()
    return counts


# A SalesDaily row with its dimensions by name (ids differ between databases and runs).
DAILY_ROW_FIELDS = (
    "date",
    "store__name",
    "category__name",
    "payment_method__name",
    "gross_sales",
    "discount",
    "net_sales",
    "cost",
    "cost_lines",
    "units",
    "purchase_lines",
    "return_lines",
)


def _batch_counts() -> dict[str, int]:
    return {"analytics_importbatch": ImportBatch.objects.count()}


def mall_csv(*rows: str, header: str = MALL_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"
