import io

import pytest
from django.core.management import CommandError, call_command

from segmentation.models import SegmentationRun
from segmentation.tests.data import build_sales, load_sales

pytestmark = pytest.mark.django_db


def test_refit_segments_prints_the_run_and_makes_it_active() -> None:
    load_sales(build_sales(customers=40))
    out = io.StringIO()
    call_command("refit_segments", "--k", "3", "--as-of", "2025-01-01", stdout=out)
    run = SegmentationRun.objects.get()
    assert run.is_active and run.k == 3 and run.as_of.isoformat() == "2025-01-01"
    text = out.getvalue()
    assert f"Segmentation run #{run.pk} succeeded" in text
    assert f"{run.customers} customers, k = 3" in text
    for entry in run.clusters:
        assert f"{entry['cluster']}. {entry['name']}: {entry['customers']} customers" in text


def test_refit_segments_exits_non_zero_when_the_run_fails() -> None:
    with pytest.raises(CommandError, match="failed: There are no transactions yet"):
        call_command("refit_segments", stdout=io.StringIO())
    assert SegmentationRun.objects.get().status == SegmentationRun.Status.FAILED


def test_refit_segments_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("refit_segments", "--as-of", "01/02/2025")
