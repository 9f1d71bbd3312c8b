"""Customer value: each customer's predicted purchases, P(alive) and lifetime value (analysts), and the
model with its holdout check (viewers: aggregates only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail_platform.api.pagination import PageNumberPagination
from retail_platform.api.permissions import IsAnalyst, IsViewer
from retail_platform.api.schema import ApiErrorSerializer
from retail_platform.errors import ApplicationError
from segmentation import selectors
from segmentation.selectors.customer_value import VALUE_ORDERINGS

DEFINITIONS = (
    "frequency: repeat purchases, the customer's distinct purchase days after the first (same-day purchases "
    "count once); recency_days: days from the first purchase to the last one (the models' t_x, not the RFM "
    "recency); tenure_days: days from the first purchase to the run's as-of date (T); p_alive: the chosen "
    "model's probability that the customer is still active; expected_purchases: expected purchases (purchase "
    "days) over the horizon; expected_order_value: the Gamma-Gamma expected net value of a purchase; clv: "
    "margin x expected order value x the expected purchases over the horizon discounted at the annual rate; "
    "value_at_risk: the customer's net amount so far x (1 - p_alive)."
)


class CustomerValueSerializer(serializers.Serializer):
    customer_id = serializers.CharField(help_text="The customer's id in the retailer's files.")
    segment = serializers.CharField(help_text="K-Means segment in the run.")
    rfm_segment = serializers.CharField(help_text="RFM segment in the run.")
    frequency = serializers.IntegerField(help_text="Repeat purchases (purchase days after the first).")
    recency_days = serializers.IntegerField(help_text="Days from the first purchase to the last (t_x).")
    tenure_days = serializers.IntegerField(help_text="Days from the first purchase to the as-of date (T).")
    p_alive = serializers.FloatField(help_text="Probability that the customer is still active (4 decimals).")
    expected_purchases = serializers.FloatField(help_text="Expected purchases over the horizon (3 decimals).")
    expected_order_value = serializers.FloatField(help_text="Expected net value of a purchase (cents).")
    clv = serializers.FloatField(help_text="Discounted expected margin over the horizon (cents).")
    value_at_risk = serializers.FloatField(help_text="Net amount so far x (1 - p_alive) (cents).")


def _number(request: Request, name: str, kind: type[int] | type[float]) -> Any:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ApplicationError(f"{name} must be a number, not {raw!r}.", {name: raw}) from None


class CustomerValueApi(APIView):
    """Customer-level: analysts only."""

    permission_classes = [IsAnalyst]

    @extend_schema(
        summary="Customers' predicted purchases, P(alive) and lifetime value",
        description="The active run's customers with a purchase, paginated (`page`, `page_size` up to 1,000). "
        + DEFINITIONS
        + " horizon_days and discount_rate default to the run's (365 days, 10 %); other values are computed "
        "from the saved models. 404 with details.reason no_customer_value when the data could not be modelled "
        "(GET /api/clv/model says why). Needs the analyst role.",
        parameters=[
            OpenApiParameter("horizon_days", OpenApiTypes.INT, description="Days ahead (1 to 3650)."),
            OpenApiParameter("discount_rate", OpenApiTypes.FLOAT, description="Annual discount rate, 0 to 1."),
            OpenApiParameter("segment", OpenApiTypes.STR, description="A K-Means or RFM segment name."),
            OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(VALUE_ORDERINGS), description="Default -clv."),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: CustomerValueSerializer(many=True), 400: ApiErrorSerializer, 404: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        segment = (request.query_params.get("segment") or "").strip() or None
        if segment is not None:
            valid = selectors.segment_names_list().all
            if segment not in valid:
                raise ApplicationError(
                    f"segment must be one of: {', '.join(valid)}.", {"segment": segment, "valid_segment_values": valid}
                )
        rows = selectors.customer_value_list(
            horizon_days=_number(request, "horizon_days", int),
            discount_rate=_number(request, "discount_rate", float),
            segment=segment,
            ordering=(request.query_params.get("ordering") or "-clv").strip(),
        )
        paginator = PageNumberPagination()
        page: list[dict[str, Any]] | None = paginator.paginate_queryset(rows, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(CustomerValueSerializer(page, many=True).data)


class ClvModelApi(APIView):
    permission_classes = [IsViewer]

    @extend_schema(
        summary="The customer-value model and its check on held-out data",
        description="The active run's customer-value fit: status (fitted, or not_fitted with the reason), the "
        "model chosen by holdout error, BG/NBD and Pareto/NBD (r, alpha in weeks, a/b or s/beta, log-likelihood, "
        "standard errors) and Gamma-Gamma (p, q, gamma) as fitted on the calibration period, the calibration "
        "and holdout periods, the holdout report (actual against predicted repeat purchases in total, by "
        "calibration repeat purchases 0..7+, week by week cumulative; mean absolute error per customer), the "
        "refit on all data, and per segment the totals and means of expected purchases and CLV with a 90 % "
        "interval (Laplace approximation of the parameters' uncertainty).",
        responses={200: OpenApiTypes.OBJECT, 404: ApiErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        info = selectors.customer_value_model_get()
        return Response(
            {
                "run_id": info.run_id,
                "status": info.status,
                "message": info.message,
                "chosen": info.chosen,
                "calibration_end": info.calibration_end,
                "holdout_end": info.holdout_end,
                "horizon_days": info.horizon_days,
                "annual_discount_rate": info.annual_discount_rate,
                "margin": info.margin,
                "margin_source": info.margin_source,
                **info.report,
                "segments": info.segments,
            }
        )
