"""Campaign simulation, saved scenarios and the targeted-customer export. Analyst features."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors, services
from campaigns.models import Scenario
from retail_platform.api.pagination import PageNumberPagination
from retail_platform.api.permissions import IsAnalyst
from retail_platform.csv_export import csv_streaming_response
from retail_platform.errors import ApplicationError

MONEY = "Money: a decimal string rounded to cents."


class CampaignInputSerializer(serializers.Serializer):
    segment = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "Target segment(s): K-Means names or RFM segment names of the active segmentation run. "
            "Repeat the parameter or separate names with commas."
        ),
    )
    discount = serializers.FloatField(required=False, help_text="Discount d, 0 <= d < 1 (0.15 = 15%). Default 0.10.")
    response_rate = serializers.FloatField(
        required=False, help_text="Expected response rate r with the offer, 0..1. Default: baseline + 0.05."
    )
    baseline_rate = serializers.FloatField(
        required=False,
        help_text="Share b who would buy in the horizon anyway, 0..1. Default: the segment's own history.",
    )
    contact_cost = serializers.FloatField(required=False, help_text="Cost per contacted customer, >= 0. Default 0.")
    fixed_cost = serializers.FloatField(required=False, help_text="Fixed campaign cost, >= 0. Default 0.")
    margin = serializers.FloatField(
        required=False, help_text="Gross margin m, 0..1. Default: from cost data when present, else 0.40."
    )
    horizon_days = serializers.IntegerField(required=False, help_text="Campaign horizon in days. Default 30.")
    simulations = serializers.IntegerField(required=False, help_text="Monte Carlo runs, 1..20000. Default 2000.")
    seed = serializers.IntegerField(required=False, help_text="Random seed of the Monte Carlo. Default 0.")


class AssumptionSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="The value used (money as a decimal string).")
    # A field named like Field.source: the serializer's metaclass takes it out of the class attributes.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="Where the value came from: your input, a default, or history."
    )


class CampaignSimulationSerializer(serializers.Serializer):
    segment = serializers.ListField(child=serializers.CharField(), help_text="The targeted segments.")
    customers_targeted = serializers.IntegerField(help_text="N: distinct customers in the chosen segments.")
    avg_order_value = serializers.CharField(help_text="A: mean net value of the segment's purchases. " + MONEY)
    expected_orders = serializers.FloatField(help_text="N·r: orders expected with the offer.")
    incremental_revenue = serializers.CharField(
        help_text="N·r·A·(1-d) - N·b·A: net sales with the offer minus the sales the segment would bring anyway. "
        + MONEY
    )
    discount_cost = serializers.CharField(help_text="N·r·A·d: the discount given. " + MONEY)
    total_cost = serializers.CharField(help_text="N·contact + fixed + discount cost. " + MONEY)
    incremental_profit = serializers.CharField(
        help_text="N·r·A·(m-d) - N·b·A·m - N·contact - fixed (closed form). " + MONEY
    )
    roi = serializers.FloatField(
        allow_null=True, help_text="Incremental profit ÷ total cost; null when the campaign costs nothing."
    )
    break_even_response_rate = serializers.FloatField(
        allow_null=True,
        help_text="The response rate at which incremental profit is 0; null when unreachable (d >= m, or above 1).",
    )
    profit_p5 = serializers.CharField(help_text="5th percentile of the simulated incremental profit. " + MONEY)
    profit_p50 = serializers.CharField(help_text="Median simulated incremental profit. " + MONEY)
    profit_p95 = serializers.CharField(help_text="95th percentile of the simulated incremental profit. " + MONEY)
    probability_of_loss = serializers.FloatField(help_text="Share of simulated runs with a negative profit.")
    control_group_size = serializers.IntegerField(
        allow_null=True,
        help_text="Customers to hold out (two-proportion test of r vs b, 80% power, 5% two-sided), capped at "
        "half the segment; null when r = b.",
    )
    assumptions = serializers.DictField(
        child=AssumptionSerializer(), help_text="Every input's value and where it came from."
    )
    details = serializers.DictField(
        help_text="Notes and extras: break-even note, ROI percentiles, the control group's required size, "
        "cap flag and hold-out cost, where N and A came from, the segmentation run."
    )


class ScenarioSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField(help_text="Username of the person who saved it.")
    segmentation_run = serializers.IntegerField(
        source="segmentation_run_id", allow_null=True, help_text="The segmentation run the simulation used."
    )

    class Meta:
        model = Scenario
        fields = ["id", "name", "created_by", "created_at", "segmentation_run", "inputs", "results"]
        extra_kwargs = {
            "id": {"help_text": "Scenario id."},
            "name": {"help_text": "The name it was saved under."},
            "created_at": {"help_text": "When it was saved."},
            "inputs": {"help_text": "The parameters as given: segments and the assumptions set explicitly."},
            "results": {"help_text": "The simulation, as /api/simulations/campaign returns it."},
        }

    def get_created_by(self, scenario: Scenario) -> str | None:
        return scenario.created_by.get_username() if scenario.created_by else None


class ExportInputSerializer(serializers.Serializer):
    segment = serializers.ListField(child=serializers.CharField(), help_text="Target segment(s).")
    control_share = serializers.FloatField(required=False, help_text="Share held out as control, 0 <= s < 1.")
    seed = serializers.IntegerField(required=False, help_text="Seed of the control draw.")
    order_by = serializers.ChoiceField(
        choices=list(services.TARGET_ORDERS),
        required=False,
        help_text="customer_id (default), or from the most valuable: clv or value_at_risk.",
    )


class ScenarioInputSerializer(CampaignInputSerializer):
    name = serializers.CharField(max_length=200, help_text="A name for the scenario.")


def _valid_segments() -> list[str]:
    active = selectors.active_segmentation_get()
    return list(active.segment_names) if active else []


def _segments_from(data: Any) -> list[str]:
    """Segment names from a repeated parameter, a list, or comma-separated text."""
    if hasattr(data, "getlist"):
        raw = data.getlist("segment") or data.getlist("segments")
    else:
        raw = data.get("segment", data.get("segments", []))
        raw = list(raw) if isinstance(raw, (list, tuple)) else [raw] if raw is not None else []
    return [name.strip() for item in raw for name in str(item).split(",") if name.strip()]


def _parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    if not hasattr(data, "get"):
        raise ApplicationError("Send the parameters as a JSON object.", {"valid_segments": _valid_segments()})
    fields = serializer_class().fields
    plain = {name: data.get(name) for name in fields if name != "segment" and data.get(name) not in (None, "")}
    serializer = serializer_class(data={**plain, "segment": _segments_from(data)})
    if not serializer.is_valid():
        field, messages = next(iter(serializer.errors.items()))
        message = messages[0] if isinstance(messages, list) else str(messages)
        raise ApplicationError(f"{field}: {message}", {"field": field, "valid_segments": _valid_segments()})
    return dict(serializer.validated_data)


SIMULATION_PARAMETERS = [
    OpenApiParameter(
        "segment",
        OpenApiTypes.STR,
        many=True,
        required=True,
        description="Segment name(s), repeated or comma-separated.",
    ),
    *(
        OpenApiParameter(name, OpenApiTypes.FLOAT, description=str(field.help_text))
        for name, field in CampaignInputSerializer().fields.items()
        if isinstance(field, serializers.FloatField)
    ),
    *(
        OpenApiParameter(name, OpenApiTypes.INT, description=str(field.help_text))
        for name, field in CampaignInputSerializer().fields.items()
        if isinstance(field, serializers.IntegerField)
    ),
]
ERROR_400 = OpenApiResponse(description="Invalid input: the reason, and `details.valid_segments`.")


class CampaignSimulationApi(APIView):
    permission_classes = [IsAnalyst]

    def _simulate(self, data: Any) -> Response:
        params = _parse(CampaignInputSerializer, data)
        result = services.campaign_simulate(segments=params.pop("segment"), **params)
        return Response(services.simulation_payload(result))

    @extend_schema(
        summary="Simulate a discount campaign on customer segments",
        description=(
            "Closed-form incremental profit, cost, ROI and break-even response rate, a seeded Monte Carlo "
            "(P5/P50/P95 of profit, probability of loss) and the control-group size, for the chosen segments "
            "of the active segmentation run. Omitted assumptions default to the segment's history "
            "(baseline rate, order values, margin from cost) or documented defaults; `assumptions` says "
            "where each value came from."
        ),
        parameters=SIMULATION_PARAMETERS,
        responses={200: CampaignSimulationSerializer, 400: ERROR_400},
    )
    def get(self, request: Request) -> Response:
        return self._simulate(request.query_params)

    @extend_schema(
        summary="Simulate a discount campaign (parameters in the body)",
        description="The same as GET, with the parameters in a JSON or form body.",
        request=CampaignInputSerializer,
        responses={200: CampaignSimulationSerializer, 400: ERROR_400},
    )
    def post(self, request: Request) -> Response:
        return self._simulate(request.data)


class CampaignExportApi(APIView):
    permission_classes = [IsAnalyst]

    @extend_schema(
        summary="Download the targeted customers as CSV, with a random control group",
        description=(
            "Columns customer_id (as in the retailer's files) and group (target or control). The control group "
            "is a random `control_share` of the customers drawn with `seed`; without a seed a random one is "
            "drawn. The seed is recorded with the export, returned in the `X-Control-Seed` header and in the "
            "file name, so the same split can be drawn again. `order_by` clv or value_at_risk lists the customers "
            "from the most valuable by the run's customer-value predictions (the control group stays the same)."
        ),
        parameters=[
            SIMULATION_PARAMETERS[0],
            OpenApiParameter(
                "control_share", OpenApiTypes.FLOAT, description="Share held out, 0 <= s < 1. Default 0.10."
            ),
            OpenApiParameter("seed", OpenApiTypes.INT, description="Seed of the control draw. Default: random."),
            OpenApiParameter(
                "order_by",
                OpenApiTypes.STR,
                enum=list(services.TARGET_ORDERS),
                description="customer_id (default), clv or value_at_risk (most valuable first).",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="customer_id,group"),
            400: ERROR_400,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = _parse(ExportInputSerializer, request.query_params)
        export, rows = services.target_export_create(
            segments=params["segment"],
            control_share=params.get("control_share"),
            seed=params.get("seed"),
            order_by=params.get("order_by") or "customer_id",
            user=request.user,
        )
        slug = "-".join("".join(ch if ch.isalnum() else "_" for ch in name) for name in export.segments)[:80]
        response = csv_streaming_response(f"campaign_{slug}_seed{export.seed}.csv", ["customer_id", "group"], rows)
        response["X-Control-Seed"] = str(export.seed)
        return response


class ScenarioListApi(ListAPIView):
    permission_classes = [IsAnalyst]
    serializer_class = ScenarioSerializer
    pagination_class = PageNumberPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Scenario]:
        return selectors.scenario_list()

    @extend_schema(
        summary="List saved campaign scenarios",
        description="Newest first, paginated (`page`, `page_size`).",
        responses={
            200: ScenarioSerializer(many=True),
            404: OpenApiResponse(description="No such page (`page` beyond the last)."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Save a campaign simulation as a named scenario",
        description=(
            "Runs the simulation with the given parameters (as for /api/simulations/campaign) and saves its "
            "inputs, results and the segmentation run it used under `name`."
        ),
        request=ScenarioInputSerializer,
        responses={201: ScenarioSerializer, 400: ERROR_400},
    )
    def post(self, request: Request) -> Response:
        params = _parse(ScenarioInputSerializer, request.data)
        name = params.pop("name")
        params["segments"] = params.pop("segment")
        scenario = services.scenario_save(name=name, user=request.user, params=params)
        return Response(ScenarioSerializer(scenario).data, status=status.HTTP_201_CREATED)


# Results compared side by side: money fields differ as decimal strings, the rest as numbers.
COMPARED_MONEY = (
    "avg_order_value",
    "incremental_revenue",
    "discount_cost",
    "total_cost",
    "incremental_profit",
    "profit_p5",
    "profit_p50",
    "profit_p95",
)
COMPARED_NUMBERS = (
    "customers_targeted",
    "expected_orders",
    "roi",
    "break_even_response_rate",
    "probability_of_loss",
    "control_group_size",
)


def _difference(name: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if name in COMPARED_MONEY:
        try:
            return str(Decimal(b) - Decimal(a))
        except InvalidOperation:
            return None
    return services.figure(name, b - a)


class ScenarioCompareApi(APIView):
    permission_classes = [IsAnalyst]

    @extend_schema(
        summary="Compare two saved scenarios side by side",
        description="Both scenarios in full, and for each headline result its value in a, in b and b - a.",
        parameters=[
            OpenApiParameter("a", OpenApiTypes.INT, required=True, description="First scenario id."),
            OpenApiParameter("b", OpenApiTypes.INT, required=True, description="Second scenario id."),
        ],
        responses={
            200: inline_serializer(
                "ScenarioComparison",
                {
                    "a": ScenarioSerializer(),
                    "b": ScenarioSerializer(),
                    "comparison": serializers.DictField(
                        help_text="Per result field: {a, b, difference} (difference = b - a; money as strings)."
                    ),
                },
            ),
            400: ERROR_400,
            404: OpenApiResponse(description="No scenario with that id."),
        },
    )
    def get(self, request: Request) -> Response:
        ids: dict[str, int] = {}
        for key in ("a", "b"):
            raw = request.query_params.get(key, "")
            if not raw.isdigit():
                raise ApplicationError(
                    f"Give two scenario ids as ?a=ID&b=ID ({key} is missing or not a number).", {"field": key}
                )
            ids[key] = int(raw)
        scenarios: dict[str, Scenario] = {}
        for key, scenario_id in ids.items():
            scenario = selectors.scenario_get(scenario_id=scenario_id)
            if scenario is None:
                raise ApplicationError(f"There is no scenario {scenario_id}.", {"field": key}, status=404)
            scenarios[key] = scenario
        a, b = scenarios["a"].results, scenarios["b"].results
        comparison = {
            name: {"a": a.get(name), "b": b.get(name), "difference": _difference(name, a.get(name), b.get(name))}
            for name in (*COMPARED_NUMBERS, *COMPARED_MONEY)
        }
        comparison["segment"] = {"a": a.get("segment"), "b": b.get("segment"), "difference": None}
        return Response(
            {
                "a": ScenarioSerializer(scenarios["a"]).data,
                "b": ScenarioSerializer(scenarios["b"]).data,
                "comparison": comparison,
            }
        )
