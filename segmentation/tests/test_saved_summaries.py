"""What the refit saves with a run so that no page reads the transaction lines: the saved answers equal
a computation from the lines (and assignments) done here in plain Python, and the request-time
selectors run no query on the lines table."""

import datetime
import hashlib
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import Category, TransactionLine
from analytics.warehouse import SalesFilter, warehouse_rebuild
from retail_platform.tests.pages import signed_in_client
from segmentation import selectors
from segmentation.models import CustomerSegment, SegmentationRun, SegmentCell
from segmentation.selectors import breakdowns
from segmentation.services.refit import segmentation_run_create
from segmentation.services.summaries import segmentation_run_summaries_save
from segmentation.tests.data import RawLine, build_sales, load_sales

pytestmark = pytest.mark.django_db

LINES_TABLE = TransactionLine._meta.db_table


@pytest.fixture
def raw() -> list[RawLine]:
    lines = build_sales(customers=80)
    load_sales(lines)
    # Some purchase lines carry cost, so the cells' cost figures are exercised.
    for number, line in enumerate(TransactionLine.objects.filter(is_return=False).order_by("pk")):
        if number % 3 == 0:
            line.cost = (line.net_amount * Decimal("0.55")).quantize(Decimal("0.01"))
            line.save(update_fields=["cost"])
    warehouse_rebuild()
    return lines


@pytest.fixture
def run(raw: list[RawLine]) -> SegmentationRun:
    created = segmentation_run_create()
    assert created.status == "succeeded", created.message
    return SegmentationRun.objects.get(pk=created.pk)


def _assignments(run_id: int) -> dict[int, dict]:
    return {
        row["customer_id"]: row
        for row in CustomerSegment.objects.filter(run_id=run_id).values(
            "customer_id", "segment", "rfm_segment", "recency_days", "frequency", "monetary", "cluster"
        )
    }


def _lines() -> list[dict]:
    """Every line with its category's name, named here: on a Citus cluster the transaction that copied
    the lines over several connections cannot join them with a reference table."""
    categories = dict(Category.objects.values_list("pk", "name"))
    lines = list(
        TransactionLine.objects.values(
            "customer_id", "invoice_no", "date", "net_amount", "cost", "is_return", "category"
        )
    )
    for line in lines:
        line["category__name"] = categories[line.pop("category")]
    return lines


def _no_line_queries(context: CaptureQueriesContext) -> None:
    assert context.captured_queries, "the selector ran no query at all: the check would prove nothing"
    reading = [query["sql"] for query in context.captured_queries if LINES_TABLE in query["sql"]]
    assert reading == []


@pytest.mark.parametrize("kind", ["kmeans", "rfm"])
def test_saved_category_by_segment_equals_the_sum_over_the_lines(run: SegmentationRun, kind: str) -> None:
    assignments = _assignments(run.pk)
    column = "segment" if kind == "kmeans" else "rfm_segment"
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in _lines():
        if line["customer_id"] in assignments:
            expected[(line["category__name"], assignments[line["customer_id"]][column])] += line["net_amount"]

    with CaptureQueriesContext(connection) as context:
        saved = selectors.category_by_segment_get(kind=kind)
    _no_line_queries(context)

    assert {(row.category, row.segment): row.net_sales for row in saved.rows} == dict(expected)
    # The same answer as the on-demand computation the filtered variants use.
    on_demand = breakdowns._category_by_segment_rows(run.pk, kind, SalesFilter())
    assert saved.rows == on_demand


def test_a_filtered_category_by_segment_is_computed_from_the_read_models_transactions(
    run: SegmentationRun,
) -> None:
    assignments = _assignments(run.pk)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for line in _lines():
        if line["customer_id"] in assignments and line["category__name"] == "Books" and line["date"].year == 2024:
            expected[assignments[line["customer_id"]]["segment"]] += line["net_amount"]

    with CaptureQueriesContext(connection) as context:
        filtered = selectors.category_by_segment_get(
            sales_filter=SalesFilter(
                date_from=datetime.date(2024, 1, 1), date_to=datetime.date(2024, 12, 31), categories=("Books",)
            )
        )
    _no_line_queries(context)
    assert any("analytics_salestransaction" in query["sql"] for query in context.captured_queries)
    assert {row.segment: row.net_sales for row in filtered.rows if row.category == "Books"} == dict(expected)
    assert {row.category for row in filtered.rows} == {"Books"}


def test_saved_scatter_sample_is_the_seeded_md5_order_of_the_customers(run: SegmentationRun) -> None:
    assignments = _assignments(run.pk)
    order = sorted(
        assignments,
        key=lambda pk: (hashlib.md5(f"{pk}:{selectors.SCATTER_SEED}".encode(), usedforsecurity=False).hexdigest(), pk),
    )
    expected = [
        (
            assignments[pk]["recency_days"],
            assignments[pk]["frequency"],
            float(assignments[pk]["monetary"]),
            assignments[pk]["segment"],
            assignments[pk]["rfm_segment"],
            assignments[pk]["cluster"],
        )
        for pk in order[: selectors.SCATTER_SAMPLE]
    ]
    with CaptureQueriesContext(connection) as context:
        sample = selectors.rfm_scatter_sample()
    _no_line_queries(context)
    assert [(p.recency_days, p.frequency, p.monetary, p.segment, p.rfm_segment, p.cluster) for p in sample] == expected
    assert sample == selectors.rfm_scatter_sample(limit=selectors.SCATTER_SAMPLE + 1)[: selectors.SCATTER_SAMPLE]


@pytest.mark.parametrize("kind", ["kmeans", "rfm"])
def test_saved_movement_counts_each_customer_of_both_runs_once(run: SegmentationRun, kind: str) -> None:
    TransactionLine.objects.filter(date__gte=datetime.date(2024, 9, 1)).delete()
    warehouse_rebuild()
    earlier = segmentation_run_create(as_of=datetime.date(2024, 9, 1))
    later = segmentation_run_create()
    column = "segment" if kind == "kmeans" else "rfm_segment"
    before, after = _assignments(earlier.pk), _assignments(later.pk)
    expected = Counter((before[pk][column], after[pk][column]) for pk in before.keys() & after.keys())
    assert SegmentationRun.objects.get(pk=later.pk).movement["from_run"] == earlier.pk

    with CaptureQueriesContext(connection) as context:
        movement = selectors.segment_movement_get(kind=kind)
    _no_line_queries(context)
    assert movement is not None
    assert (movement.from_run.id, movement.to_run.id) == (earlier.pk, later.pk)
    assert {(c.from_segment, c.to_segment): c.customers for c in movement.cells} == dict(expected)
    assert movement.customers_in_both == len(before.keys() & after.keys())
    assert not any(LINES_TABLE in query["sql"] for query in context.captured_queries)


def test_movement_is_computed_from_the_assignments_when_the_latest_run_saved_none(run: SegmentationRun) -> None:
    later = segmentation_run_create()
    SegmentationRun.objects.filter(pk=later.pk).update(movement={})
    movement = selectors.segment_movement_get(kind="rfm")
    assert movement is not None and movement.from_run.id == run.pk
    # Same customers, same data: nobody moved.
    assert all(cell.from_segment == cell.to_segment for cell in movement.cells)
    assert movement.customers_in_both == run.customers


def _expected_history(run: SegmentationRun, customers: set[int]) -> dict:
    """Order values, days since the last purchase and cost figures, from the lines in plain Python."""
    invoices: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    last: dict[int, datetime.date] = {}
    cost_lines, cost, net_with_cost = 0, Decimal(0), Decimal(0)
    for line in _lines():
        if line["customer_id"] not in customers or line["is_return"] or line["date"] >= run.as_of:
            continue
        invoices[(line["customer_id"], line["invoice_no"])] += line["net_amount"]
        last[line["customer_id"]] = max(last.get(line["customer_id"], line["date"]), line["date"])
        if line["cost"] is not None:
            cost_lines += 1
            cost += line["cost"]
            net_with_cost += line["net_amount"]
    return {
        "order_values": sorted(float(value) for value in invoices.values() if value > 0),
        "days": sorted((run.as_of - day).days for day in last.values()),
        "cost_lines": cost_lines,
        "cost": cost,
        "net_with_cost": net_with_cost,
    }


def test_saved_purchase_history_of_any_choice_of_segments_equals_the_lines(run: SegmentationRun) -> None:
    assignments = _assignments(run.pk)
    kmeans = sorted({row["segment"] for row in assignments.values()})
    choices = [[kmeans[0]], ["Champions"], [kmeans[-1], "Hibernating", "At Risk"], [*kmeans]]
    for segments in choices:
        targeted = {
            pk for pk, row in assignments.items() if row["segment"] in segments or row["rfm_segment"] in segments
        }
        expected = _expected_history(run, targeted)
        with CaptureQueriesContext(connection) as context:
            history = selectors.segment_purchase_history_get(segments=segments)
        _no_line_queries(context)
        assert history.customers == len(targeted), segments
        assert sorted(history.order_values.tolist()) == expected["order_values"], segments
        assert sorted(history.days_since_purchase.tolist()) == expected["days"], segments
        assert history.cost_lines == expected["cost_lines"]
        assert (history.cost or Decimal(0)) == expected["cost"]
        assert (history.net_with_cost or Decimal(0)) == expected["net_with_cost"]
    everybody = selectors.segment_purchase_history_get(segments=kmeans)
    assert everybody.customers == run.customers
    assert everybody.cost_lines > 0


def _cells(run_id: int) -> list[tuple]:
    return [
        (*row[:3], bytes(row[3]), bytes(row[4]), *row[5:])
        for row in SegmentCell.objects.filter(run_id=run_id)
        .order_by("segment", "rfm_segment")
        .values_list(
            "segment",
            "rfm_segment",
            "customers",
            "order_values",
            "days_since_purchase",
            "cost_lines",
            "cost",
            "net_with_cost",
        )
    ]


def _saved(run_id: int) -> tuple:
    return SegmentationRun.objects.filter(pk=run_id).values_list(
        "scatter_sample", "assignment_cube", "category_sales", "summaries_saved"
    )[0]


def test_summaries_saved_on_their_own_equal_the_refit_s_to_the_byte(run: SegmentationRun) -> None:
    """The refit hands the summaries the purchase values its RFM pass read; saved on their own they read
    the lines again. Both give the same cells, each cell's order values in the same order."""
    by_refit, saved_by_refit = _cells(run.pk), _saved(run.pk)
    assert len(by_refit) == len({(row["segment"], row["rfm_segment"]) for row in _assignments(run.pk).values()})
    assert sum(len(values) for _, _, _, values, *_ in by_refit) > 0

    segmentation_run_summaries_save(run_id=run.pk)

    assert _cells(run.pk) == by_refit
    assert _saved(run.pk) == saved_by_refit


def test_two_refits_on_the_same_data_save_identical_summaries(run: SegmentationRun) -> None:
    again = segmentation_run_create()
    assert _cells(again.pk) == _cells(run.pk)
    assert _saved(again.pk) == _saved(run.pk)


def test_a_run_made_before_summaries_existed_asks_for_a_refit(run: SegmentationRun) -> None:
    saved_sample = selectors.rfm_scatter_sample()
    saved_categories = selectors.category_by_segment_get().rows
    SegmentationRun.objects.filter(pk=run.pk).update(summaries_saved=False, scatter_sample=[], category_sales=[])
    with pytest.raises(selectors.NoSegmentationRun) as caught:
        selectors.segment_purchase_history_get(segments=["Champions"])
    assert "refit" in caught.value.message
    # The pages still answer, computed on demand from the assignments (category x segment: the lines).
    assert selectors.rfm_scatter_sample() == saved_sample
    assert selectors.category_by_segment_get().rows == saved_categories


def test_pruning_a_run_deletes_its_cells(run: SegmentationRun, settings) -> None:
    settings.SEGMENTATION_KEEP_ASSIGNMENTS = 1
    later = segmentation_run_create()
    assert not SegmentCell.objects.filter(run=run).exists()
    assert SegmentCell.objects.filter(run_id=later.pk).exists()
    assert SegmentationRun.objects.get(pk=run.pk).scatter_sample == []


def test_the_customers_page_reads_no_transaction_line(run: SegmentationRun, analyst) -> None:
    segmentation_run_create()  # a second run, so the movement is drawn too
    client = signed_in_client(analyst)
    cache.clear()
    for kind in ("kmeans", "rfm"):
        with CaptureQueriesContext(connection) as context:
            response = client.get("/customers/", {"kind": kind})
        assert response.status_code == 200
        assert response.context["charts"]["movement"]
        _no_line_queries(context)


@pytest.mark.parametrize("kind", ["kmeans", "rfm"])
def test_segment_tables_and_score_grids_from_the_saved_cube_equal_the_assignments(
    run: SegmentationRun, kind: str
) -> None:
    with CaptureQueriesContext(connection) as context:
        saved = selectors.segment_summary_list(kind=kind)
        grids = [selectors.rfm_score_grid_get(column=column) for column in ("frequency", "monetary")]
    assert not any(CustomerSegment._meta.db_table in query["sql"] for query in context.captured_queries)
    SegmentationRun.objects.filter(pk=run.pk).update(summaries_saved=False)
    assert saved == selectors.segment_summary_list(kind=kind)
    assert grids == [selectors.rfm_score_grid_get(column=column) for column in ("frequency", "monetary")]
