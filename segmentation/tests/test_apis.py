import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import override_settings
from django_q.models import OrmQ
from rest_framework.test import APIClient

from segmentation import rfm
from segmentation.models import CustomerSegment, SegmentationRun
from segmentation.services.refit import segmentation_run_create
from segmentation.tests.data import RawLine, build_sales, load_sales

pytestmark = pytest.mark.django_db

# A customer id that a spreadsheet would run as a formula.
FORMULA_ID = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def run() -> SegmentationRun:
    raw = build_sales()
    raw += [
        RawLine(FORMULA_ID, "EVIL1", datetime.date(2024, 12, 30), Decimal("999.00"), False),
        RawLine(FORMULA_ID, "EVIL2", datetime.date(2024, 12, 31), Decimal("999.00"), False),
    ]
    load_sales(raw)
    created = segmentation_run_create()
    assert created.status == SegmentationRun.Status.SUCCEEDED, created.message
    return created


CUSTOMER_LEVEL = ["/api/customers/rfm-segments", "/api/customers/export?segment=Champions"]
AGGREGATES = ["/api/segments", "/api/segmentation/runs", "/api/insights/category-by-segment"]


@pytest.mark.parametrize("path", CUSTOMER_LEVEL)
def test_viewers_get_no_customer_level_data(viewer_client: APIClient, run: SegmentationRun, path: str) -> None:
    response = viewer_client.get(path)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Customer-level data needs the analyst role."


@pytest.mark.parametrize("path", CUSTOMER_LEVEL + AGGREGATES + ["/api/segmentation/movement"])
def test_anonymous_callers_get_no_data(anon_client: APIClient, run: SegmentationRun, path: str) -> None:
    response = anon_client.get(path)
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("path", ["/api/segments", "/api/customers/rfm-segments", "/api/customers/export?segment=Lost"])
def test_before_any_run_endpoints_say_so_with_a_404(analyst_client: APIClient, path: str) -> None:
    response = analyst_client.get(path)
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["details"]["reason"] == "no_segmentation_run"
    assert "no segmentation yet" in body["message"]


def test_customer_list_is_paginated_with_every_field(analyst_client: APIClient, run: SegmentationRun) -> None:
    response = analyst_client.get("/api/customers/rfm-segments/", {"page_size": 10, "page": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == run.customers
    assert len(body["results"]) == 10
    expected = list(CustomerSegment.objects.filter(run=run).order_by("customer_id").select_related("customer")[10:20])
    first, row = body["results"][0], expected[0]
    assert first == {
        "customer_id": row.customer.external_id,
        "recency_days": row.recency_days,
        "frequency": row.frequency,
        "monetary": f"{row.monetary:.2f}",
        "r_score": row.r_score,
        "f_score": row.f_score,
        "m_score": row.m_score,
        "rfm_segment": row.rfm_segment,
        "cluster": row.cluster,
        "segment": row.segment,
    }
    assert [item["customer_id"] for item in body["results"]] == [r.customer.external_id for r in expected]


def test_page_size_is_capped_at_one_thousand(analyst_client: APIClient, run: SegmentationRun) -> None:
    response = analyst_client.get("/api/customers/rfm-segments", {"page_size": 5000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == run.customers  # fewer than 1,000 here
    from retail_platform.api.pagination import PageNumberPagination

    assert PageNumberPagination.max_page_size == 1000


def test_customer_list_runs_a_fixed_number_of_queries(
    analyst_client: APIClient, run: SegmentationRun, django_assert_num_queries
) -> None:
    analyst_client.get("/api/customers/rfm-segments")  # the role lookup is cached on the user after this
    segment = run.clusters[0]["name"]
    # The active run, the count, the page.
    with django_assert_num_queries(3):
        response = analyst_client.get("/api/customers/rfm-segments", {"segment": segment, "page_size": 1000})
    assert response.status_code == 200


def test_customer_list_filters_by_segment_and_rfm_segment(analyst_client: APIClient, run: SegmentationRun) -> None:
    row = CustomerSegment.objects.filter(run=run).first()
    response = analyst_client.get(
        "/api/customers/rfm-segments", {"segment": row.segment, "rfm_segment": row.rfm_segment, "page_size": 1000}
    )
    assert response.status_code == 200
    expected = CustomerSegment.objects.filter(run=run, segment=row.segment, rfm_segment=row.rfm_segment).count()
    results = response.json()["results"]
    assert len(results) == expected > 0
    assert {(r["segment"], r["rfm_segment"]) for r in results} == {(row.segment, row.rfm_segment)}


@pytest.mark.parametrize(("param", "value"), [("segment", "Champions"), ("rfm_segment", "VIP"), ("ordering", "age")])
def test_customer_list_refuses_unknown_filter_values(
    analyst_client: APIClient, run: SegmentationRun, param: str, value: str
) -> None:
    response = analyst_client.get("/api/customers/rfm-segments", {param: value})
    assert response.status_code == 400
    assert param in response.json()["error"]["message"] or param in response.json()["error"]["details"]


def test_customer_list_can_be_sorted_by_spend(analyst_client: APIClient, run: SegmentationRun) -> None:
    response = analyst_client.get("/api/customers/rfm-segments", {"ordering": "-monetary", "page_size": 1000})
    values = [Decimal(item["monetary"]) for item in response.json()["results"]]
    assert values == sorted(values, reverse=True)


def test_export_streams_a_segment_as_spreadsheet_safe_csv(analyst_client: APIClient, run: SegmentationRun) -> None:
    evil = CustomerSegment.objects.get(run=run, customer__external_id=FORMULA_ID)
    response = analyst_client.get("/api/customers/export", {"segment": evil.segment})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["customer_id", "gender", "age"]
    members = CustomerSegment.objects.filter(run=run, segment=evil.segment)
    assert len(rows) - 1 == members.count()
    exported = {row[0]: row for row in rows[1:]}
    assert "'" + FORMULA_ID in exported and FORMULA_ID not in exported
    assert exported["'" + FORMULA_ID][5] == f"{evil.monetary:.2f}"
    segment_column = rows[0].index("segment")
    assert {row[segment_column] for row in rows[1:]} == {evil.segment}
    assert rows[0][-4:] == ["p_alive", "expected_purchases", "clv", "currency"]
    # The amounts say their currency (settings.CURRENCY).
    assert {row[-1] for row in rows[1:]} == {"TRY"}


@override_settings(CURRENCY="USD")
def test_export_names_the_configured_currency(analyst_client: APIClient, run: SegmentationRun) -> None:
    segment = CustomerSegment.objects.filter(run=run).values_list("segment", flat=True).first()
    response = analyst_client.get("/api/customers/export", {"segment": segment})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row[-1] for row in rows[1:]} == {"USD"}


def test_export_takes_an_rfm_segment_too(analyst_client: APIClient, run: SegmentationRun) -> None:
    name = CustomerSegment.objects.filter(run=run).values_list("rfm_segment", flat=True).first()
    response = analyst_client.get("/api/customers/export/", {"segment": name})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) - 1 == CustomerSegment.objects.filter(run=run, rfm_segment=name).count()


def test_export_refuses_a_missing_or_unknown_segment(analyst_client: APIClient, run: SegmentationRun) -> None:
    assert analyst_client.get("/api/customers/export").status_code == 400
    response = analyst_client.get("/api/customers/export", {"segment": "Nobody"})
    assert response.status_code == 400
    assert "Champions" in response.json()["error"]["details"]["valid_segment_values"]


@pytest.mark.parametrize("kind", ["kmeans", "rfm"])
def test_segments_endpoint_gives_one_row_per_segment_and_the_run(
    viewer_client: APIClient, run: SegmentationRun, kind: str
) -> None:
    response = viewer_client.get("/api/segments", {"kind": kind})
    assert response.status_code == 200
    body = response.json()
    assert body["run"]["id"] == run.pk and body["run"]["k"] == run.k
    assert body["run"]["as_of"] == run.as_of.isoformat()
    assert body["run"]["silhouette"] == run.silhouette
    assert body["definitions"]["recency"] == rfm.DEFINITIONS["recency"]
    segments = body["segments"]
    assert sum(s["customers"] for s in segments) == run.customers
    column = "segment" if kind == "kmeans" else "rfm_segment"
    for s in segments:
        members = CustomerSegment.objects.filter(run=run, **{column: s["segment"]})
        assert s["customers"] == members.count()
        assert Decimal(s["net_sales"]) == sum((m.monetary for m in members), Decimal("0.00"))
    if kind == "rfm":
        assert [s["segment"] for s in segments] == list(rfm.SEGMENTS)
    else:
        assert [s["segment"] for s in segments] == [c["name"] for c in run.clusters]


def test_segments_endpoint_refuses_an_unknown_kind(viewer_client: APIClient, run: SegmentationRun) -> None:
    assert viewer_client.get("/api/segments", {"kind": "dbscan"}).status_code == 400


def test_runs_endpoint_lists_failed_and_successful_runs(viewer_client: APIClient, run: SegmentationRun) -> None:
    failed = segmentation_run_create(as_of=datetime.date(2000, 1, 1))
    response = viewer_client.get("/api/segmentation/runs")
    assert response.status_code == 200
    runs = response.json()
    assert [r["id"] for r in runs] == [failed.pk, run.pk]
    assert runs[0]["status"] == "failed" and runs[0]["message"]
    assert runs[1]["is_active"] and runs[1]["customers"] == run.customers
    assert viewer_client.get("/api/segmentation/runs", {"limit": "0"}).status_code == 400


def test_movement_needs_two_runs_then_adds_up(viewer_client: APIClient, run: SegmentationRun) -> None:
    response = viewer_client.get("/api/segmentation/movement")
    assert response.status_code == 404
    assert response.json()["error"]["details"]["reason"] == "fewer_than_two_runs"
    segmentation_run_create()
    body = viewer_client.get("/api/segmentation/movement").json()
    assert sum(map(sum, body["matrix"])) == body["customers_in_both"] == run.customers
    # Same data: nobody moved.
    assert all(cell["from_segment"] == cell["to_segment"] for cell in body["cells"])


def test_category_by_segment_filters_and_refuses_unknown_names(viewer_client: APIClient, run: SegmentationRun) -> None:
    response = viewer_client.get(
        "/api/insights/category-by-segment", {"category": ["Books", "Toys"], "date_from": "2024-01-01"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body["categories"]) <= {"Books", "Toys"}
    assert body["rows"] and all(Decimal(row["net_sales"]) != 0 for row in body["rows"])
    bad = viewer_client.get("/api/insights/category-by-segment", {"store": "Nowhere"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["valid_store_values"] == ["Harbour", "Main street"]
    assert viewer_client.get("/api/insights/category-by-segment", {"date_from": "yesterday"}).status_code == 400


def test_refit_is_for_staff_and_queues_the_task(staff_client: APIClient, analyst_client: APIClient) -> None:
    assert analyst_client.post("/api/segmentation/refit", {}, format="json").status_code == 403
    before = OrmQ.objects.count()
    response = staff_client.post("/api/segmentation/refit/", {"k": 4, "as_of": "2024-06-01"}, format="json")
    assert response.status_code == 202
    assert response.json()["queued"] is True
    assert OrmQ.objects.count() == before + 1
    task = OrmQ.objects.latest("id").task
    assert task["id"] == response.json()["task_id"]
    assert task["func"] == "segmentation.tasks.segmentation_refit_task"
    assert task["args"] == (None, 4, "2024-06-01")
    assert staff_client.post("/api/segmentation/refit", {"k": 11}, format="json").status_code == 400
