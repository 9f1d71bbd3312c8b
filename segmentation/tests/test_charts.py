import datetime
import itertools
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from segmentation import charts, clustering, rfm
from segmentation.selectors import (
    CategoryBySegment,
    CategorySegmentSales,
    Movement,
    MovementCell,
    RunInfo,
    ScatterPoint,
    ScoreGrid,
    SegmentSummary,
)


def _summary(name: str, customers: int, share_customers: float, share_sales: float) -> SegmentSummary:
    return SegmentSummary(
        kind="kmeans",
        segment=name,
        cluster=0,
        customers=customers,
        share_of_customers=share_customers,
        net_sales=Decimal("1000.00") * Decimal(str(share_sales)),
        share_of_sales=share_sales,
        mean_recency_days=10.0 if customers else None,
        mean_frequency=3.5 if customers else None,
        mean_monetary=Decimal("250.00") if customers else None,
    )


def _run(run_id: int) -> RunInfo:
    return RunInfo(
        id=run_id,
        status="succeeded",
        message="",
        is_active=True,
        k=2,
        silhouette=0.5,
        inertia=1.0,
        customers=10,
        duration_seconds=1.0,
        timings={},
        parameters={},
        import_batch_id=None,
        as_of=datetime.date(2024, 1, 1),
        frequency_informative=True,
        cut_points={},
        clusters=(),
        assignments_pruned=False,
        created_at=timezone.now(),
        finished_at=None,
    )


def test_sizes_chart_sets_customer_share_beside_sales_share() -> None:
    fig = charts.segment_sizes_chart([_summary("VIP", 2, 0.2, 0.6), _summary("Dormant", 8, 0.8, 0.4)])
    customers, sales = fig.data
    assert list(customers.x) == ["VIP", "Dormant"]
    assert list(customers.y) == [0.2, 0.8]
    assert list(sales.y) == [0.6, 0.4]
    assert [list(row) for row in customers.customdata] == [["20.0\u00a0%", "2"], ["80.0\u00a0%", "8"]]
    assert list(fig.layout.yaxis.ticktext) == ["0\u00a0%", "20\u00a0%", "40\u00a0%", "60\u00a0%", "80\u00a0%"]


def test_profile_chart_has_one_panel_per_dimension_and_skips_empty_segments() -> None:
    fig = charts.segment_profile_chart([_summary("VIP", 2, 0.2, 0.6), _summary("Empty", 0, 0.0, 0.0)])
    recency, frequency, monetary = fig.data
    assert list(recency.x) == ["VIP"]
    assert (recency.y[0], frequency.y[0], monetary.y[0]) == (10.0, 3.5, 250.0)
    assert [a.text for a in fig.layout.annotations] == list(charts.PROFILE_PANELS)
    assert list(monetary.customdata) == ["₺250.00"]
    assert list(fig.layout.yaxis3.ticktext)[-1] == "₺400"


def test_scatter_draws_one_trace_per_segment_with_its_own_points() -> None:
    points = [
        ScatterPoint(recency_days=5, frequency=4, monetary=900.0, segment="VIP", rfm_segment="Champions", cluster=0),
        ScatterPoint(recency_days=300, frequency=1, monetary=20.0, segment="Dormant", rfm_segment="Lost", cluster=1),
        ScatterPoint(recency_days=7, frequency=2, monetary=700.0, segment="VIP", rfm_segment="Champions", cluster=0),
    ]
    fig = charts.rfm_scatter_chart(points, kind="kmeans", segments=["VIP", "Dormant", "Unused"])
    assert [trace.name for trace in fig.data] == ["VIP", "Dormant"]
    vip = fig.data[0]
    assert list(vip.x) == [5, 7] and list(vip.y) == [900.0, 700.0]
    assert list(vip.customdata[0]) == ["₺900.00", 4]
    assert list(fig.layout.yaxis.ticktext) == ["₺0", "₺250", "₺500", "₺750", "₺1K"]
    assert vip.marker.color != fig.data[1].marker.color

    by_rfm = charts.rfm_scatter_chart(points, kind="rfm", segments=["Champions", "Lost"])
    assert [len(trace.x) for trace in by_rfm.data] == [2, 1]


def test_grid_chart_is_a_heatmap_with_the_counts_written_in() -> None:
    grid = ScoreGrid(
        run_id=1,
        column="monetary",
        r_scores=(5, 4, 3, 2, 1),
        column_scores=(1, 2, 3, 4, 5),
        counts=((1, 2, 3, 4, 5), (0, 0, 0, 0, 0), (0, 0, 9, 0, 0), (0, 0, 0, 0, 0), (1000, 0, 0, 0, 0)),
    )
    (heatmap,) = charts.rfm_grid_chart(grid).data
    assert heatmap.type == "heatmap"
    assert list(heatmap.x) == ["M 1", "M 2", "M 3", "M 4", "M 5"]
    assert list(heatmap.y) == ["R 5", "R 4", "R 3", "R 2", "R 1"]
    assert heatmap.z[2][2] == 9
    assert heatmap.text[4][0] == "1,000"
    assert {(a.y, a.x): a.text for a in charts.rfm_grid_chart(grid).layout.annotations}[("R 1", "M 1")] == "1,000"


def test_category_chart_stacks_each_segments_categories_to_its_whole() -> None:
    rows = (
        CategorySegmentSales("Books", "VIP", Decimal(25), 0.25, 0.5),
        CategorySegmentSales("Shoes", "VIP", Decimal(75), 0.75, 1.0),
        CategorySegmentSales("Books", "Dormant", Decimal(25), 1.0, 0.5),
    )
    data = CategoryBySegment(
        run=_run(1), kind="kmeans", segments=("VIP", "Dormant"), categories=("Books", "Shoes"), rows=rows
    )
    fig = charts.category_by_segment_chart(data)
    books, shoes = fig.data
    assert list(books.y) == ["VIP", "Dormant"]
    assert list(books.x) == [0.25, 1.0]
    assert list(shoes.x) == [0.75, 0.0]
    assert fig.layout.barmode == "stack"
    for index in range(2):
        assert books.x[index] + shoes.x[index] == pytest.approx(1.0)
    assert list(books.customdata) == ["25.0\u00a0%", "100.0\u00a0%"]


def test_movement_chart_lays_the_matrix_from_rows_to_columns() -> None:
    movement = Movement(
        kind="kmeans",
        from_run=_run(1),
        to_run=_run(2),
        from_segments=("VIP", "Dormant"),
        to_segments=("VIP", "Dormant"),
        cells=(MovementCell("VIP", "Dormant", 3), MovementCell("VIP", "VIP", 7)),
        customers_in_both=10,
        only_in_from=0,
        only_in_to=0,
    )
    fig = charts.movement_chart(movement)
    (heatmap,) = fig.data
    assert [list(row) for row in heatmap.z] == [[7, 3], [0, 0]]
    assert [(a.y, a.x, a.text) for a in fig.layout.annotations] == [("VIP", "VIP", "7"), ("VIP", "Dormant", "3")]
    assert "Run #2" in fig.layout.xaxis.title.text and "Run #1" in fig.layout.yaxis.title.text


def _lab(color: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour, to measure how far apart two colours look (CIE76)."""

    def linear(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16)) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_every_segment_has_its_own_colour_clearly_apart_from_all_the_others() -> None:
    names = [*rfm.SEGMENTS, *clustering.CLUSTER_NAMES]
    assert len(names) == 21
    colors = [charts.segment_color(name) for name in names]
    closest = min(
        (math.dist(_lab(a), _lab(b)), first, second)
        for (first, a), (second, b) in itertools.combinations(zip(names, colors, strict=True), 2)
    )
    assert closest[0] >= 18, closest


def test_a_segment_keeps_its_colour_whatever_else_is_on_the_chart() -> None:
    alone = charts.segment_colors(["Lost"])
    among_others = charts.segment_colors(["Champions", "At Risk", "Lost"])
    assert alone["Lost"] == among_others["Lost"] == charts.SEGMENT_COLORS["Lost"]
    # Champions and Hibernating, Loyal Customers and Lost shared a colour before (issue 16).
    assert charts.segment_color("Champions") != charts.segment_color("Hibernating")
    assert charts.segment_color("Loyal Customers") != charts.segment_color("Lost")


def test_a_numbered_name_is_a_lighter_shade_of_its_group_and_an_unknown_name_is_stable() -> None:
    base, second = charts.segment_color("Dormant"), charts.segment_color("Dormant 2")
    assert second != base and sum(_lab(second)[:1]) > sum(_lab(base)[:1])
    assert charts.segment_color("Some new name") == charts.segment_color("Some new name")


def test_profile_and_scatter_colour_a_segment_alike() -> None:
    summaries = [_summary("VIP", 2, 0.2, 0.6), _summary("Dormant", 8, 0.8, 0.4)]
    profile = charts.segment_profile_chart(summaries)
    points = [ScatterPoint(5, 4, 900.0, "Dormant", "Lost", 1), ScatterPoint(5, 4, 900.0, "VIP", "Champions", 0)]
    scatter = charts.rfm_scatter_chart(points, kind="kmeans", segments=["VIP", "Dormant"])
    assert list(profile.data[0].marker.color) == [charts.SEGMENT_COLORS["VIP"], charts.SEGMENT_COLORS["Dormant"]]
    assert {trace.name: trace.marker.color for trace in scatter.data} == {
        "VIP": charts.SEGMENT_COLORS["VIP"],
        "Dormant": charts.SEGMENT_COLORS["Dormant"],
    }


def test_grid_counts_are_written_in_a_colour_that_reads_on_their_cell() -> None:
    grid = ScoreGrid(run_id=1, column="frequency", r_scores=(5, 4), column_scores=(1, 2), counts=((0, 40), (3, 100)))
    fig = charts.rfm_grid_chart(grid)
    written = {(a.y, a.x): (a.text, a.font.color) for a in fig.layout.annotations}
    assert written[("R 5", "F 1")] == ("0", "#000000")  # the palest cell
    assert written[("R 4", "F 2")] == ("100", "#ffffff")  # the darkest cell
    (heatmap,) = fig.data
    assert (heatmap.zmin, heatmap.zmax) == (0, 100)


def test_category_chart_puts_its_legend_under_the_bars_on_a_phone() -> None:
    rows = tuple(CategorySegmentSales(name, "VIP", Decimal(10), 0.2, 0.2) for name in "ABCDE")
    data = CategoryBySegment(run=_run(1), kind="kmeans", segments=("VIP",), categories=tuple("ABCDE"), rows=rows)
    layout = charts.category_by_segment_chart(data).layout
    narrow = layout.meta["narrow"]
    assert (narrow["legend"]["yref"], narrow["legend"]["y"], narrow["legend"]["entrywidth"]) == ("container", 0, 150)
    assert narrow["height"] == layout.height + 20 * 3  # five names in rows of two


def test_heatmaps_have_no_colour_bar_since_the_counts_are_written_in() -> None:
    grid = ScoreGrid(run_id=1, column="frequency", r_scores=(5,), column_scores=(1,), counts=((3,),))
    assert charts.rfm_grid_chart(grid).data[0].showscale is False
