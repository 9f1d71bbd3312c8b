"""The simulator page on the hand-checked history of campaigns/tests/conftest.py: VIP has N = 4
customers, average order value A = 80, baseline b = 0.5 (30-day horizon) and a margin of 0.4 from
cost. With the default 10 % discount and response b + 5 points = 0.55:
incremental profit = N·r·A·(m-d) - N·b·A·m = 4·0.55·80·0.3 - 4·0.5·80·0.4 = 52.80 - 64.00 = -11.20."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from campaigns import simulation
from retail_platform.tests.pages import assert_no_inline_script, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def _result(html: str, name: str) -> str:
    match = re.search(rf'data-result="{name}"><dt>[^<]+</dt><dd>([^<]+)</dd>', html) or re.search(
        rf'<dd data-result="{name}">([^<]+)</dd>', html
    )
    assert match, f"result {name} missing"
    return match.group(1)


def _profit(html: str) -> tuple[str, str]:
    """The incremental profit card: the short amount, and the full one in its note."""
    card = r'data-result="incremental_profit"><dt>[^<]+</dt><dd>([^<]+)</dd><dd class="kpi-note">([^<]+) expected</dd>'
    match = re.search(card, html)
    assert match, "incremental profit card missing"
    return match.group(1), match.group(2)


def _used(html: str, name: str) -> str:
    match = re.search(rf'data-used="{name}">([^<]+)</strong> — ([^<]+)</p>', html)
    assert match, f"used value of {name} missing"
    return f"{match.group(1)} | {match.group(2)}"


def test_first_visit_simulates_the_first_segment_on_its_defaults_and_says_where_they_came_from(
    analyst, history
) -> None:
    response = signed_in_client(analyst).get("/simulator/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Results: VIP" in html
    assert _result(html, "customers_targeted") == "4"
    assert _profit(html) == ("\u2212\u2060₺11", "\u2212\u2060₺11.20")
    assert _used(html, "discount").startswith("10.0\u00a0% | default")
    assert _used(html, "baseline_rate").startswith("50.00\u00a0% | history: 2 of the segment&#x27;s 4 customers bought")
    assert _used(html, "margin").startswith("40.00\u00a0% | history: 1 - cost / net sales")
    assert _used(html, "response_rate").startswith("55.00\u00a0% | default: the baseline rate plus 5 points")


def test_every_field_is_labelled(analyst, history) -> None:
    html = signed_in_client(analyst).get("/simulator/").content.decode()
    for name in ("discount", "response_rate", "baseline_rate", "margin", "contact_cost", "fixed_cost",
                 "horizon_days", "simulations", "seed"):  # fmt: skip
        assert f'<label for="id_{name}">' in html
        assert f'id="id_{name}"' in html
    checkboxes = re.findall(r'<label class="checkbox-label"><input type="checkbox" name="segments"', html)
    assert len(checkboxes) == 2 + 11  # VIP and Dormant, and the eleven RFM segments


def test_submitted_inputs_change_the_results(analyst, history) -> None:
    html = (
        signed_in_client(analyst)
        .get("/simulator/", {"segments": "VIP", "discount": "5", "response_rate": "90"})
        .content.decode()
    )
    # 4·0.9·80·(0.4 - 0.05) - 4·0.5·80·0.4 = 100.80 - 64.00
    assert _profit(html) == ("₺37", "₺36.80")
    assert _used(html, "discount") == "5.0\u00a0% | your input"
    assert 'name="discount" value="5"' in html


def test_the_form_also_posts_with_a_csrf_token(analyst, history) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post("/simulator/", {"segments": "VIP"}).status_code == 403
    page = client.get("/simulator/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        "/simulator/", {"segments": "VIP", "discount": "5", "response_rate": "90", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert _profit(response.content.decode())[1] == "₺36.80"


def test_several_segments_are_targeted_together(analyst, history) -> None:
    html = signed_in_client(analyst).get("/simulator/?segments=VIP&segments=Dormant").content.decode()
    assert "Results: VIP, Dormant" in html
    assert _result(html, "customers_targeted") == "6"


def test_an_out_of_range_value_is_shown_against_its_field(analyst, history) -> None:
    response = signed_in_client(analyst).get("/simulator/", {"segments": "VIP", "discount": "120"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="field has-error"' in html
    assert "Ensure this value is less than or equal to 99.99." in html
    assert "Correct the fields marked in the form" in html


def test_no_segment_chosen_is_an_error_not_a_silent_default(analyst, history) -> None:
    response = signed_in_client(analyst).get("/simulator/", {"discount": "10"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_results_come_with_both_charts_the_best_discount_and_the_model(analyst, history) -> None:
    html = signed_in_client(analyst).get("/simulator/").content.decode()
    for key in ("profit-histogram", "profit-by-discount"):
        assert f'<script id="figure-{key}" type="application/json">' in html
    # Response at discount d: b + (r - b)·sqrt(d / 10 %); profit 4·r(d)·80·(0.4 - d) - 64, best on the 1 % grid.
    profits = {d: 4 * (0.5 + 0.05 * (d / 100 / 0.1) ** 0.5) * 80 * (0.4 - d / 100) - 64 for d in range(51)}
    best = max(profits, key=profits.get)
    assert re.search(r'data-result="best_discount">([^<]+)<', html).group(1) == f"{best}\u00a0%"
    assert "Incremental profit     = N·r·A·(m-d) - N·b·A·m - N·c - F = \u2212\u2060₺11.20" in html
    assert_no_inline_script(html)


def test_the_model_says_when_sums_were_drawn_from_their_normal_approximation(analyst, history, monkeypatch) -> None:
    client = signed_in_client(analyst)
    note = "orders or more is drawn from its normal approximation"
    html = client.get("/simulator/").content.decode()
    assert "(bootstrap, seed 0)" in html and note not in html

    monkeypatch.setattr(simulation, "EXACT_DRAWS_LIMIT", 10)
    monkeypatch.setattr(simulation, "NORMAL_MIN_DRAWS", 2)
    html = client.get("/simulator/", {"segments": "VIP", "response_rate": "100", "seed": "1"}).content.decode()
    # 4 customers all buy with the offer, 2 of them would anyway: sums of about 2 orders each run.
    assert re.search(r"2,000 runs \((normal approximation|bootstrap and normal approximation), seed 1\)", html)
    assert "Over 10 draws in all, a run&#x27;s sum over 2 orders or more is drawn from its normal approximation" in html


def test_without_a_segmentation_the_page_says_what_to_do(analyst) -> None:
    html = signed_in_client(analyst).get("/simulator/").content.decode()
    assert "No segments to target yet" in html
    assert "Import a transaction file" in html


def test_viewer_may_not_simulate(viewer, history) -> None:
    assert signed_in_client(viewer).get("/simulator/").status_code == 403


def test_a_response_rate_below_the_baseline_is_flagged_as_lowering_sales(analyst, history) -> None:
    client = signed_in_client(analyst)
    warning = 'id="offer-lowers-sales"'
    assert warning not in client.get("/simulator/").content.decode()  # 55 % against a 50 % baseline

    html = client.get("/simulator/", {"segments": "VIP", "response_rate": "30"}).content.decode()
    assert warning in html
    assert "The offer would lower sales" in html
    assert "(30.00\u00a0%) is below the baseline rate without it (50.00\u00a0%)" in html
