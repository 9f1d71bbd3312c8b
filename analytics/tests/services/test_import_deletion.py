"""Deleting an import: afterwards every answer is what it would be had the batch never been imported, and a
line another remaining import also delivered is not lost."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from analytics.models import Customer, ImportBatch, LineClaim, Store, TransactionLine
from analytics.services.import_deletion import import_batch_delete, import_batch_deletion_preview
from analytics.tests.services.conftest import mall_csv
from analytics.tests.warehouse.snapshots import assert_read_model_equals_a_rebuild
from retail_platform.errors import ApplicationError

pytestmark = pytest.mark.django_db

FILE_A = (
    "I1,C1,Female,28,Clothing,2,300.00,Credit Card,05/01/2023,Kanyon",
    "I2,C2,Male,40,Shoes,1,120.00,Cash,06/01/2023,Kanyon",
    "I3,C1,Female,28,Books,1,45.00,Cash,01/02/2023,Metrocity",
    "I4,C3,Female,33,Toys,-1,-20.00,Debit Card,02/02/2023,Metrocity",
)
# Overlaps A (I2 again), adds to C1, and brings a new customer in a new store with a new category.
FILE_B = (
    "I2,C2,Male,40,Shoes,1,120.00,Cash,06/01/2023,Kanyon",
    "I5,C1,Female,28,Shoes,1,80.00,Cash,03/03/2023,Kanyon",
    "I6,C9,Male,51,Garden,3,60.00,Credit Card,04/03/2023,Zorlu",
)
PATHS = (
    "/api/overview",
    "/api/performance/stores",
    "/api/insights/seasonality",
    "/api/insights/discount-impact",
    "/api/customers/repeat-vs-onetime",
    "/api/insights/payment-methods",
    "/api/cohorts",
    "/api/overview?compare=previous_period&date_from=2023-02-01&date_to=2023-02-28",
    "/api/performance/stores?store=Kanyon",
    "/api/insights/revenue-change?a_from=2023-01-01&a_to=2023-01-31&b_from=2023-02-01&b_to=2023-02-28",
)


@pytest.fixture
def import_file(run_import) -> Callable[[str, tuple[str, ...]], ImportBatch]:
    def run(name: str, rows: tuple[str, ...]) -> ImportBatch:
        batch = run_import(mall_csv(*rows), name=name)
        assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
        return batch

    return run


def _answers(client: APIClient) -> dict[str, object]:
    cache.clear()
    return {path: client.get(path).json() for path in PATHS}


def _dimensions() -> dict[str, list[str]]:
    return {
        "customers": sorted(Customer.objects.values_list("external_id", flat=True)),
        "stores": sorted(Store.objects.values_list("name", flat=True)),
    }


def test_deleting_the_later_import_gives_every_answer_of_the_earlier_one_alone(
    import_file, viewer_client: APIClient, staff
) -> None:
    import_file("a.csv", FILE_A)
    alone, dimensions_alone = _answers(viewer_client), _dimensions()
    batch_b = import_file("b.csv", FILE_B)
    assert _answers(viewer_client) != alone

    deletion = import_batch_delete(batch_id=batch_b.pk, user=staff)

    assert _answers(viewer_client) == alone
    assert _dimensions() == dimensions_alone
    assert_read_model_equals_a_rebuild()
    assert (deletion.lines, deletion.lines_kept, deletion.customers) == (2, 0, 1)
    assert deletion.stores == {"Kanyon": 1, "Zorlu": 1}
    assert deletion.dimensions == {"stores": ["Zorlu"], "categories": ["Garden"], "payment methods": []}
    batch_b.refresh_from_db()
    assert batch_b.status == ImportBatch.Status.DELETED and batch_b.deleted_by == staff
    assert batch_b.deleted_at is not None and batch_b.deletion["lines"] == 2
    assert not LineClaim.objects.exists()


def test_a_line_a_remaining_import_also_delivered_is_kept_with_it(import_file, viewer_client: APIClient) -> None:
    batch_a = import_file("a.csv", FILE_A)
    batch_b = import_file("b.csv", FILE_B)
    assert LineClaim.objects.filter(batch=batch_b).count() == 1  # I2, delivered by both

    preview = import_batch_deletion_preview(batch_id=batch_a.pk)
    assert (preview.lines, preview.lines_kept) == (3, 1)
    assert TransactionLine.objects.filter(batch=batch_a).count() == 4  # the preview changed nothing
    deletion = import_batch_delete(batch_id=batch_a.pk)

    assert deletion == preview
    kept = TransactionLine.objects.get(invoice_no="I2")
    assert kept.batch_id == batch_b.pk
    assert not LineClaim.objects.exists()
    assert_read_model_equals_a_rebuild()
    after = _answers(viewer_client)

    # The same as importing B alone.
    import_batch_delete(batch_id=batch_b.pk)
    import_file("b-again.csv", FILE_B)
    assert _answers(viewer_client) == after


def test_only_a_succeeded_import_can_be_deleted_and_only_once(import_file, run_import) -> None:
    batch = import_file("a.csv", FILE_A)
    import_batch_delete(batch_id=batch.pk)
    with pytest.raises(ApplicationError) as twice:
        import_batch_delete(batch_id=batch.pk)
    assert twice.value.status == 409 and "deleted" in twice.value.message
    failed = run_import(mall_csv("I9,C1,Female,28,Clothing,x,1.00,Cash,05/01/2023,Kanyon"), name="bad.csv")
    with pytest.raises(ApplicationError):
        import_batch_delete(batch_id=failed.pk)
    with pytest.raises(ApplicationError) as missing:
        import_batch_delete(batch_id=999_999)
    assert missing.value.status == 404


def test_a_deletion_queues_the_refit_after_commit(import_file, django_capture_on_commit_callbacks) -> None:
    batch = import_file("a.csv", FILE_A)
    with django_capture_on_commit_callbacks() as callbacks:
        import_batch_delete(batch_id=batch.pk)
    assert len(callbacks) == 1


def test_the_api_deletes_for_staff_only(import_file, staff_client: APIClient, analyst_client: APIClient) -> None:
    batch = import_file("a.csv", FILE_A)
    assert analyst_client.delete(f"/api/imports/{batch.pk}").status_code == 403
    response = staff_client.delete(f"/api/imports/{batch.pk}")
    assert response.status_code == 200
    assert response.json()["lines"] == 4 and response.json()["customers"] == 3
    assert staff_client.delete(f"/api/imports/{batch.pk}").status_code == 409
    assert staff_client.get(f"/api/imports/{batch.pk}").json()["status"] == "deleted"


def test_the_command_says_what_goes_and_deletes_with_yes(import_file) -> None:
    batch = import_file("a.csv", FILE_A)
    out = io.StringIO()
    call_command("delete_import", str(batch.pk), "--yes", stdout=out)
    assert "4 lines" in out.getvalue() and "Kanyon: 2 lines" in out.getvalue()
    assert not TransactionLine.objects.exists()


def test_the_admin_action_asks_then_deletes(import_file, client, staff) -> None:
    batch = import_file("a.csv", FILE_A)
    client.force_login(staff)
    url = "/admin/analytics/importbatch/"
    page = client.post(url, {"action": "delete_selected_imports", "_selected_action": [batch.pk]})
    html = page.content.decode()
    assert page.status_code == 200 and "4 lines go" in html and "3 customers are left with no line" in html
    assert TransactionLine.objects.count() == 4  # asked, not done
    done = client.post(
        url, {"action": "delete_selected_imports", "_selected_action": [batch.pk], "confirm": "yes"}, follow=True
    )
    assert "Deleted import" in done.content.decode()
    assert not TransactionLine.objects.exists()
