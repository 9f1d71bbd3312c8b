"""Cohorts, revenue change and period comparison, through the API, on the CDNOW sample imported by the
real pipeline (the yardsticks of the issue) and on edge cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from analytics.tests.cdnow import cdnow_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdnow(run_import) -> None:
    cdnow_import(run_import)


def test_cohort_retention_holds_the_cdnow_yardstick(viewer_client: APIClient, cdnow: None) -> None:
    body = viewer_client.get("/api/cohorts", {"period": "month", "metric": "retention"}).json()
    cohorts = {row["cohort"]: row for row in body["cohorts"]}
    assert (cohorts["1997-01"]["customers"], cohorts["1997-02"]["customers"], cohorts["1997-03"]["customers"]) == (
        781,
        857,
        719,
    )
    january = cohorts["1997-01"]["values"]
    assert (january[0], january[1], january[12]) == (1.0, 0.1588, 0.0576)
    unbounded = viewer_client.get("/api/cohorts", {"metric": "unbounded"}).json()["cohorts"][0]["values"]
    assert unbounded[1] == 0.4545
    # The data ends on 30 June 1998: March's cohort has 16 periods known, the rest null, never 0.
    march = cohorts["1997-03"]["values"]
    assert march[15] is not None and march[16] is None and len(march) == 18


def test_cohorts_filter_on_the_first_purchase_and_refuse_a_bad_period(viewer_client: APIClient, cdnow: None) -> None:
    q1 = viewer_client.get("/api/cohorts", {"date_from": "1997-02-01", "date_to": "1997-02-28"}).json()
    assert [row["cohort"] for row in q1["cohorts"]] == ["1997-02"]
    weekly = viewer_client.get("/api/cohorts", {"period": "week"}).json()
    assert sum(row["customers"] for row in weekly["cohorts"]) == 2357
    assert weekly["cohorts"][0]["cohort"] == "1997-W01"
    bad = viewer_client.get("/api/cohorts", {"period": "fortnight"})
    assert bad.status_code == 400 and "period" in bad.json()["error"]["message"]


def test_revenue_change_holds_the_cdnow_yardstick(viewer_client: APIClient, cdnow: None) -> None:
    body = viewer_client.get(
        "/api/insights/revenue-change",
        {"a_from": "1997-04-01", "a_to": "1997-06-30", "b_from": "1997-07-01", "b_to": "1997-09-30"},
    ).json()
    assert body["method"] == "lmdi" and body["change"] == "-6642.32"
    parts = {factor["factor"]: factor["contribution"] for factor in body["factors"]}
    assert parts == {
        "customers": "-6822.52",
        "transactions_per_customer": "-368.03",
        "units_per_transaction": "90.67",
        "price_per_unit": "457.56",
    }
    assert sum(Decimal(value) for value in parts.values()) == Decimal(body["change"])
    assert [step["label"] for step in body["waterfall"]] == ["A", *parts, "B"]
    assert Decimal(body["stores"]["change"]) == Decimal(body["change"])


def test_revenue_change_needs_both_ranges(viewer_client: APIClient, cdnow: None) -> None:
    missing = viewer_client.get("/api/insights/revenue-change", {"a_from": "1997-04-01", "a_to": "1997-06-30"})
    assert missing.status_code == 400 and "b_from" in missing.json()["error"]["message"]
    backwards = viewer_client.get(
        "/api/insights/revenue-change",
        {"a_from": "1997-06-30", "a_to": "1997-04-01", "b_from": "1997-07-01", "b_to": "1997-09-30"},
    )
    assert backwards.status_code == 400


def test_an_empty_period_gives_the_whole_change_to_customers(viewer_client: APIClient, cdnow: None) -> None:
    body = viewer_client.get(
        "/api/insights/revenue-change",
        {"a_from": "1996-01-01", "a_to": "1996-01-01", "b_from": "1997-07-01", "b_to": "1997-07-01"},
    ).json()
    assert body["method"] == "empty_period" and body["net_sales_a"] == "0.00"
    parts = {factor["factor"]: Decimal(factor["contribution"]) for factor in body["factors"]}
    assert parts["customers"] == Decimal(body["change"]) and parts["price_per_unit"] == 0


def test_compare_with_the_previous_period_and_the_previous_year(viewer_client: APIClient, cdnow: None) -> None:
    q3 = {"date_from": "1997-07-01", "date_to": "1997-09-30"}
    plain = viewer_client.get("/api/overview", q3).json()
    q2 = viewer_client.get("/api/overview", {"date_from": "1997-03-31", "date_to": "1997-06-30"}).json()
    body = viewer_client.get("/api/overview", {**q3, "compare": "previous_period"}).json()
    comparison = body.pop("comparison")
    assert body == plain
    # The 92 days of July to September against the 92 days just before them.
    assert comparison["base"] == {"date_from": "1997-03-31", "date_to": "1997-06-30", "days": 92, "days_covered": 92}
    assert comparison["has_data"] is True and comparison["partial"] is False
    assert comparison["answer"]["net_sales"] == q2["net_sales"]
    change = comparison["changes"]["net_sales"]
    assert Decimal(change["absolute"]) == Decimal(plain["net_sales"]) - Decimal(q2["net_sales"])
    assert change["relative"] == round(float(Decimal(change["absolute"]) / Decimal(q2["net_sales"])), 4)

    year = viewer_client.get("/api/overview", {**q3, "compare": "previous_year"}).json()["comparison"]
    assert year["has_data"] is False and year["changes"]["net_sales"] == {
        "base": None,
        "absolute": None,
        "relative": None,
    }

    stores = viewer_client.get("/api/insights/seasonality", {**q3, "compare": "previous_period"}).json()
    months = stores["comparison"]["changes"]["monthly"]
    assert list(months) == ["1997-07", "1997-08", "1997-09"]
    assert months["1997-07"]["net_sales"]["base"] == stores["comparison"]["answer"]["monthly"][0]["net_sales"]
    bad = viewer_client.get("/api/overview", {"compare": "last_week"})
    assert bad.status_code == 400 and "previous_year" in bad.json()["error"]["message"]


def test_a_comparison_running_past_the_data_is_partial(viewer_client: APIClient, cdnow: None) -> None:
    body = viewer_client.get(
        "/api/overview", {"date_from": "1998-04-01", "date_to": "1998-09-30", "compare": "previous_year"}
    ).json()
    assert body["comparison"]["partial"] is True and body["comparison"]["has_data"] is True
