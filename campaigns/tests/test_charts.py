import numpy as np
import pytest

from campaigns import charts
from campaigns.simulation import CampaignAssumptions, SegmentStats, profit_by_discount, simulate_campaign
from retail_platform.formatting import money_short


@pytest.fixture
def assumptions() -> CampaignAssumptions:
    return CampaignAssumptions(
        discount=0.10, response_rate=0.20, baseline_rate=0.05, contact_cost=0.5, margin=0.4, simulations=300, seed=7
    )


def test_histogram_counts_every_simulated_run_and_marks_the_percentiles(assumptions) -> None:
    stats = SegmentStats(customers=400, order_values=np.array([50.0, 80.0, 120.0, 300.0]))
    result = simulate_campaign(stats, assumptions)

    fig = charts.simulated_profit_histogram(result)

    bars, p5, median, p95 = fig.data
    assert bars.type == "bar"
    assert len(bars.x) == charts.HISTOGRAM_BINS
    assert sum(bars.y) == 300  # every run in one bin
    counts, edges = np.histogram(result.simulated_profits, bins=charts.HISTOGRAM_BINS)
    assert list(bars.y) == counts.tolist()
    np.testing.assert_allclose(bars.x, (edges[:-1] + edges[1:]) / 2)
    low, high, runs = bars.customdata[int(np.argmax(counts))]
    assert low.startswith(("₺", "\u2212")) and high.startswith(("₺", "\u2212")) and runs == f"{counts.max():,}"
    # The percentiles are vertical lines named, with their amounts, in the legend (labels over the
    # plot overlapped when the percentiles were close).
    assert [line.x[0] for line in (p5, median, p95)] == pytest.approx(
        [result.profit_p5, result.profit_p50, result.profit_p95]
    )
    assert p5.name.startswith("5th percentile: ") and median.name.startswith("Median: ")
    assert p95.name == f"95th percentile: {money_short(result.profit_p95)}"
    assert not fig.layout.annotations
    assert [shape.x0 for shape in fig.layout.shapes] == [0]  # break-even


def test_discount_curve_marks_the_best_discount_and_the_simulated_one(assumptions) -> None:
    customers, aov = 1000, 100.0
    curve = profit_by_discount(customers=customers, avg_order_value=aov, assumptions=assumptions)

    fig = charts.profit_by_discount_chart(curve, chosen_discount=0.10)

    line, best, chosen = fig.data
    assert len(line.x) == 51 and line.x[0] == 0 and line.x[-1] == pytest.approx(0.5)
    # The best point is the maximum of the plotted line.
    best_index = int(np.argmax(line.y))
    assert best.x[0] == pytest.approx(line.x[best_index])
    assert best.y[0] == pytest.approx(max(line.y))
    assert "Best discount" in best.name
    # The simulated discount sits on the line, at the closed-form profit for 10 %.
    expected = customers * 0.20 * aov * (0.4 - 0.10) - customers * 0.05 * aov * 0.4 - customers * 0.5
    assert chosen.x[0] == pytest.approx(0.10)
    assert chosen.y[0] == pytest.approx(expected)
    assert list(fig.layout.xaxis.ticktext) == [
        "0\u00a0%",
        "10\u00a0%",
        "20\u00a0%",
        "30\u00a0%",
        "40\u00a0%",
        "50\u00a0%",
    ]
