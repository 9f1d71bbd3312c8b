import pytest

from segmentation.models import SegmentationRun
from segmentation.tasks import segmentation_refit_task
from segmentation.tests.data import build_sales, load_sales

pytestmark = pytest.mark.django_db


def test_refit_task_runs_a_refit_for_the_import_and_returns_the_run_id() -> None:
    batch = load_sales(build_sales(customers=20))
    run_id = segmentation_refit_task(batch.pk)
    run = SegmentationRun.objects.get(pk=run_id)
    assert run.status == SegmentationRun.Status.SUCCEEDED and run.is_active
    assert run.import_batch_id == batch.pk


def test_refit_task_passes_k_and_as_of() -> None:
    load_sales(build_sales(customers=20))
    run = SegmentationRun.objects.get(pk=segmentation_refit_task(None, 2, "2025-01-01"))
    assert (run.k, run.as_of.isoformat()) == (2, "2025-01-01")
