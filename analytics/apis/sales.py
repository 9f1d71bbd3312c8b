"""The sales analytics endpoints: read-only aggregates, for any signed-in viewer (the DRF default).

Each endpoint parses the shared filters with `sales_filter_from_params` (400 with the reason for a
bad value), calls one reader of the read model (`analytics.warehouse`) and serializes its
dataclasses; the answer and its JSON are cached by the read model per data version and filter.
Error responses (the API's one error shape) are added to the schema by the project's AutoSchema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.comparisons import CompareKind
from analytics.warehouse import (
    SalesFilter,
    answer_get,
    compare_kind_from_params,
    compared_get,
    comparison_json,
    customer_type_list,
    discount_impact_get,
    overview_get,
    payment_method_list,
    question_key,
    sales_filter_from_params,
    seasonality_get,
    store_performance_list,
)
from retail_platform.api.renderers import JSONRenderer, RenderedJSON

FILTER_PARAMETERS = [
    OpenApiParameter(
        "date_from",
        OpenApiTypes.DATE,
        description="First day included (YYYY-MM-DD). A malformed date, or one after date_to, gets a 400.",
    ),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day included (YYYY-MM-DD)."),
    OpenApiParameter(
        "store",
        OpenApiTypes.STR,
        many=True,
        explode=True,
        description="Store name; repeat the parameter for several stores (any of them). "
        "An unknown name gets a 400 listing the valid ones.",
    ),
    OpenApiParameter(
        "category",
        OpenApiTypes.STR,
        many=True,
        explode=True,
        description="Category name; repeat for several. An unknown name gets a 400 listing the valid ones.",
    ),
    OpenApiParameter(
        "compare",
        OpenApiTypes.STR,
        enum=["previous_period", "previous_year"],
        description="Add `comparison`: the same answer for the same number of days just before the date range "
        "(previous_period) or the same dates a year earlier (previous_year), and the change of each figure.",
    ),
]

COMPARISON_HELP = (
    "Only with `compare`: {compare, current: {date_from, date_to}, base: {date_from, date_to, days, days_covered}, "
    "has_data (the comparison range holds data), partial (a range the data covers only in part: not like for "
    "like), answer (this answer for the comparison range), changes (this answer's shape; per figure {base, "
    "absolute, relative}: relative = absolute / |base|, null where the base is zero, every part null without "
    "data; rows matched by name, months and quarters a year back or by position)}. Without a date range the "
    "current range is the whole data."
)


def _comparison_field() -> serializers.JSONField:
    return serializers.JSONField(required=False, help_text=COMPARISON_HELP)


DEFINITIONS = (
    'Money is a decimal string rounded to cents ("1234.50"), summed over every line in scope, returns '
    "included (a return's amounts are negative); shares and rates are numbers (0.25 = 25%), null when "
    "their denominator is zero. A transaction is one invoice number on one day in one store for one "
    "customer, counted when it holds a purchase line (not a return) in scope; customers are the distinct "
    "customers with a transaction in scope. Units are quantities summed, returns subtracting."
)


def _money(help_text: str, *, allow_null: bool = False) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=18, decimal_places=2, coerce_to_string=True, allow_null=allow_null, help_text=help_text
    )


def _share(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


GROSS = "Sales before discounts (line amounts), returns subtracted."
DISCOUNT = "Discounts given, as carried by the imported file (0 when it has none)."
NET = "Gross sales minus discounts, returns subtracted."
TRANSACTIONS = "Transactions in scope (invoice x day x store x customer with a purchase line in scope)."
UNITS = "Quantities summed; returned units subtract."
CUSTOMERS = "Distinct customers with at least one transaction in scope."
AVG_BASKET = "Net sales per transaction; null without transactions."


class OverviewSerializer(serializers.Serializer):
    gross_sales = _money(GROSS)
    discount = _money(DISCOUNT)
    net_sales = _money(NET)
    transactions = serializers.IntegerField(help_text=TRANSACTIONS)
    units = serializers.IntegerField(help_text=UNITS)
    customers = serializers.IntegerField(help_text=CUSTOMERS)
    avg_basket = _money(AVG_BASKET, allow_null=True)
    first_date = serializers.DateField(allow_null=True, help_text="First day with a line in scope; null if none.")
    last_date = serializers.DateField(allow_null=True, help_text="Last day with a line in scope; null if none.")
    comparison = _comparison_field()


class StorePerformanceSerializer(serializers.Serializer):
    store = serializers.CharField(help_text="Store name.")
    gross_sales = _money(GROSS)
    discount = _money(DISCOUNT)
    net_sales = _money(NET)
    transactions = serializers.IntegerField(help_text=TRANSACTIONS)
    units = serializers.IntegerField(help_text=UNITS)
    customers = serializers.IntegerField(help_text=CUSTOMERS + " A customer can count in several stores.")
    avg_basket = _money(AVG_BASKET, allow_null=True)
    share_of_sales = _share("The store's net sales over the net sales of all stores in scope.")


class StorePerformanceListSerializer(serializers.Serializer):
    results = StorePerformanceSerializer(many=True, help_text="One row per store, by net sales, highest first.")
    comparison = _comparison_field()


COVERAGE_FIELDS_HELP = (
    "days_covered: days of the period the data covers (within the date filter); days_in_period: its "
    "calendar days; partial: true when the data covers it only in part (the first or last period of the "
    "data or of the filter), so a short period is never read as a slump."
)


class _PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The first calendar day of the period.")
    gross_sales = _money(GROSS)
    net_sales = _money(NET)
    transactions = serializers.IntegerField(help_text=TRANSACTIONS)
    days_covered = serializers.IntegerField(help_text="Days of the period the data covers.")
    days_in_period = serializers.IntegerField(help_text="Calendar days of the period.")
    # DRF's metaclass moves declared fields off the class, so this does not touch Serializer.partial.
    partial = serializers.BooleanField(help_text="The data covers the period only in part.")  # type: ignore[assignment]


class MonthSerializer(_PeriodSerializer):
    month = serializers.CharField(source="label", help_text="The month, YYYY-MM.")


class QuarterSerializer(_PeriodSerializer):
    quarter = serializers.CharField(source="label", help_text="The quarter, YYYY-Qn (Q1 = January to March).")


class MonthOfYearSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12, help_text="Calendar month, 1 (January) to 12.")
    avg_net_sales = _money(
        "Net sales of this calendar month averaged over the years in which the data covers the month "
        "completely; null when no year does.",
        allow_null=True,
    )
    years = serializers.IntegerField(help_text="How many complete years were averaged.")
    partial_years_left_out = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Years whose month the data covers only in part: left out of the average, not scaled.",
    )


class SeasonalitySerializer(serializers.Serializer):
    monthly = MonthSerializer(
        many=True,
        help_text="Every month the data covers, in date order (a covered month without sales is a zero; "
        "months between two imports' spans are not covered and not listed). " + COVERAGE_FIELDS_HELP,
    )
    quarterly = QuarterSerializer(many=True, help_text="Every quarter the data covers, in date order.")
    month_of_year = MonthOfYearSerializer(many=True, help_text="One row per calendar month the data covers, 1 to 12.")
    month_of_year_method = serializers.CharField(help_text="How the month-of-year averages are made.")
    comparison = _comparison_field()


class CategoryDiscountSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="Category name.")
    gross_sales = _money(GROSS)
    discount = _money(DISCOUNT)
    net_sales = _money(NET)
    discount_rate = _share("Discount over gross sales.")
    units = serializers.IntegerField(help_text=UNITS)
    cost = _money("Cost of the lines; null unless every line of the category in scope carries a cost.", allow_null=True)
    margin = _money("Net sales minus cost; null when cost is null.", allow_null=True)
    margin_rate = _share("Margin over net sales; null when margin is null.")


class DiscountImpactSerializer(serializers.Serializer):
    has_discounts = serializers.BooleanField(
        help_text="Whether any line of the data (whatever the filters) has a discount. When false, every "
        "discount is 0: discounts are never estimated."
    )
    has_cost = serializers.BooleanField(help_text="Whether any line of the data (whatever the filters) has a cost.")
    categories = CategoryDiscountSerializer(many=True, help_text="One row per category, by net sales, highest first.")
    comparison = _comparison_field()


class CustomerTypeSerializer(serializers.Serializer):
    customer_type = serializers.ChoiceField(
        choices=["repeat", "one_time"],
        help_text="repeat: two or more transactions in scope; one_time: exactly one.",
    )
    customers = serializers.IntegerField(help_text="Customers of this type.")
    transactions = serializers.IntegerField(help_text="Their transactions in scope.")
    net_sales = _money("Net amount of their lines in scope, their returns included.")
    share_of_sales = _share(
        "Their net sales over all net sales in scope. The two shares add up to less than 1 when customers "
        "whose only lines in scope are returns exist (they belong to neither type)."
    )


class CustomerTypeListSerializer(serializers.Serializer):
    results = CustomerTypeSerializer(many=True, help_text="Two rows: repeat, then one_time.")
    comparison = _comparison_field()


class PaymentMethodSerializer(serializers.Serializer):
    payment_method = serializers.CharField(help_text="Payment method name.")
    gross_sales = _money(GROSS)
    discount = _money(DISCOUNT)
    net_sales = _money(NET)
    transactions = serializers.IntegerField(
        help_text="Transactions with a purchase line in scope paid this way; a transaction paid two ways counts "
        "for both."
    )
    units = serializers.IntegerField(help_text=UNITS)
    share_of_sales = _share("The method's net sales over all net sales in scope.")


class PaymentMethodListSerializer(serializers.Serializer):
    results = PaymentMethodSerializer(many=True, help_text="One row per payment method, by net sales, highest first.")
    comparison = _comparison_field()


def _schema(summary: str, description: str, serializer: type[serializers.Serializer]) -> Any:
    return extend_schema(
        summary=summary,
        description=f"{description}\n\n{DEFINITIONS}",
        parameters=FILTER_PARAMETERS,
        responses={200: serializer},
        tags=["analytics"],
    )


def _sales_api(
    *,
    name: str,
    selector: Callable[..., Any],
    serializer: type[serializers.Serializer],
    summary: str,
    description: str,
    listed: bool = False,
) -> type[APIView]:
    """An endpoint answering one selector: the filters parsed (400 with the reason), the selector read
    and its JSON rendered, both cached by the read model per data version and filter; a cached answer
    costs one query (the data version) and is sent as it is (`retail_platform.api.renderers`).
    `listed`: the selector returns rows, sent as {"results": [...]}."""

    def data(answer: Any) -> Any:
        return serializer({"results": answer} if listed else answer).data

    def render(sales_filter: SalesFilter, compare: CompareKind | None) -> bytes:
        answer = selector(sales_filter=sales_filter)
        body = dict(data(answer))
        if compare is not None:
            compared = compared_get(selector, sales_filter=sales_filter, compare=compare, current=answer)
            if compared is not None:
                body["comparison"] = comparison_json(compared, base_json=data(compared.base))
        return JSONRenderer().render(body)

    class SalesApi(APIView):
        @_schema(summary, description, serializer)
        def get(self, request: Request) -> Response:
            sales_filter = sales_filter_from_params(request.query_params)
            compare = compare_kind_from_params(request.query_params)
            body = answer_get(
                f"api-json:{name}",
                question_key(sales_filter.cache_key, compare),
                lambda _version: render(sales_filter, compare),
            )
            return Response(RenderedJSON(body))

    SalesApi.__name__ = SalesApi.__qualname__ = "".join(part.title() for part in name.split("_")) + "Api"
    return SalesApi


OverviewApi = _sales_api(
    name="overview",
    selector=overview_get,
    serializer=OverviewSerializer,
    summary="Sales overview",
    description="Gross sales, discount, net sales, transactions, units, customers, average basket and the dates "
    "covered.",
)
StorePerformanceApi = _sales_api(
    name="store_performance",
    selector=store_performance_list,
    serializer=StorePerformanceListSerializer,
    summary="Store performance",
    description="One row per store, sorted by net sales.",
    listed=True,
)
SeasonalityApi = _sales_api(
    name="seasonality",
    selector=seasonality_get,
    serializer=SeasonalitySerializer,
    summary="Seasonality",
    description="Sales per month (YYYY-MM) and per quarter (YYYY-Qn), and average net sales per calendar month.",
)
DiscountImpactApi = _sales_api(
    name="discount_impact",
    selector=discount_impact_get,
    serializer=DiscountImpactSerializer,
    summary="Discount impact per category",
    description="Gross sales, discount, net sales, discount rate and units per category, with cost and margin "
    "when the data carries cost.",
)
CustomerTypeApi = _sales_api(
    name="customer_types",
    selector=customer_type_list,
    serializer=CustomerTypeListSerializer,
    summary="Repeat versus one-time customers",
    description="Customers, transactions, net sales and share of sales of repeat customers (two or more "
    "transactions in scope) and one-time customers (exactly one).",
    listed=True,
)
PaymentMethodApi = _sales_api(
    name="payment_methods",
    selector=payment_method_list,
    serializer=PaymentMethodListSerializer,
    summary="Sales per payment method",
    description="Gross sales, discount, net sales, transactions, units and share of sales per payment method.",
    listed=True,
)
