import datetime
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from analytics.warehouse import SalesFilter
from segmentation import rfm, selectors
from segmentation.models import CustomerSegment
from segmentation.services.refit import segmentation_run_create
from segmentation.tests.data import RawLine, build_sales, load_sales

pytestmark = pytest.mark.django_db


@pytest.fixture
def raw() -> list[RawLine]:
    lines = build_sales()
    load_sales(lines)
    return lines


@pytest.fixture
def run(raw: list[RawLine]) -> selectors.RunInfo:
    created = segmentation_run_create()
    assert created.status == "succeeded", created.message
    return selectors.segmentation_run_get(run_id=created.pk)


def test_without_a_run_readers_raise_a_404_application_error() -> None:
    assert selectors.segmentation_run_active_get() is None
    with pytest.raises(selectors.NoSegmentationRun) as caught:
        selectors.segment_summary_list()
    assert caught.value.status == 404
    assert selectors.segment_movement_get() is None
    assert selectors.segment_names_list().kmeans == ()


@pytest.mark.parametrize("kind", ["kmeans", "rfm"])
def test_segment_summary_adds_up_and_matches_the_assignments(run: selectors.RunInfo, kind: str) -> None:
    summaries = selectors.segment_summary_list(kind=kind)
    column = "segment" if kind == "kmeans" else "rfm_segment"
    rows = list(CustomerSegment.objects.filter(run_id=run.id).values(column, "monetary", "recency_days", "frequency"))
    by_segment: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_segment[row[column]].append(row)
    total = sum(row["monetary"] for row in rows)
    assert sum(s.customers for s in summaries) == run.customers == len(rows)
    assert sum(s.share_of_customers for s in summaries) == pytest.approx(1.0)
    assert sum(s.share_of_sales for s in summaries) == pytest.approx(1.0)
    for summary in summaries:
        members = by_segment.get(summary.segment, [])
        assert summary.customers == len(members)
        assert summary.net_sales == sum((m["monetary"] for m in members), Decimal("0.00"))
        assert summary.share_of_sales == pytest.approx(float(summary.net_sales / total))
        if members:
            mean_recency = sum(m["recency_days"] for m in members) / len(members)
            assert summary.mean_recency_days == pytest.approx(mean_recency, abs=0.005)
    if kind == "rfm":
        assert [s.segment for s in summaries] == list(rfm.SEGMENTS)
    else:
        assert [s.cluster for s in summaries] == list(range(run.k))


def test_customer_list_filters_by_both_segment_kinds(run: selectors.RunInfo) -> None:
    everyone = list(selectors.customer_segment_list(ordering="customer_id"))
    assert len(everyone) == run.customers
    assert [row["external_id"] for row in everyone] == sorted(row["external_id"] for row in everyone)
    segment = everyone[0]["segment"]
    rfm_segment = everyone[0]["rfm_segment"]
    filtered = list(selectors.customer_segment_list(segment=segment, rfm_segment=rfm_segment))
    expected = [r for r in everyone if r["segment"] == segment and r["rfm_segment"] == rfm_segment]
    assert filtered == expected and filtered
    by_money = list(selectors.customer_segment_list(ordering="-monetary"))
    assert [r["monetary"] for r in by_money] == sorted((r["monetary"] for r in everyone), reverse=True)


def test_segment_customer_ids_takes_kmeans_and_rfm_names(run: selectors.RunInfo) -> None:
    rows = list(CustomerSegment.objects.filter(run_id=run.id).values("customer_id", "segment", "rfm_segment"))
    kmeans_name = rows[0]["segment"]
    rfm_name = rows[-1]["rfm_segment"]
    expected = sorted(r["customer_id"] for r in rows if r["segment"] == kmeans_name or r["rfm_segment"] == rfm_name)
    assert list(selectors.segment_customer_ids(segments=[kmeans_name, rfm_name])) == expected
    assert list(selectors.segment_customer_ids(segments=[rfm_name])) == sorted(
        r["customer_id"] for r in rows if r["rfm_segment"] == rfm_name
    )
    assert list(selectors.segment_customer_ids(segments=["No such segment"])) == []


def test_segment_names_are_the_active_clusters_and_the_eleven_rfm_segments(run: selectors.RunInfo) -> None:
    names = selectors.segment_names_list()
    assert names.kmeans == tuple(cluster.name for cluster in run.clusters)
    assert names.rfm == rfm.SEGMENTS
    assert not set(names.kmeans) & set(names.rfm)


def test_movement_matrix_adds_up_to_the_customers_in_both_runs(raw: list[RawLine]) -> None:
    first = segmentation_run_create()
    # New customers arrive and some existing ones come back before the second run.
    later = [
        RawLine(f"LATE{i:03d}", f"LATEINV{i:03d}", datetime.date(2025, 1, 5), Decimal("50.00") + i, False)
        for i in range(12)
    ] + [
        RawLine(f"CUST{i:04d}", f"BACK{i:03d}", datetime.date(2025, 1, 6), Decimal("500.00"), False) for i in range(10)
    ]
    load_sales(later)
    second = segmentation_run_create()
    movement = selectors.segment_movement_get()
    assert movement is not None
    assert (movement.from_run.id, movement.to_run.id) == (first.pk, second.pk)
    first_customers = set(CustomerSegment.objects.filter(run=first).values_list("customer_id", flat=True))
    second_customers = set(CustomerSegment.objects.filter(run=second).values_list("customer_id", flat=True))
    both = first_customers & second_customers
    assert movement.customers_in_both == len(both) == sum(map(sum, movement.matrix()))
    assert movement.only_in_to == 12 and movement.only_in_from == 0
    # Each cell counts the customers who were in one segment and are now in the other.
    before = dict(CustomerSegment.objects.filter(run=first).values_list("customer_id", "segment"))
    after = dict(CustomerSegment.objects.filter(run=second).values_list("customer_id", "segment"))
    expected = Counter((before[c], after[c]) for c in both)
    assert {(c.from_segment, c.to_segment): c.customers for c in movement.cells} == dict(expected)
    rfm_movement = selectors.segment_movement_get(kind="rfm")
    assert sum(map(sum, rfm_movement.matrix())) == len(both)


def test_score_grid_counts_customers_per_r_and_f(run: selectors.RunInfo) -> None:
    grid = selectors.rfm_score_grid_get(column="frequency")
    pairs = Counter(CustomerSegment.objects.filter(run_id=run.id).values_list("r_score", "f_score"))
    assert sum(map(sum, grid.counts)) == run.customers
    for i, r in enumerate(grid.r_scores):
        for j, f in enumerate(grid.column_scores):
            assert grid.counts[i][j] == pairs.get((r, f), 0)


def test_cut_points_and_frequency_flag_come_from_the_run(run: selectors.RunInfo) -> None:
    cuts = selectors.rfm_cut_points_get()
    assert set(cuts) == {"recency", "frequency", "monetary"}
    assert sum(cut["customers"] for cut in cuts["monetary"]) == run.customers
    assert selectors.frequency_informative_get() is True


def test_scatter_sample_is_seeded_and_bounded(run: selectors.RunInfo) -> None:
    sample = selectors.rfm_scatter_sample(limit=20)
    assert len(sample) == 20
    assert selectors.rfm_scatter_sample(limit=20) == sample
    assert selectors.rfm_scatter_sample(limit=20, seed=7) != sample
    assert len(selectors.rfm_scatter_sample()) == run.customers  # fewer customers than the limit


def test_category_by_segment_equals_a_computation_from_the_raw_lines(
    raw: list[RawLine], run: selectors.RunInfo
) -> None:
    assignments = CustomerSegment.objects.filter(run_id=run.id)
    segment_of = dict(assignments.values_list("customer__external_id", "segment"))
    date_from = datetime.date(2023, 6, 1)
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in raw:
        if line.customer in segment_of and line.date >= date_from and line.store == "Harbour":
            expected[(line.category, segment_of[line.customer])] += line.net
    result = selectors.category_by_segment_get(sales_filter=SalesFilter(date_from=date_from, stores=("Harbour",)))
    assert {(row.category, row.segment): row.net_sales for row in result.rows} == dict(expected)
    for segment in {row.segment for row in result.rows}:
        assert sum(row.share_of_segment for row in result.rows if row.segment == segment) == pytest.approx(1.0)
    unfiltered = selectors.category_by_segment_get()
    assert set(unfiltered.categories) == {"Books", "Shoes", "Toys"}
    assert sum(row.net_sales for row in unfiltered.rows) == sum(line.net for line in raw if line.customer in segment_of)
