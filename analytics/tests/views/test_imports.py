import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from analytics.models import ImportBatch
from analytics.tests.factories import ImportBatchFactory
from retail_platform.tests.pages import assert_no_inline_script, signed_in_client

pytestmark = pytest.mark.django_db

MALL_CSV = (
    b"invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall\n"
    b"I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon\n"
    b"I2,C2,Male,21,Shoes,3,1800.51,Debit Card,12/12/2021,Forum Istanbul\n"
)


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/imports/")
    return client, client.cookies["csrftoken"].value


def _upload(client: Client, token: str, content: bytes = MALL_CSV, **fields) -> object:
    data = {"file": SimpleUploadedFile("sales.csv", content, "text/csv"), "mapping_name": "mall", **fields}
    return client.post("/imports/", {**data, "csrfmiddlewaretoken": token})


@pytest.fixture
def batches() -> list[ImportBatch]:
    done = ImportBatchFactory(
        file_name="january.csv", rows_read=1200, imported=1190, rejected=10, duplicates=0, error_count=10,
        message="Imported 1,190 lines; 10 rows rejected (row 7: price 'abc' is not a number).",
    )  # fmt: skip
    running = ImportBatchFactory(
        file_name="february.csv", status=ImportBatch.Status.RUNNING, stage="load", progress=40, rows_read=500
    )
    return [done, running]


def test_viewer_sees_status_counts_and_progress_but_no_upload_or_error_reports(viewer, batches) -> None:
    html = signed_in_client(viewer).get("/imports/").content.decode()
    done, running = batches
    assert f'<tr id="batch-{done.pk}" data-batch-id="{done.pk}" data-status="succeeded">' in html
    assert f'<tr id="batch-{running.pk}" data-batch-id="{running.pk}" data-status="running">' in html
    # Load at 40 % of its own stage: 35 + 55 x 0.4 = 57 % of the whole import, and the step says so.
    assert '<progress max="100" value="57"' in html
    assert "Step 3 of 4: loading the lines" in html
    assert '<progress max="100" value="100"' in html  # a succeeded batch is complete
    assert '<td class="num" data-field="rows_read">1,200</td>' in html
    assert '<td class="num" data-field="imported">1,190</td>' in html
    assert 'id="upload-form"' not in html
    assert "errors.csv" not in html
    assert "price &#x27;abc&#x27;" not in html  # row values in messages are for staff
    assert 'data-polling="true"' in html
    assert "/static/js/imports.js" in html
    assert_no_inline_script(html)


def test_staff_get_a_labelled_upload_form_and_the_error_report_links(staff, batches) -> None:
    html = signed_in_client(staff).get("/imports/").content.decode()
    done, running = batches
    assert 'enctype="multipart/form-data"' in html
    for name in ("file", "mapping_name", "skip_invalid"):
        assert f'<label for="id_{name}">' in html
        assert f'id="id_{name}"' in html
    assert f'href="/api/imports/{done.pk}/errors.csv" data-field="errors-link" download>' in html
    assert f'href="/api/imports/{running.pk}/errors.csv" data-field="errors-link" download hidden>' in html
    assert "price &#x27;abc&#x27; is not a number" in html


def test_staff_upload_queues_an_import_and_comes_back_to_the_list(staff) -> None:
    client, token = _csrf_client(staff)
    response = _upload(client, token, skip_invalid="on")

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/#batch-{batch.pk}"
    assert (batch.file_name, batch.status, batch.skip_invalid, batch.uploaded_by, batch.source) == (
        "sales.csv", "queued", True, staff, "web",
    )  # fmt: skip
    assert batch.size_bytes == len(MALL_CSV)
    html = client.get("/imports/").content.decode()
    assert f"Import #{batch.pk} of sales.csv is queued" in html
    # Labelled as what it was: an upload from this page (it said "Admin by admin").
    assert f"Imports page · {staff.get_username()}" in html


def test_upload_without_the_csrf_token_is_refused(staff) -> None:
    client, _ = _csrf_client(staff)
    response = client.post("/imports/", {"file": SimpleUploadedFile("s.csv", MALL_CSV), "mapping_name": "mall"})
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_upload_without_a_file_says_so_against_the_field(staff) -> None:
    client, token = _csrf_client(staff)
    response = client.post("/imports/", {"mapping_name": "mall", "csrfmiddlewaretoken": token})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<div class="field has-error">' in html
    assert "This field is required." in html
    assert not ImportBatch.objects.exists()


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100)
def test_upload_over_the_size_limit_is_a_form_error_with_413(staff) -> None:
    client, token = _csrf_client(staff)
    response = _upload(client, token)
    html = response.content.decode()
    assert response.status_code == 413
    assert "The file is too large" in html
    assert 'id="upload-form"' in html
    assert not ImportBatch.objects.exists()


def test_analyst_may_not_upload(analyst) -> None:
    client, token = _csrf_client(analyst)
    assert _upload(client, token).status_code == 403
    assert not ImportBatch.objects.exists()


def test_status_endpoint_reports_the_batches_asked_for(viewer, staff, batches) -> None:
    done, running = batches
    body = signed_in_client(viewer).get(f"/imports/status/?ids={running.pk},{done.pk},x").json()
    by_id = {batch["id"]: batch for batch in body["batches"]}
    assert by_id[running.pk] == {
        "id": running.pk, "status": "running", "stage": "load", "progress": 57,
        "step": "Step 3 of 4: loading the lines", "rows_read": 500,
        "imported": 0, "rejected": 0, "duplicates": 0, "error_count": 0,
        "text": {"rows_read": "500", "imported": "0", "rejected": "0", "duplicates": "0", "error_count": "0"},
    }  # fmt: skip
    assert by_id[done.pk]["progress"] == 100
    assert "message" not in by_id[done.pk]
    staff_body = signed_in_client(staff).get(f"/imports/status/?ids={done.pk}").json()
    assert staff_body["batches"][0]["message"].startswith("Imported 1,190 lines")


def test_status_endpoint_needs_a_signed_in_viewer() -> None:
    response = Client().get("/imports/status/?ids=1")
    assert response.status_code == 302


def test_no_batches_yet_says_what_to_do(staff, viewer) -> None:
    assert "Choose a transaction CSV above" in signed_in_client(staff).get("/imports/").content.decode()
    assert "ask an administrator" in signed_in_client(viewer).get("/imports/").content.decode()


def test_file_names_are_escaped(viewer) -> None:
    ImportBatchFactory(file_name="<img src=x onerror=alert(1)>.csv")
    html = signed_in_client(viewer).get("/imports/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html
