"""The same files through the same platform, and every API answer it gives: run on a Citus cluster (in
the test) and on one PostgreSQL server (`python -m tests.citus.answers OUT FILE...`, in a process of
its own pointed at that server by DATABASE_URL), the two are compared (test_same_answers.py).

The steps, in order, each committed as the product commits them: import every file through the
pipeline (a later one delivers again lines of the first, so claims are made), refit the segments (with
customer value), ask every API GET; then delete the first import, refit, ask again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

# Keys whose values are times of the run itself (when, how long), never the data's: left out of the
# comparison. Everything else must be equal.
VOLATILE_KEYS = frozenset(
    {
        "created_at",
        "started_at",
        "finished_at",
        "queued_at",
        "deleted_at",
        "timings",
        "seconds",
        "stage_seconds",
        "duration_seconds",
    }
)
SEGMENT_KINDS = ("kmeans", "rfm")


def _normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items() if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    return value


def _paths(segment_names: dict[str, list[str]]) -> list[tuple[str, dict[str, Any]]]:
    """Every GET of the API, with the parameters that reach each reader (filters, comparisons, kinds)."""
    some_store: dict[str, Any] = {"store": ["Kanyon", "Metrocity"]}
    year: dict[str, Any] = {"date_from": "2022-01-01", "date_to": "2022-12-31"}
    paths: list[tuple[str, dict[str, Any]]] = []
    for path in (
        "/api/overview",
        "/api/performance/stores",
        "/api/insights/seasonality",
        "/api/insights/discount-impact",
        "/api/insights/payment-methods",
        "/api/customers/repeat-vs-onetime",
    ):
        paths += [
            (path, {}),
            (path, year),
            (path, {**some_store, "category": ["Books", "Toys"]}),
            (path, {**year, "compare": "previous_year"}),
            (path, {"date_from": "2022-03-01", "date_to": "2022-05-31", "compare": "previous_period"}),
        ]
    for period in ("month", "week", "quarter"):
        for metric in ("retention", "unbounded", "revenue", "cumulative_revenue"):
            paths.append(("/api/cohorts", {"period": period, "metric": metric}))
    paths.append(("/api/cohorts", {"period": "month", "metric": "retention", **some_store, **year}))
    paths.append(
        (
            "/api/insights/revenue-change",
            {"a_from": "2021-01-01", "a_to": "2021-12-31", "b_from": "2022-01-01", "b_to": "2022-12-31"},
        )
    )
    paths.append(
        (
            "/api/insights/revenue-change",
            {"a_from": "2022-01-01", "a_to": "2022-06-30", "b_from": "2022-07-01", "b_to": "2022-12-31", **some_store},
        )
    )
    for kind in SEGMENT_KINDS:
        paths.append(("/api/segments", {"kind": kind}))
        paths.append(("/api/segmentation/movement", {"kind": kind}))
    paths += [
        ("/api/segmentation/runs", {}),
        ("/api/insights/category-by-segment", {}),
        ("/api/insights/category-by-segment", {**year, "category": ["Books"]}),
        ("/api/clv/model", {}),
        ("/api/imports", {}),
        ("/api/scenarios", {}),
    ]
    for ordering in ("-monetary", "recency_days", "-frequency"):
        paths.append(("/api/customers/rfm-segments", {"ordering": ordering, "page_size": 1000}))
    for ordering in ("-clv", "-p_alive", "-value_at_risk", "-expected_purchases"):
        paths.append(("/api/customers/value", {"ordering": ordering, "page_size": 1000}))
    paths.append(("/api/customers/value", {"horizon_days": 180, "discount_rate": "0.2", "page_size": 1000}))
    for kind, names in segment_names.items():
        for segment in names:
            filter_name = "segment" if kind == "kmeans" else "rfm_segment"
            paths.append(("/api/customers/rfm-segments", {filter_name: segment, "page_size": 1000}))
            paths.append(("/api/customers/export", {"segment": segment}))
            paths.append(("/api/simulations/campaign", {"segment": segment, "discount": "0.1", "response_rate": "0.2"}))
            paths.append(("/api/simulations/campaign/export", {"segment": segment, "discount": "0.1", "seed": 5}))
    return paths


def _ask_everything(client: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    segment_names: dict[str, list[str]] = {}
    for kind in SEGMENT_KINDS:
        response = client.get("/api/segments", {"kind": kind})
        if response.status_code == 200:
            segment_names[kind] = sorted(row["segment"] for row in response.json()["segments"])
    batches = [row["id"] for row in client.get("/api/imports").json()["results"]]
    paths = _paths(segment_names)
    paths += [(f"/api/imports/{batch}", {}) for batch in batches]
    for path, params in paths:
        response = client.get(path, params)
        key = f"{path}?{json.dumps(params, sort_keys=True)}"
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json"):
            body: Any = _normalised(response.json())
        else:
            body = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
        answers[key] = {"status": response.status_code, "body": body}
    return answers


def _ids() -> dict[str, Any]:
    """The ids the imports gave the customers and dimensions (the order of a customer's same-day
    transactions follows the store's id, for one)."""
    from analytics.models import Category, Customer, PaymentMethod, Store

    ids: dict[str, Any] = {
        model.__name__: sorted(model.objects.values_list("name", "pk")) for model in (Store, Category, PaymentMethod)
    }
    ids["Customer"] = sorted(Customer.objects.values_list("external_id", "pk"))
    return ids


def answers_collect(files: list[Path], *, staff_username: str = "compare-staff") -> dict[str, Any]:
    """Import `files`, refit, ask every API GET; delete the first import (whose lines a later file may
    have delivered again: they are handed to it), refit, ask again. Returns the answers of both rounds
    and what each import, the deletion and each refit reported (volatile keys left out)."""
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    from analytics.models import ImportBatch
    from analytics.services.import_batches import import_batch_create, import_batch_run
    from analytics.services.import_deletion import import_batch_delete
    from segmentation.models import SegmentCell
    from segmentation.services.refit import segmentation_run_create

    staff = User.objects.create_user(username=staff_username, password="unused-" + staff_username, is_staff=True)
    client = APIClient()
    client.force_authenticate(user=staff)
    result: dict[str, Any] = {"imports": [], "refits": []}

    def refit() -> None:
        run = segmentation_run_create(k=None, as_of=None)
        cells = {
            f"{segment} / {rfm_segment}": hashlib.sha256(bytes(values) + bytes(days)).hexdigest()
            for segment, rfm_segment, values, days in SegmentCell.objects.filter(run=run)
            .order_by("segment", "rfm_segment")
            .values_list("segment", "rfm_segment", "order_values", "days_since_purchase")
        }
        result["refits"].append(
            {
                "status": run.status,
                "message": run.message,
                "k": run.k,
                "silhouette": run.silhouette,
                "customers": run.customers,
                "cells": cells,
            }
        )

    for path in files:
        batch = import_batch_create(
            path_or_file=path, file_name=path.name, source=ImportBatch.Source.COMMAND, enqueue=False
        )
        batch = import_batch_run(batch_id=batch.id, queue_refit=False)
        result["imports"].append(
            {
                field: getattr(batch, field)
                for field in ("status", "rows_read", "imported", "rejected", "duplicates", "load_path", "message")
            }
            | {"first_date": str(batch.first_date), "last_date": str(batch.last_date)}
        )
    result["ids"] = _ids()
    refit()
    result["after_imports"] = _ask_everything(client)
    deletion = import_batch_delete(batch_id=ImportBatch.objects.order_by("id").values_list("id", flat=True)[0])
    result["deletion"] = {"lines": deletion.lines, "lines_kept": deletion.lines_kept, "net_sales": deletion.net_sales}
    refit()
    result["after_deletion"] = _ask_everything(client)
    return result


def main() -> None:
    out, *files = sys.argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_platform.settings.test")
    import django

    django.setup()
    answers = answers_collect([Path(file) for file in files])
    Path(out).write_text(json.dumps(answers, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
