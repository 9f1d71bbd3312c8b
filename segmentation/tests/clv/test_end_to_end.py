"""The CDNOW sample imported through the real pipeline: the read model hands the models the same
purchase days the papers use, so the command reproduces the published yardstick; a refit saves the fit
with its run, and the API and the export answer from it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from analytics.tests.cdnow import cdnow_import
from segmentation.models import CustomerValue, CustomerValueModel
from segmentation.services.refit import segmentation_run_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdnow(run_import) -> None:
    cdnow_import(run_import)


def test_fit_clv_reproduces_the_yardstick_on_the_imported_file(cdnow: None) -> None:
    out = io.StringIO()
    call_command("fit_clv", "--calibration-end", "1997-10-01", "--holdout-end", "1998-07-01", "--json", stdout=out)
    report = json.loads(out.getvalue())

    bgnbd = report["bgnbd"]
    assert (round(bgnbd["r"], 3), round(bgnbd["alpha"], 3), round(bgnbd["a"], 3), round(bgnbd["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(bgnbd["log_likelihood"], 2) == -9582.43 and bgnbd["time_unit"] == "weeks"
    pareto = report["pareto_nbd"]
    assert [round(pareto[name], 2) for name in ("r", "alpha", "s", "beta")] == [0.55, 10.58, 0.61, 11.67]
    assert abs(pareto["log_likelihood"] - -9594.97) <= 0.05
    spend = report["gamma_gamma"]
    assert (round(spend["p"], 2), round(spend["q"], 2), round(spend["gamma"], 2), spend["customers"]) == (
        6.25,
        3.74,
        15.44,
        946,
    )
    assert report["holdout"]["actual_repeat_purchases"] == 1882
    assert round(report["holdout"]["by_model"]["bgnbd"]["predicted_repeat_purchases"], 1) == 1653.4
    assert report["chosen"] in ("bgnbd", "pareto_nbd")


def test_the_refit_saves_the_fit_and_the_api_and_export_answer_from_it(
    cdnow: None, viewer_client: APIClient, analyst_client: APIClient
) -> None:
    run = segmentation_run_create()
    assert run.status == "succeeded", run.message
    model = CustomerValueModel.objects.get(run=run)
    assert model.status == "fitted", model.message
    assert CustomerValue.objects.filter(run=run).count() == run.customers == 2357

    body = viewer_client.get("/api/clv/model").json()
    assert body["status"] == "fitted" and body["chosen"] in ("bgnbd", "pareto_nbd")
    assert body["holdout"]["actual_repeat_purchases"] > 0
    assert set(body["segments"]) == {"kmeans", "rfm"}
    assert sum(row["customers"] for row in body["segments"]["rfm"]) == 2357
    assert viewer_client.get("/api/customers/value").status_code == 403

    page = analyst_client.get("/api/customers/value", {"page_size": 5}).json()
    assert page["count"] == 2357
    clvs = [row["clv"] for row in page["results"]]
    assert clvs == sorted(clvs, reverse=True)
    first = page["results"][0]
    assert 0 <= first["p_alive"] <= 1 and first["expected_purchases"] > 0
    longer = analyst_client.get("/api/customers/value", {"page_size": 5, "horizon_days": 730}).json()
    assert longer["results"][0]["clv"] > first["clv"]  # two years ahead are worth more than one
    at_risk = analyst_client.get("/api/customers/value", {"page_size": 3, "ordering": "-value_at_risk"}).json()
    risks = [row["value_at_risk"] for row in at_risk["results"]]
    assert risks == sorted(risks, reverse=True)
    bad = analyst_client.get("/api/customers/value", {"horizon_days": "soon"})
    assert bad.status_code == 400 and "horizon_days" in bad.json()["error"]["message"]

    segment = first["rfm_segment"]
    export = analyst_client.get("/api/customers/export", {"segment": segment})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    exported = {row["customer_id"]: row for row in rows}
    assert float(exported[first["customer_id"]]["clv"]) == first["clv"]


def test_data_without_repeat_customers_gets_a_reason_instead_of_numbers(run_import, viewer_client) -> None:
    rows = "\n".join(f"C{n},2023-0{1 + n % 9}-1{n % 9},1,{10 + n}.00" for n in range(150))
    mapping = {
        "columns": {"customer": "customer_id", "date": "invoice_date", "quantity": "quantity", "price": "price"},
        "date_format": "ymd",
    }
    batch = run_import("customer_id,invoice_date,quantity,price\n" + rows + "\n", name="once.csv", mapping=mapping)
    assert batch.status == "succeeded", batch.message
    run = segmentation_run_create()
    assert run.status == "succeeded"
    model = CustomerValueModel.objects.get(run=run)
    assert model.status == "not_fitted" and "repeat" in model.message
    body = viewer_client.get("/api/clv/model").json()
    assert body["status"] == "not_fitted" and body["message"] == model.message
