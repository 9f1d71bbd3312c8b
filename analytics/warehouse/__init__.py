"""The read model: every fact the product shows is read here, from tables kept current by each import.

What it holds (tables in analytics.models):

- `SalesDaily`: money, units and line counts per store x day x category x payment method;
- `SalesTransaction`: one row per transaction (customer x day x store x invoice) with its parts per
  category x payment method: distinct transactions and customers under any filter;
- `CategoryTransactionsDaily`: transactions per category x store x day (and x payment method);
- `CustomerSummary`: one row per customer: first and last purchase, counts, net, cost, net per
  category, and every transaction as a packed record: what segmentation and customer value read;
- `CohortCell`: customers by the period and store of their first purchase, per week, month and
  quarter of their lines: what cohorts read (`cohort_cells.py` moves it by the touched customers);
- the data version (`version.py`) and the one answer cache keyed by it (`answers.py`).

How data flows: an import loads its lines, then calls `warehouse_batch_add(batch_id=…)` in the same
transaction, which adds that batch's lines to each table at the cost of the batch (see
`maintenance.py`) and bumps the data version; deleting an import calls `warehouse_batch_remove`
before its lines go. When the import commits, every answer includes it. `warehouse_rebuild()` (the
`warehouse_rebuild` command) builds everything again from the lines, for repair; a test checks that
increments and a rebuild give identical tables.

Who reads: the sales readers below (filters in, frozen dataclasses out, cached per data version and
filter), and per-customer arrays (`customers.py`, and money per customer and category in
`customer_amounts.py`) for the segmentation refit, customer value and cohorts. No SQL outside this
package names the lines or the read model's tables; other apps import this facade only.
"""

from analytics.warehouse.answers import ANY_DATA_VERSION, answer_get, question_key
from analytics.warehouse.cohorts import cohorts_get
from analytics.warehouse.comparison import Compared, compare_kind_from_params, compared_get, comparison_json
from analytics.warehouse.coverage import data_coverage_get
from analytics.warehouse.customer_amounts import (
    CustomerCategoryNets,
    CustomerCosts,
    customer_category_nets_get,
    customer_costs_before,
)
from analytics.warehouse.customer_types import ONE_TIME, REPEAT, CustomerTypeSales, customer_type_list
from analytics.warehouse.customers import (
    EPOCH,
    NO_PURCHASE,
    CustomerHistories,
    customer_histories_get,
    day_date,
    day_number,
)
from analytics.warehouse.discounts import CategoryDiscountImpact, DiscountImpact, discount_impact_get
from analytics.warehouse.filters import Dimensions, SalesFilter, dimensions_get, sales_filter_from_params
from analytics.warehouse.maintenance import (
    WarehouseChange,
    answers_warm,
    warehouse_batch_add,
    warehouse_batch_remove,
    warehouse_rebuild,
)
from analytics.warehouse.revenue_change import revenue_change_get
from analytics.warehouse.sales import (
    Overview,
    PaymentMethodSales,
    StorePerformance,
    overview_get,
    payment_method_list,
    store_performance_list,
)
from analytics.warehouse.scope import ratio
from analytics.warehouse.seasonality import (
    MonthOfYearSales,
    MonthSales,
    PeriodSales,
    QuarterSales,
    Seasonality,
    seasonality_get,
)
from analytics.warehouse.version import data_version_get

__all__ = [
    "ANY_DATA_VERSION",
    "EPOCH",
    "NO_PURCHASE",
    "ONE_TIME",
    "REPEAT",
    "CategoryDiscountImpact",
    "Compared",
    "CustomerCategoryNets",
    "CustomerCosts",
    "CustomerHistories",
    "CustomerTypeSales",
    "Dimensions",
    "DiscountImpact",
    "MonthOfYearSales",
    "MonthSales",
    "Overview",
    "PaymentMethodSales",
    "PeriodSales",
    "QuarterSales",
    "SalesFilter",
    "Seasonality",
    "StorePerformance",
    "WarehouseChange",
    "answer_get",
    "answers_warm",
    "cohorts_get",
    "compare_kind_from_params",
    "compared_get",
    "comparison_json",
    "customer_category_nets_get",
    "customer_costs_before",
    "customer_histories_get",
    "customer_type_list",
    "data_coverage_get",
    "data_version_get",
    "day_date",
    "day_number",
    "dimensions_get",
    "discount_impact_get",
    "overview_get",
    "payment_method_list",
    "question_key",
    "ratio",
    "revenue_change_get",
    "sales_filter_from_params",
    "seasonality_get",
    "store_performance_list",
    "warehouse_batch_add",
    "warehouse_batch_remove",
    "warehouse_rebuild",
]
