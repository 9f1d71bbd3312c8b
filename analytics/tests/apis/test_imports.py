from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from rest_framework.test import APIClient

from analytics.models import ImportBatch, TransactionLine
from analytics.services.import_batches import import_batch_run
from analytics.tests.factories import ImportBatchFactory

pytestmark = pytest.mark.django_db

MALL_CSV = (
    b"invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall\n"
    b"I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon\n"
    b"I2,C2,Male,21,Shoes,3,1800.51,Debit Card,12/12/2021,Forum Istanbul\n"
    b"I3,C1,Female,28,Books,1,15.15,Cash,9/11/2021,Kanyon\n"
)
RETAIL_II_CSV = (
    b"Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    b"489434,85048,LED LIGHTS,12,2009-12-01 07:45:00,6.95,13085,United Kingdom\n"
    b"489434,79323P,PINK LIGHTS,12,2009-12-01 07:45:00,6.75,13085,United Kingdom\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def no_real_queue():
    """The import task is queued on commit; these tests run the pipeline themselves."""
    with mock.patch("django_q.tasks.async_task") as async_task:
        yield async_task


def session_client(user: User) -> APIClient:
    """Signed in with a session, CSRF enforced, the token taken from the login page like a browser."""
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="pw-" + user.username)
    client.get("/accounts/login/")
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    return client


@pytest.fixture
def staff_session(staff: User) -> APIClient:
    return session_client(staff)


def upload(client: APIClient, content: bytes = MALL_CSV, name: str = "sales.csv", **fields):
    return client.post(
        "/api/imports", {"file": SimpleUploadedFile(name, content, "text/csv"), **fields}, format="multipart"
    )


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


def test_staff_upload_is_accepted_and_queued(staff_session, staff, no_real_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_session)

    assert response.status_code == 202, response.content
    body = response.json()
    batch = ImportBatch.objects.get()
    assert body["id"] == batch.id
    assert response["Location"] == f"/api/imports/{batch.id}"
    assert body["status"] == "queued"
    assert body["file_name"] == "sales.csv"
    assert body["sha256"] == hashlib.sha256(MALL_CSV).hexdigest()
    assert body["size_bytes"] == len(MALL_CSV)
    assert body["source"] == "api"
    assert body["uploaded_by"] == staff.username
    assert body["progress"] == 0
    assert batch.uploaded_by == staff
    queued = [call.args for call in no_real_queue.call_args_list]
    assert ("analytics.tasks.import_batch_run_task", batch.id) in queued


def test_uploaded_batch_reports_counts_and_timings_once_imported(staff_session):
    batch_id = upload(staff_session).json()["id"]
    import_batch_run(batch_id=batch_id)

    body = staff_session.get(f"/api/imports/{batch_id}/").json()

    assert body["status"] == "succeeded"
    assert body["progress"] == 100
    assert (body["rows_read"], body["imported"], body["rejected"], body["duplicates"]) == (3, 3, 0, 0)
    assert {"read", "validate", "load"} <= set(body["timings"])
    assert body["first_errors"] == []
    assert TransactionLine.objects.count() == 3


def test_post_without_a_csrf_token_is_refused_for_a_session(staff):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=staff.username, password="pw-" + staff.username)

    response = upload(client)

    assert_error(response, 403)
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("client_fixture", ["anon_client", "viewer_client", "analyst_client"])
def test_only_staff_may_use_the_import_api(request, client_fixture: str):
    client = request.getfixturevalue(client_fixture)
    batch = ImportBatchFactory(status=ImportBatch.Status.FAILED)

    for response in (
        upload(client),
        client.get("/api/imports"),
        client.get(f"/api/imports/{batch.id}"),
        client.get(f"/api/imports/{batch.id}/errors.csv"),
        client.post(f"/api/imports/{batch.id}/retry"),
    ):
        assert response.status_code in (401, 403)
        assert "error" in response.json()
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert ImportBatch.objects.count() == 1


def test_mapping_preset_and_skip_invalid_reach_the_batch(staff_session):
    response = upload(staff_session, RETAIL_II_CSV, name="retail.csv", mapping="online_retail_ii", skip_invalid="true")

    assert response.status_code == 202, response.content
    batch = ImportBatch.objects.get()
    assert (batch.mapping_name, batch.mapping, batch.skip_invalid) == ("online_retail_ii", None, True)
    assert import_batch_run(batch_id=batch.id).imported == 2


def test_json_mapping_is_used_for_that_file(staff_session):
    mapping = {"columns": {"customer": "Client", "date": "Day", "price": "Total"}, "date_format": "ymd"}
    content = b"Client,Day,Total\nA,2023-01-02,10.50\nB,2023-01-03,5.25\n"

    response = upload(staff_session, content, name="pos.csv", mapping_json=json.dumps(mapping))

    assert response.status_code == 202, response.content
    batch = import_batch_run(batch_id=response.json()["id"])
    assert batch.mapping == mapping
    assert (batch.status, batch.imported) == ("succeeded", 2)
    assert TransactionLine.objects.aggregate(total=Sum("gross_amount"))["total"] == Decimal("15.75")


def test_json_mapping_the_mappings_module_rejects_is_a_400_with_its_reason(staff_session):
    error = assert_error(upload(staff_session, mapping_json='{"columns": {"customer": "Client"}}'), 400)
    assert "required fields" in error["message"]
    assert not ImportBatch.objects.exists()


def test_unknown_mapping_name_is_a_400_naming_it(staff_session):
    error = assert_error(upload(staff_session, mapping="no-such-layout"), 400)
    assert "no-such-layout" in error["message"]
    assert not ImportBatch.objects.exists()


def test_mapping_json_that_is_not_json_is_a_400(staff_session):
    error = assert_error(upload(staff_session, mapping_json="{not json"), 400)
    assert "not valid JSON" in error["message"]
    assert not ImportBatch.objects.exists()


def test_missing_file_is_a_400(staff_session):
    error = assert_error(staff_session.post("/api/imports", {"mapping": "mall"}, format="multipart"), 400)
    assert "file" in error["message"]


def test_upload_over_the_limit_is_refused_before_the_body_is_read(staff_session, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1_000
    content = MALL_CSV * 2_000  # ~300 KB: the declared length alone is over the limit

    with mock.patch("django.http.multipartparser.MultiPartParser.parse", side_effect=AssertionError("body read")):
        response = upload(staff_session, content)

    error = assert_error(response, 413)
    assert "limit" in error["message"]
    assert not ImportBatch.objects.exists()


def test_upload_just_over_the_limit_is_a_413_and_stores_nothing(staff_session, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = len(MALL_CSV) - 1

    assert_error(upload(staff_session), 413)
    assert not ImportBatch.objects.exists()


def test_upload_at_the_limit_is_accepted(staff_session, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = len(MALL_CSV)
    assert upload(staff_session).status_code == 202


def test_list_shows_batches_newest_first_in_a_fixed_number_of_queries(staff_client, django_assert_num_queries):
    first = ImportBatchFactory(uploaded_by=None)
    second = ImportBatchFactory(uploaded_by=User.objects.create_user("uploader"))
    ImportBatchFactory.create_batch(5)

    with django_assert_num_queries(2):  # the count and the page (uploaders joined)
        response = staff_client.get("/api/imports")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    ids = [row["id"] for row in body["results"]]
    assert ids.index(second.id) < ids.index(first.id)
    assert next(row for row in body["results"] if row["id"] == second.id)["uploaded_by"] == "uploader"


def test_detail_of_an_unknown_batch_is_a_404(staff_client):
    assert_error(staff_client.get("/api/imports/999999"), 404)


def test_detail_shows_the_first_errors_and_the_message(staff_client):
    errors = [{"row": n, "column": "price", "value": f"x{n}", "reason": "not a number"} for n in range(2, 40)]
    batch = ImportBatchFactory(
        status=ImportBatch.Status.FAILED, errors=errors, error_count=1500, message="38 rows are invalid"
    )

    body = staff_client.get(f"/api/imports/{batch.id}").json()

    assert body["message"] == "38 rows are invalid"
    assert body["error_count"] == 1500
    assert body["first_errors"] == errors[:20]
    assert body["errors_csv_url"] == f"/api/imports/{batch.id}/errors.csv"


def test_errors_csv_lists_every_kept_error_spreadsheet_safe(staff_client):
    errors = [
        {"row": 2, "column": "price", "value": '=HYPERLINK("http://x")', "reason": "not a number"},
        {"row": 7, "column": "invoice_date", "value": "31/31/2022", "reason": "unreadable date"},
    ]
    batch = ImportBatchFactory(status=ImportBatch.Status.FAILED, errors=errors, error_count=2)

    response = staff_client.get(f"/api/imports/{batch.id}/errors.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"import-{batch.id}-errors.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["row", "column", "value", "reason"],
        ["2", "price", '\'=HYPERLINK("http://x")', "not a number"],
        ["7", "invoice_date", "31/31/2022", "unreadable date"],
    ]


def test_errors_csv_answers_a_client_that_accepts_only_csv(staff_client):
    batch = ImportBatchFactory(status=ImportBatch.Status.SUCCEEDED)
    response = staff_client.get(f"/api/imports/{batch.id}/errors.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().strip() == "row,column,value,reason"


def test_retry_requeues_a_failed_batch(staff_session, no_real_queue, django_capture_on_commit_callbacks):
    batch_id = upload(staff_session, b"not,a,sales\nfile,at,all\n").json()["id"]
    failed = import_batch_run(batch_id=batch_id)
    assert failed.status == ImportBatch.Status.FAILED
    no_real_queue.reset_mock()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_session.post(f"/api/imports/{batch_id}/retry")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["attempts"], body["rows_read"]) == ("queued", 0, 0)
    assert no_real_queue.call_args.args == ("analytics.tasks.import_batch_run_task", batch_id)


def test_retry_of_a_succeeded_batch_is_a_409(staff_client):
    batch = ImportBatchFactory(status=ImportBatch.Status.SUCCEEDED)
    error = assert_error(staff_client.post(f"/api/imports/{batch.id}/retry"), 409)
    assert "failed" in error["message"]


def test_schema_documents_the_import_endpoints(staff_client):
    schema = staff_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = {path.rstrip("/"): operations for path, operations in schema["paths"].items()}
    post = paths["/api/imports"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"202", "413"} <= set(post["responses"])
    assert "/api/imports/{batch_id}" in paths
    assert "409" in paths["/api/imports/{batch_id}/retry"]["post"]["responses"]
    assert "text/csv" in paths["/api/imports/{batch_id}/errors.csv"]["get"]["responses"]["200"]["content"]
    fields = schema["components"]["schemas"]["ImportBatch"]["properties"]
    assert all(field.get("description") for field in fields.values()), [
        k for k, v in fields.items() if not v.get("description")
    ]
    assert json.dumps(schema)  # serialisable
