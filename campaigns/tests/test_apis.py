"""The simulation, scenario and export endpoints, through real URLs (history: see conftest)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from campaigns.models import Scenario, TargetExport
from segmentation.models import SegmentationRun
from segmentation.rfm import SEGMENTS

SIMULATION = "/api/simulations/campaign"
EXPORT = "/api/simulations/campaign/export"
SCENARIOS = "/api/scenarios"
VALID = ["VIP", "Dormant", *SEGMENTS]
FIELDS = {
    "segment",
    "customers_targeted",
    "avg_order_value",
    "expected_orders",
    "incremental_revenue",
    "discount_cost",
    "total_cost",
    "incremental_profit",
    "roi",
    "break_even_response_rate",
    "profit_p5",
    "profit_p50",
    "profit_p95",
    "probability_of_loss",
    "control_group_size",
}
HAND_CHECKED = {
    "segment": "VIP",
    "discount": "0.1",
    "response_rate": "0.75",
    "contact_cost": "1",
    "fixed_cost": "10",
}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def test_simulation_returns_the_closed_form_values_to_the_cent(
    analyst_client: APIClient, history: SegmentationRun
) -> None:
    response = analyst_client.get(SIMULATION, HAND_CHECKED)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == FIELDS | {"assumptions", "details"}
    # N=4, A=80, r=0.75, b=0.5 and m=0.4 from history, d=0.1, contact 1, fixed 10 (see test_services).
    assert body["segment"] == ["VIP"]
    assert body["customers_targeted"] == 4
    assert body["avg_order_value"] == "80.00"
    assert body["expected_orders"] == pytest.approx(3.0)
    assert body["incremental_revenue"] == "56.00"  # 4*0.75*80*0.9 - 4*0.5*80
    assert body["discount_cost"] == "24.00"
    assert body["total_cost"] == "38.00"
    assert body["incremental_profit"] == "-6.00"
    assert body["roi"] == round(-6 / 38, 4)
    assert body["break_even_response_rate"] == round(78 / 96, 4)
    assert body["control_group_size"] == 2  # capped at half of 4 customers
    assert body["details"]["control_group_capped"] is True
    assert 0 <= body["probability_of_loss"] <= 1
    assert body["assumptions"]["baseline_rate"]["value"] == 0.5
    assert body["assumptions"]["baseline_rate"]["source"].startswith("history:")
    assert body["assumptions"]["fixed_cost"] == {"value": "10.00", "source": "your input"}


def test_post_with_a_json_body_gives_the_same_answer_as_get(
    analyst_client: APIClient, history: SegmentationRun
) -> None:
    by_get = analyst_client.get(SIMULATION, HAND_CHECKED).json()
    body = {**HAND_CHECKED, "segment": ["VIP"], "discount": 0.1}
    by_post = analyst_client.post(SIMULATION, body, format="json")
    assert by_post.status_code == 200, by_post.content
    assert by_post.json() == by_get


def test_segments_may_be_repeated_or_comma_separated(analyst_client: APIClient, history: SegmentationRun) -> None:
    repeated = analyst_client.get(SIMULATION + "?segment=VIP&segment=Dormant").json()
    commas = analyst_client.get(SIMULATION, {"segment": "VIP,Dormant"}).json()
    assert repeated["customers_targeted"] == commas["customers_targeted"] == 6
    assert repeated["segment"] == ["VIP", "Dormant"]


def test_different_segments_give_different_answers(analyst_client: APIClient, history: SegmentationRun) -> None:
    vip = analyst_client.get(SIMULATION, {"segment": "VIP"}).json()
    dormant = analyst_client.get(SIMULATION, {"segment": "Dormant"}).json()
    assert (vip["customers_targeted"], vip["avg_order_value"]) == (4, "80.00")
    assert (dormant["customers_targeted"], dormant["avg_order_value"]) == (2, "30.00")
    assert vip["incremental_profit"] != dormant["incremental_profit"]


def test_a_discount_above_the_margin_is_a_loss(analyst_client: APIClient, history: SegmentationRun) -> None:
    body = analyst_client.get(SIMULATION, {"segment": "VIP", "discount": "0.5", "response_rate": "0.9"}).json()
    assert body["incremental_profit"].startswith("-")
    assert body["roi"] < 0
    assert body["break_even_response_rate"] is None
    assert body["details"]["margin_wiped_out"] is True
    assert body["details"]["offer_lowers_sales"] is False


def test_a_response_below_the_baseline_says_the_offer_lowers_sales(
    analyst_client: APIClient, history: SegmentationRun
) -> None:
    body = analyst_client.get(SIMULATION, {"segment": "VIP", "response_rate": "0.3", "baseline_rate": "0.5"}).json()
    assert body["details"]["offer_lowers_sales"] is True
    assert body["incremental_profit"].startswith("-")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"segment": "VIP", "discount": "1"}, "discount"),
        ({"segment": "VIP", "discount": "-0.1"}, "discount"),
        ({"segment": "VIP", "response_rate": "1.2"}, "response_rate"),
        ({"segment": "VIP", "baseline_rate": "-0.5"}, "baseline_rate"),
        ({"segment": "VIP", "contact_cost": "-1"}, "contact_cost"),
        ({"segment": "VIP", "fixed_cost": "-100"}, "fixed_cost"),
        ({"segment": "VIP", "discount": "a lot"}, "discount"),
        ({"segment": "Nobody"}, "Nobody"),
        ({}, "segment"),
    ],
)
def test_invalid_input_is_a_400_with_the_reason_and_the_valid_segments(
    analyst_client: APIClient, history: SegmentationRun, params: dict[str, str], reason: str
) -> None:
    response = analyst_client.get(SIMULATION, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert reason in error["message"]
    assert error["details"]["valid_segments"] == VALID


def test_simulation_needs_the_analyst_role(
    anon_client: APIClient, viewer_client: APIClient, history: SegmentationRun
) -> None:
    assert anon_client.get(SIMULATION, {"segment": "VIP"}).status_code in (401, 403)
    assert viewer_client.get(SIMULATION, {"segment": "VIP"}).status_code == 403
    assert viewer_client.get(SCENARIOS).status_code == 403
    assert viewer_client.get(EXPORT, {"segment": "VIP"}).status_code == 403
    assert anon_client.get(EXPORT, {"segment": "VIP"}).status_code in (401, 403)


def test_scenarios_are_saved_listed_and_compared(analyst_client: APIClient, history: SegmentationRun) -> None:
    first = analyst_client.post(SCENARIOS, {**HAND_CHECKED, "name": "VIP 10%"}, format="json")
    assert first.status_code == 201, first.content
    second = analyst_client.post(
        SCENARIOS,
        {"name": "Dormant 20%", "segment": ["Dormant"], "discount": 0.2, "response_rate": 0.75},
        format="json",
    )
    assert second.status_code == 201, second.content
    saved = first.json()
    assert saved["created_by"] == "analyst1"
    assert saved["segmentation_run"] == history.pk
    assert saved["results"]["incremental_profit"] == "-6.00"
    assert Scenario.objects.count() == 2

    listing = analyst_client.get(SCENARIOS).json()
    assert listing["count"] == 2
    assert [item["name"] for item in listing["results"]] == ["Dormant 20%", "VIP 10%"]

    compared = analyst_client.get(f"{SCENARIOS}/compare", {"a": saved["id"], "b": second.json()["id"]})
    assert compared.status_code == 200
    body = compared.json()
    assert body["a"]["name"] == "VIP 10%"
    assert body["comparison"]["customers_targeted"] == {"a": 4, "b": 2, "difference": -2}
    b_profit = second.json()["results"]["incremental_profit"]
    assert body["comparison"]["incremental_profit"]["b"] == b_profit
    assert Decimal(body["comparison"]["incremental_profit"]["difference"]) == Decimal(b_profit) - Decimal("-6.00")
    numbers = [row["difference"] for row in body["comparison"].values() if isinstance(row["difference"], float)]
    assert numbers
    assert all(len(repr(number).split(".")[-1]) <= 4 for number in numbers), numbers  # no float noise


def test_scenario_list_query_count_does_not_grow_with_scenarios(
    analyst_client: APIClient, history: SegmentationRun, django_assert_num_queries
) -> None:
    for name in ("a", "b", "c"):
        analyst_client.post(SCENARIOS, {"name": name, "segment": "VIP"}, format="json")
    # The count and the page (authors joined); the role check reuses the groups read by the posts.
    with django_assert_num_queries(2):
        response = analyst_client.get(SCENARIOS)
    assert response.json()["count"] == 3


def test_compare_reports_missing_scenarios(analyst_client: APIClient, history: SegmentationRun) -> None:
    assert analyst_client.get(f"{SCENARIOS}/compare", {"a": "1"}).status_code == 400
    assert analyst_client.get(f"{SCENARIOS}/compare", {"a": "99998", "b": "99999"}).status_code == 404


def test_saving_a_scenario_with_invalid_inputs_is_a_400(analyst_client: APIClient, history: SegmentationRun) -> None:
    response = analyst_client.post(SCENARIOS, {"name": "bad", "segment": "VIP", "discount": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["valid_segments"] == VALID
    assert not Scenario.objects.exists()


def test_export_streams_customers_with_a_seeded_control_group(
    analyst_client: APIClient, history: SegmentationRun
) -> None:
    response = analyst_client.get(EXPORT, {"segment": "VIP,Dormant", "control_share": "0.5", "seed": "7"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Control-Seed"] == "7"
    assert "seed7" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["customer_id", "group"]
    assert [row[0] for row in rows[1:]] == ["D1", "D2", "V1", "V2", "V3", "V4"]
    assert sorted(row[1] for row in rows[1:]) == ["control"] * 3 + ["target"] * 3
    again = analyst_client.get(EXPORT, {"segment": "VIP,Dormant", "control_share": "0.5", "seed": "7"})
    assert list(csv.reader(io.StringIO(b"".join(again.streaming_content).decode()))) == rows
    assert TargetExport.objects.filter(created_by__username="analyst1").count() == 2


def test_export_rejects_an_unknown_segment(analyst_client: APIClient, history: SegmentationRun) -> None:
    response = analyst_client.get(EXPORT, {"segment": "Nobody"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["valid_segments"] == VALID


@pytest.mark.parametrize("body", [["VIP"], {"segment": 5}, {"segment": {"a": 1}}, {"segment": "VIP", "seed": 2**70}])
def test_malformed_bodies_are_400s(analyst_client: APIClient, history: SegmentationRun, body: object) -> None:
    response = analyst_client.post(SIMULATION, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["valid_segments"] == VALID
