from __future__ import annotations

import csv
import hashlib
import io
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from analytics.models import ColumnMapping, ImportBatch
from analytics.services.import_batches import import_batch_run
from analytics.tests.factories import ImportBatchFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/analytics/importbatch/add/"
LIST_URL = "/admin/analytics/importbatch/"
MALL_CSV = (
    b"invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall\n"
    b"I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon\n"
    b"I2,C2,Male,21,Shoes,3,1800.51,Debit Card,12/12/2021,Forum Istanbul\n"
)
DJANGO_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def no_real_queue():
    with mock.patch("django_q.tasks.async_task") as async_task:
        yield async_task


def signed_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser("boss", password="pw-boss")


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    return signed_in(admin_user)


def csrf_token(client: Client) -> str:
    response = client.get(ADD_URL)
    assert response.status_code == 200
    return response.context["csrf_token"]


def post_upload(
    client: Client, content: bytes = MALL_CSV, *, name: str = "sales.csv", token: str | None = None, **fields
):
    data = {"file": SimpleUploadedFile(name, content, "text/csv"), "mapping_name": "mall", **fields}
    if token is not False:
        data["csrfmiddlewaretoken"] = token or csrf_token(client)
    return client.post(ADD_URL, data)


def test_upload_form_offers_the_presets_and_saved_mappings(admin_client):
    ColumnMapping.objects.create(name="pos-export", mapping={"customer": "Client"})

    response = admin_client.get(ADD_URL)

    assert response.status_code == 200
    choices = [value for value, _ in response.context["form"].fields["mapping_name"].choices]
    assert choices[:2] == ["mall", "online_retail_ii"]
    assert "pos-export" in choices
    assert b"Skip invalid rows" in response.content


def test_saving_the_upload_form_stores_the_file_and_queues_the_import(
    admin_client, admin_user, no_real_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(admin_client, skip_invalid="on")

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/analytics/importbatch/{batch.id}/change/"
    assert (batch.status, batch.source, batch.uploaded_by) == ("queued", "admin", admin_user)
    assert batch.skip_invalid is True
    assert batch.sha256 == hashlib.sha256(MALL_CSV).hexdigest()
    assert ("analytics.tasks.import_batch_run_task", batch.id) in [c.args for c in no_real_queue.call_args_list]


def test_upload_without_the_csrf_token_is_refused(admin_client):
    response = post_upload(admin_client, token=False)
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("handlers", ["project", "django"])
def test_file_over_the_size_limit_gets_a_clear_form_error(admin_client, settings, handlers):
    if handlers == "django":
        settings.FILE_UPLOAD_HANDLERS = DJANGO_UPLOAD_HANDLERS
    token = csrf_token(admin_client)
    settings.IMPORT_MAX_UPLOAD_BYTES = len(MALL_CSV) - 1

    response = post_upload(admin_client, token=token)

    assert response.status_code == 413
    assert b"too large" in response.content
    assert b"IMPORT_MAX_UPLOAD_BYTES" in response.content
    assert not ImportBatch.objects.exists()


def test_a_far_too_large_upload_is_refused_with_the_form(admin_client, settings):
    token = csrf_token(admin_client)
    settings.IMPORT_MAX_UPLOAD_BYTES = 1_000

    response = post_upload(admin_client, MALL_CSV * 2_000, token=token)

    assert response.status_code == 413
    assert b"too large" in response.content
    assert not ImportBatch.objects.exists()


def test_invalid_json_mapping_is_a_form_error(admin_client):
    response = post_upload(admin_client, mapping_json="{nope")
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_staff_without_model_permissions_can_upload(django_user_model, no_real_queue):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client = signed_in(clerk)

    assert client.get(LIST_URL).status_code == 200
    assert post_upload(client).status_code == 302
    assert ImportBatch.objects.get().uploaded_by == clerk


def test_non_staff_cannot_reach_the_import_admin(analyst):
    response = signed_in(analyst).get(ADD_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_list_shows_status_counts_and_progress(admin_client):
    ImportBatchFactory(file_name="done.csv", rows_read=10, imported=8, rejected=1, duplicates=1)
    ImportBatchFactory(file_name="busy.csv", status="running", stage="load", progress=40)

    content = admin_client.get(LIST_URL).content.decode()

    assert "done.csv" in content and "busy.csv" in content
    assert "40% (load)" in content
    assert "100%" in content


def test_detail_is_a_read_only_report_with_the_error_table(admin_client):
    batch = ImportBatchFactory(
        status="failed",
        message="2 rows are invalid",
        errors=[
            {"row": 2, "column": "shopping_mall", "value": "<script>alert(1)</script>", "reason": "empty"},
            {"row": 3, "column": "price", "value": "abc", "reason": "not a number"},
        ],
        error_count=2,
        warnings=["Unknown column 'note' ignored"],
        timings={"load": 1.5, "read": 0.25, "validate": 0.5},
    )

    response = admin_client.get(f"/admin/analytics/importbatch/{batch.id}/change/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "2 rows are invalid" in content
    assert "Unknown column &#x27;note&#x27; ignored" in content
    assert "read 0.25 s · validate 0.50 s · load 1.50 s" in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)</script>" not in content
    assert f"/admin/analytics/importbatch/{batch.id}/errors.csv" in content
    assert 'name="_save"' not in content  # nothing to save: read-only


def test_error_report_downloads_as_spreadsheet_safe_csv(admin_client):
    batch = ImportBatchFactory(
        status="failed", errors=[{"row": 4, "column": "age", "value": "@SUM(A1)", "reason": "not a number"}]
    )

    response = admin_client.get(f"/admin/analytics/importbatch/{batch.id}/errors.csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["row", "column", "value", "reason"], ["4", "age", "'@SUM(A1)", "not a number"]]


def test_retry_action_requeues_failed_batches_and_explains_the_others(admin_client, no_real_queue, settings):
    failed = ImportBatchFactory(status="failed", attempts=3)
    failed.file.save("again.csv", SimpleUploadedFile("again.csv", MALL_CSV), save=True)
    done = ImportBatchFactory(status="succeeded")
    token = csrf_token(admin_client)

    response = admin_client.post(
        LIST_URL,
        {"action": "retry_selected", "_selected_action": [failed.id, done.id], "csrfmiddlewaretoken": token},
        follow=True,
    )

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("queued", 0)
    assert ImportBatch.objects.get(pk=done.id).status == "succeeded"
    shown = [str(m) for m in response.context["messages"]]
    assert f"Queued again: #{failed.id}." in shown
    assert any("Only a failed import can be retried" in m for m in shown)


def test_a_batch_the_sweep_failed_imports_fully_after_a_retry(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(admin_client)
    batch = ImportBatch.objects.get()
    # What the stuck-batch sweep leaves after a worker died mid-import.
    ImportBatch.objects.filter(pk=batch.pk).update(status="failed", attempts=1, message="The worker stopped.")

    admin_client.post(
        LIST_URL,
        {"action": "retry_selected", "_selected_action": [batch.id], "csrfmiddlewaretoken": csrf_token(admin_client)},
    )
    batch = import_batch_run(batch_id=batch.id)

    assert (batch.status, batch.imported, batch.attempts) == ("succeeded", 2, 1)


def test_the_batch_page_links_the_stored_file_to_a_staff_only_download(admin_client, django_user_model, analyst):
    post_upload(admin_client, name="weekly export.csv")
    batch = ImportBatch.objects.get()
    download = f"/admin/analytics/importbatch/{batch.id}/file/"

    page = admin_client.get(f"/admin/analytics/importbatch/{batch.id}/change/").content.decode()

    assert f'<a href="{download}">weekly export.csv</a>' in page
    assert "/media/" not in page
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    response = signed_in(clerk).get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MALL_CSV
    assert response["Content-Disposition"] == 'attachment; filename="weekly export.csv"'
    assert response["Content-Type"] == "application/octet-stream"
    for outsider in (Client(), signed_in(analyst)):
        refused = outsider.get(download)
        assert refused.status_code == 302
        assert refused["Location"].startswith("/admin/login/")


def test_a_batch_whose_stored_file_is_gone_shows_no_link(admin_client):
    batch = ImportBatchFactory(file_name="lost.csv")  # the factory stores no file

    page = admin_client.get(f"/admin/analytics/importbatch/{batch.id}/change/").content.decode()

    assert "The stored file is gone." in page
    assert f"/admin/analytics/importbatch/{batch.id}/file/" not in page
    assert admin_client.get(f"/admin/analytics/importbatch/{batch.id}/file/").status_code == 404
