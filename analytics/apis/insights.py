"""Cohorts and why revenue changed: answers read from the read model (customer summaries and rollups),
cached per data version and question, for any signed-in viewer (aggregates only)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.apis.sales import FILTER_PARAMETERS
from analytics.cohorts import COHORT_METRICS, COHORT_PERIODS, CohortTable
from analytics.periods import DateRange
from analytics.revenue_change import RevenueChange
from analytics.warehouse import (
    SalesFilter,
    answer_get,
    cohorts_get,
    question_key,
    revenue_change_get,
    sales_filter_from_params,
)
from retail_platform.api.renderers import JSONRenderer, RenderedJSON
from retail_platform.api.schema import ApiErrorSerializer
from retail_platform.errors import ApplicationError

COHORT_DEFINITIONS = (
    "Customers are grouped by the period (month, ISO week or quarter) of their first purchase; customers whose "
    "only lines are returns belong to no cohort. For each cohort: its size and, per period k after it (k = 0 is "
    "its own period), retention: the share who bought in period k; unbounded: the share who bought in k or "
    "later; revenue: net sales per cohort member in k (returns subtract); cumulative_revenue: the same summed "
    "over 0..k. A cell after the end of the data, or in a period the data does not cover, is null (never 0); "
    "partial_periods lists the k whose period the data covers only in part (the last one when the data ends "
    "inside it), whose values are understated, not a drop. store / category: the store and the categories of "
    "the customers' first purchase; date_from / date_to: the cohorts' first-purchase periods."
)


def _choice(request: Request, name: str, valid: tuple[str, ...], default: str) -> str:
    value = (request.query_params.get(name) or default).strip()
    if value not in valid:
        raise ApplicationError(
            f"{name} must be one of: {', '.join(valid)}, not {value!r}.", {name: value, f"valid_{name}_values": valid}
        )
    return value


def _number(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def cohorts_json(table: CohortTable | None, *, period: str, metric: str) -> dict[str, Any]:
    if table is None:
        return {"period": period, "metric": metric, "first_day": None, "last_day": None, "cohorts": []}
    return {
        "period": period,
        "metric": metric,
        "first_day": table.first_day.isoformat(),
        "last_day": table.last_day.isoformat(),
        "customers_without_purchase": table.customers_without_purchase,
        "cohorts": [
            {
                "cohort": cohort.cohort,
                "start": cohort.start.isoformat(),
                "customers": cohort.customers,
                "values": [_number(value) for value in cohort.values(metric)],  # type: ignore[arg-type]
                "partial_periods": list(cohort.partial_periods),
            }
            for cohort in table.cohorts
            if cohort.customers
        ],
    }


class CohortsApi(APIView):
    @extend_schema(
        summary="Cohort retention",
        description=COHORT_DEFINITIONS,
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, enum=list(COHORT_PERIODS), description="Default month."),
            OpenApiParameter("metric", OpenApiTypes.STR, enum=list(COHORT_METRICS), description="Default retention."),
            *[parameter for parameter in FILTER_PARAMETERS if parameter.name != "compare"],
        ],
        responses={200: OpenApiTypes.OBJECT, 400: ApiErrorSerializer},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        period = _choice(request, "period", COHORT_PERIODS, "month")
        metric = _choice(request, "metric", COHORT_METRICS, "retention")
        sales_filter = sales_filter_from_params(request.query_params)

        def render(_version: int) -> bytes:
            table = cohorts_get(period=period, sales_filter=sales_filter)  # type: ignore[arg-type]
            return JSONRenderer().render(cohorts_json(table, period=period, metric=metric))

        body = answer_get("api-json:cohorts", question_key(period, metric, sales_filter.cache_key), render)
        return Response(RenderedJSON(body))


def _range(request: Request, prefix: str) -> DateRange:
    days = []
    for end in ("from", "to"):
        name = f"{prefix}_{end}"
        raw = (request.query_params.get(name) or "").strip()
        if not raw:
            raise ApplicationError(f"{name} is required (YYYY-MM-DD).", {name: raw})
        try:
            days.append(datetime.date.fromisoformat(raw))
        except ValueError:
            raise ApplicationError(f"{name} must be a date written YYYY-MM-DD, not {raw!r}.", {name: raw}) from None
    if days[0] > days[1]:
        raise ApplicationError(f"{prefix}_from is after {prefix}_to.", {f"{prefix}_from": str(days[0])})
    return DateRange(days[0], days[1])


def revenue_change_json(change: RevenueChange) -> dict[str, Any]:
    split = change.factors
    return {
        "net_sales_a": _number(split.net_a),
        "net_sales_b": _number(split.net_b),
        "change": _number(split.change),
        "method": split.method,
        "reason": split.reason,
        "unexplained": _number(split.unexplained),
        "factors": [
            {
                "factor": factor.name,
                "value_a": _number(factor.value_a),
                "value_b": _number(factor.value_b),
                "contribution": _number(factor.contribution),
            }
            for factor in split.factors
        ],
        "waterfall": [
            {"label": step.label, "kind": step.kind, "amount": _number(step.amount)} for step in split.steps()
        ],
        **{
            name: {
                "change": _number(part.change),
                "in_both": _number(part.in_both),
                "only_a": _number(part.only_a),
                "only_b": _number(part.only_b),
                "items": [
                    {
                        "name": item.name,
                        "net_sales_a": _number(item.net_a),
                        "net_sales_b": _number(item.net_b),
                        "change": _number(item.change),
                        "presence": item.presence,
                    }
                    for item in part.items
                ],
            }
            for name, part in (("stores", change.stores), ("categories", change.categories))
        },
    }


class RevenueChangeApi(APIView):
    @extend_schema(
        summary="Why revenue changed from period A to period B",
        description=(
            "The change in net sales from A (a_from..a_to) to B (b_from..b_to), dates inclusive, split into exact "
            "additive contributions of customers x transactions per customer x units per transaction x net price "
            "per unit by the log-mean Divisia index (LMDI-I): the parts add up to the change to the cent. method: "
            "lmdi; empty_period (one period has no sales: the whole change is customers'); not_split (net or units "
            "at or below zero in a period: the change is left unexplained, with the reason). By store and by "
            "category: each one's change in net sales, grouped into those with sales in both periods, only in A "
            "(closed) and only in B (opened). The usual store and category filters apply to both periods."
        ),
        parameters=[
            *[
                OpenApiParameter(name, OpenApiTypes.DATE, required=True)
                for name in ("a_from", "a_to", "b_from", "b_to")
            ],
            *[parameter for parameter in FILTER_PARAMETERS if parameter.name in ("store", "category")],
        ],
        responses={200: OpenApiTypes.OBJECT, 400: ApiErrorSerializer},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        a, b = _range(request, "a"), _range(request, "b")
        scope = sales_filter_from_params(request.query_params)
        sales_filter = SalesFilter(stores=scope.stores, categories=scope.categories)

        def render(_version: int) -> bytes:
            return JSONRenderer().render(revenue_change_json(revenue_change_get(a=a, b=b, sales_filter=sales_filter)))

        body = answer_get("api-json:revenue_change", question_key(a, b, sales_filter.cache_key), render)
        return Response(RenderedJSON(body))
