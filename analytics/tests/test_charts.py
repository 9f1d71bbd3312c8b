import datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from analytics import charts
from analytics.warehouse import (
    CategoryDiscountImpact,
    MonthOfYearSales,
    MonthSales,
    PaymentMethodSales,
    QuarterSales,
    StorePerformance,
)


def _store(name: str, net: str, share: float, transactions: int) -> StorePerformance:
    return StorePerformance(
        store=name,
        gross_sales=Decimal(net) + 10,
        discount=Decimal(10),
        net_sales=Decimal(net),
        transactions=transactions,
        units=transactions,
        customers=transactions,
        avg_basket=Decimal(net) / transactions,
        share_of_sales=share,
    )


@override_settings(CURRENCY="TRY")
def test_store_chart_puts_the_best_store_on_top_with_share_and_transactions_in_the_hover() -> None:
    stores = [_store("Kanyon", "700.50", 0.7, 7), _store("Metrocity", "300.00", 0.3, 3)]

    fig = charts.store_performance_chart(stores)

    (bar,) = fig.data
    assert bar.orientation == "h"
    # Plotly draws the first category at the bottom, so the list is reversed.
    assert list(bar.y) == ["Metrocity", "Kanyon"]
    assert list(bar.x) == [300.0, 700.5]
    assert [list(row) for row in bar.customdata] == [["₺300.00", "30.0\u00a0%", "3"], ["₺700.50", "70.0\u00a0%", "7"]]
    # The axis is labelled by the same formatter as the tables: round steps, short amounts.
    assert list(fig.layout.xaxis.tickvals) == [0, 200, 400, 600, 800]
    assert list(fig.layout.xaxis.ticktext) == ["₺0", "₺200", "₺400", "₺600", "₺800"]


@override_settings(CURRENCY="USD")
def test_money_in_charts_follows_the_currency_setting() -> None:
    fig = charts.store_performance_chart([_store("Kanyon", "-1500.00", -0.5, 1)])
    (bar,) = fig.data
    assert bar.customdata[0][0] == "\u2212\u2060$1,500.00"
    assert "\u2212\u2060$1.5K" in list(fig.layout.xaxis.ticktext)
    assert "₺" not in str(fig.to_plotly_json())


def _month(label: str, net: str, *, gross: str | None = None, transactions: int = 1, days: int = 31, covered: int = 31):
    year, month = (int(part) for part in label.split("-"))
    return MonthSales(
        label=label,
        start=datetime.date(year, month, 1),
        gross_sales=Decimal(gross or net),
        net_sales=Decimal(net),
        transactions=transactions,
        days_covered=covered,
        days_in_period=days,
        partial=covered < days,
    )


def test_sales_over_time_draws_gross_and_net_per_month_on_a_date_axis() -> None:
    months = [
        _month("2023-01", "100.00", gross="120.00", transactions=4),
        _month("2023-02", "55.50", gross="60.00", days=28, covered=28),
    ]

    fig = charts.sales_over_time_chart(months)

    gross, net = fig.data
    assert (gross.name, net.name) == ("Gross sales", "Net sales")
    assert list(net.x) == ["2023-01-01", "2023-02-01"]
    assert list(gross.y) == [120.0, 60.0]
    assert list(net.y) == [100.0, 55.5]
    assert fig.layout.xaxis.type == "date"
    assert not fig.layout.annotations  # nothing partial: no note


def test_a_partial_last_month_is_a_dashed_segment_and_noted() -> None:
    months = [
        _month("2023-01", "100"),
        _month("2023-02", "90", days=28, covered=28),
        _month("2023-03", "20", covered=8),
    ]

    fig = charts.sales_over_time_chart(months)

    _solid_gross, _dashed_gross, solid_net, dashed_net = fig.data
    assert list(solid_net.x) == ["2023-01-01", "2023-02-01"]  # the partial month is not on the solid line
    assert list(dashed_net.x) == ["2023-02-01", "2023-03-01", None]
    assert list(dashed_net.y) == [90.0, 20.0, None]
    assert dashed_net.line.dash == "dash" and dashed_net.showlegend is False
    assert "only part of that period" in fig.layout.annotations[0].text


def test_years_without_coverage_break_the_line() -> None:
    months = [_month("1998-06", "10"), _month("2021-01", "100"), _month("2021-02", "90", days=28, covered=28)]
    (_gross, net) = charts.sales_over_time_chart(months).data
    assert list(net.x) == ["1998-06-01", None, "2021-01-01", "2021-02-01"]
    assert net.connectgaps is False


def test_monthly_chart_hatches_a_partial_month_and_carries_the_transactions() -> None:
    months = [_month("2022-12", "4", transactions=9), _month("2023-01", "2", transactions=1, covered=8)]
    (bar,) = charts.monthly_sales_chart(months).data
    assert list(bar.x) == ["2022-12-01", "2023-01-01"]
    assert list(bar.y) == [4.0, 2.0]
    assert [row[2] for row in bar.customdata] == ["9", "1"]
    assert [row[3] for row in bar.customdata] == ["₺4.00", "₺2.00"]
    assert list(bar.marker.pattern.shape) == ["", "/"]
    assert list(bar.marker.opacity) == [1, charts.PARTIAL_OPACITY]
    assert bar.customdata[1][1] == "8 of 31 days covered (partial)"


def test_quarterly_chart_groups_gross_and_net_per_quarter_on_a_date_axis() -> None:
    def quarter(label: str, start: datetime.date, gross: int, net: int) -> QuarterSales:
        return QuarterSales(
            label=label,
            start=start,
            gross_sales=Decimal(gross),
            net_sales=Decimal(net),
            transactions=1,
            days_covered=90,
            days_in_period=92,
            partial=True,
        )

    quarters = [
        quarter("2022-Q4", datetime.date(2022, 10, 1), 10, 8),
        quarter("2023-Q1", datetime.date(2023, 1, 1), 20, 18),
    ]
    fig = charts.quarterly_sales_chart(quarters)
    gross, net = fig.data
    assert list(gross.x) == ["2022-10-01", "2023-01-01"]
    assert list(gross.y) == [10.0, 20.0] and list(net.y) == [8.0, 18.0]
    assert fig.layout.barmode == "group" and fig.layout.xaxis.type == "date"


def test_month_of_year_chart_names_the_months_in_calendar_order_and_what_was_left_out() -> None:
    months = [
        MonthOfYearSales(month=1, avg_net_sales=Decimal("10.00"), years=3, partial_years_left_out=()),
        MonthOfYearSales(month=3, avg_net_sales=None, years=0, partial_years_left_out=(2023,)),
        MonthOfYearSales(month=12, avg_net_sales=Decimal("30.00"), years=2, partial_years_left_out=()),
    ]
    fig = charts.month_of_year_chart(months)
    (bar,) = fig.data
    assert list(bar.x) == ["Jan", "Mar", "Dec"]
    assert list(bar.y) == [10.0, None, 30.0]
    assert [list(row) for row in bar.customdata] == [
        ["₺10.00", "3", "none"],
        ["—", "0", "2023"],
        ["₺30.00", "2", "none"],
    ]
    assert list(fig.layout.xaxis.categoryarray)[:3] == ["Jan", "Feb", "Mar"]


def test_discount_chart_shows_gross_net_and_discount_per_category() -> None:
    rows = [
        CategoryDiscountImpact(
            category="Shoes",
            gross_sales=Decimal("100.00"),
            discount=Decimal("20.00"),
            net_sales=Decimal("80.00"),
            discount_rate=0.2,
            units=2,
            cost=None,
            margin=None,
            margin_rate=None,
        )
    ]
    gross, net, discount = charts.discount_impact_chart(rows).data
    assert (gross.name, net.name, discount.name) == ("Gross sales", "Net sales", "Discount")
    assert (gross.y[0], net.y[0], discount.y[0]) == (100.0, 80.0, 20.0)
    assert gross.y[0] - net.y[0] == pytest.approx(discount.y[0])


def test_payment_chart_is_a_ring_of_net_sales() -> None:
    rows = [
        PaymentMethodSales("Cash", Decimal(60), Decimal(0), Decimal(60), 6, 6, 0.6),
        PaymentMethodSales("Credit Card", Decimal(40), Decimal(0), Decimal(40), 4, 4, 0.4),
    ]
    (pie,) = charts.payment_methods_chart(rows).data
    assert pie.type == "pie" and pie.hole == 0.5
    assert list(pie.labels) == ["Cash", "Credit Card"]
    assert list(pie.values) == [60.0, 40.0]
    assert [list(row) for row in pie.customdata] == [["₺60.00", "6"], ["₺40.00", "4"]]
    assert list(pie.text) == ["60.0\u00a0%", "40.0\u00a0%"]
