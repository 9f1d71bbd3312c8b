"""The Customers page's value section on the CDNOW sample: the holdout check, the charts and the
per-segment table for everyone; the customers at risk for analysts only."""

from __future__ import annotations

import pytest

from analytics.tests.cdnow import cdnow_import
from retail_platform.tests.pages import assert_no_inline_script, signed_in_client
from segmentation.services.refit import segmentation_run_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def fitted(run_import) -> None:
    cdnow_import(run_import)
    assert segmentation_run_create().status == "succeeded"


def test_viewers_see_the_check_and_the_aggregates_but_no_customer(viewer, fitted: None) -> None:
    html = signed_in_client(viewer).get("/customers/").content.decode()
    assert "Customer value ahead" in html and "repeat purchases happened" in html
    for key in ("clv-tracking", "clv-conditional", "clv-distribution", "clv-p-alive"):
        assert f'id="chart-{key}"' in html
    assert "90 % interval" in html
    assert "Valuable customers slipping away" not in html
    assert_no_inline_script(html)


def test_analysts_also_see_the_customers_at_risk(analyst, fitted: None) -> None:
    html = signed_in_client(analyst).get("/customers/?kind=rfm").content.decode()
    assert "Valuable customers slipping away" in html
    assert html.count('<th scope="row">C') >= 10
