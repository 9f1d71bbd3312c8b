"""Figures for the analytics pages, built from the read model's answers: sales over time, stores,
discounts and payment methods (`sales.py`), cohorts and revenue change (`insights.py`)."""

from analytics.charts.insights import (
    cohort_curves_chart,
    cohort_heatmap_chart,
    revenue_waterfall_chart,
    store_contributions_chart,
)
from analytics.charts.sales import (
    COMPARISON_COLOR,
    DISCOUNT_COLOR,
    GROSS_COLOR,
    NET_COLOR,
    PARTIAL_NOTE,
    PARTIAL_OPACITY,
    PARTIAL_PATTERN,
    discount_impact_chart,
    month_of_year_chart,
    monthly_sales_chart,
    payment_methods_chart,
    quarterly_sales_chart,
    sales_over_time_chart,
    store_performance_chart,
)

__all__ = [
    "COMPARISON_COLOR",
    "DISCOUNT_COLOR",
    "GROSS_COLOR",
    "NET_COLOR",
    "PARTIAL_NOTE",
    "PARTIAL_OPACITY",
    "PARTIAL_PATTERN",
    "cohort_curves_chart",
    "cohort_heatmap_chart",
    "discount_impact_chart",
    "month_of_year_chart",
    "monthly_sales_chart",
    "payment_methods_chart",
    "quarterly_sales_chart",
    "revenue_waterfall_chart",
    "sales_over_time_chart",
    "store_contributions_chart",
    "store_performance_chart",
]
