"""The simulator with a customer-value model: the baseline rate defaults to the model's probability that
the chosen customers buy within the horizon, and the target list can be ordered by value."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from analytics.tests.cdnow import cdnow_import
from campaigns import services
from segmentation.models import CustomerValue
from segmentation.services.refit import segmentation_run_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(run_import) -> int:
    cdnow_import(run_import)
    created = segmentation_run_create()
    assert created.status == "succeeded"
    return created.pk


def test_the_baseline_comes_from_the_model_and_says_so(run: int) -> None:
    result = services.campaign_simulate(segments=["Champions"], horizon_days=90)
    year = services.campaign_simulate(segments=["Champions"], horizon_days=365)
    assert "customer-value model" in result.assumption_sources["baseline_rate"]
    assert 0 < result.assumptions.baseline_rate < year.assumptions.baseline_rate < 1
    given = services.campaign_simulate(segments=["Champions"], baseline_rate=0.2)
    assert given.assumption_sources["baseline_rate"] == "your input"


def test_the_target_list_orders_by_value_and_keeps_the_control_group(analyst_client: APIClient, run: int) -> None:
    def rows(**params: object) -> list[list[str]]:
        response = analyst_client.get("/api/simulations/campaign/export", {"segment": "Champions", "seed": 7, **params})
        assert response.status_code == 200, response.content
        return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]

    plain, by_clv = rows(), rows(order_by="clv")
    assert sorted(plain) == sorted(by_clv)  # the same customers, each in the same group
    clv = dict(CustomerValue.objects.filter(run_id=run).values_list("customer__external_id", "clv"))
    values = [clv[customer] for customer, _ in by_clv]
    assert values == sorted(values, reverse=True) and values != [clv[c] for c, _ in plain]
    assert (
        analyst_client.get("/api/simulations/campaign/export", {"segment": "Champions", "order_by": "x"}).status_code
        == 400
    )
