"""The column-mapping editor page: a file read, proposals, the dry run, saving, importing."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from analytics.mappings import mapping_parse
from analytics.models import ColumnMapping, ImportBatch, TransactionLine
from retail_platform.tests.pages import assert_no_inline_script, signed_in_client

pytestmark = pytest.mark.django_db

EDITOR = "/imports/mappings/new/"
CDNOW_LIKE = (
    b"customer_id,invoice_date,quantity,price\n"
    b"C0001,1997-01-01,2,29.33\nC0001,1997-01-18,2,29.73\nC0001,1997-08-02,1,14.96\nC0002,1997-01-01,3,63.34\n"
    b"C0002,1997-01-13,1,11.77\nC0003,1997-01-01,1,6.79\nC0004,1997-01-01,1,13.97\nC0005,1997-01-01,2,23.94\n"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def run_import_csv(media, tmp_path):
    from analytics.services.import_batches import import_batch_create

    def create(content: bytes) -> ImportBatch:
        path = tmp_path / "cdnow.csv"
        path.write_bytes(content)
        return import_batch_create(path_or_file=path, file_name="cdnow.csv", source="command", enqueue=False)

    return create


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(EDITOR)
    return client, client.cookies["csrftoken"].value


def _upload(client: Client, token: str, content: bytes = CDNOW_LIKE, name: str = "cdnow.csv"):
    return client.post(EDITOR, {"file": SimpleUploadedFile(name, content, "text/csv"), "csrfmiddlewaretoken": token})


def _editor_data(html: str) -> dict[str, str]:
    """The editor form's values as the page rendered them (what a person submits unchanged)."""
    form = html.split('id="mapping-form"', 1)[1].split("</form>", 1)[0]
    data = {}
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.DOTALL):
        selected = re.search(r'<option value="([^"]*)" selected>', options)
        data[name] = selected.group(1) if selected else ""
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag:
            data[name.group(1)] = value.group(1) if value else ""
    return data


def test_only_staff_may_open_the_editor(viewer, analyst) -> None:
    assert signed_in_client(viewer).get(EDITOR).status_code == 403
    assert signed_in_client(analyst).get(EDITOR).status_code == 403
    assert Client().get(EDITOR).status_code == 302


def test_an_upload_opens_the_editor_with_fields_and_formats_proposed_and_the_first_rows_read(staff, media) -> None:
    client, token = _csrf_client(staff)
    response = _upload(client, token)
    assert response.status_code == 302
    assert re.fullmatch(r"/imports/mappings/new/\?file=[0-9a-f]{32}", response["Location"])

    html = client.get(response["Location"]).content.decode()
    data = _editor_data(html)
    assert [data[f"column_{n}"] for n in range(4)] == ["customer", "date", "quantity", "price"]
    assert (data["date_format"], data["decimal_separator"], data["price_is"]) == ("ymd", ".", "line_amount")
    assert "Proposed from the data: The dates start with a four-digit year." in html
    # The dry run, already: eight rows, eight lines, 29.33 for two units is 14.665 → 14.67 each.
    assert "<strong>8 would be imported</strong>" in html
    assert html.count('data-outcome="line"') == 8
    assert '<time datetime="1997-01-01">1 Jan 1997</time>' in html
    assert "₺29.33" in html
    assert not TransactionLine.objects.exists() and not ImportBatch.objects.exists()
    assert_no_inline_script(html)


def test_a_changed_choice_is_previewed_with_the_import_s_errors(staff, media) -> None:
    client, token = _csrf_client(staff)
    location = _upload(client, token)["Location"]
    data = _editor_data(client.get(location).content.decode())
    # Swapped by mistake: the dates taken from the customer column.
    data.update(column_0="date", column_1="customer", action="preview", csrfmiddlewaretoken=token)

    html = client.post(location, data).content.decode()
    assert "<strong>0 would be imported</strong>" in html
    assert html.count('data-outcome="error"') == 8
    assert "Column “customer_id” (“C0001”)" in html
    assert not TransactionLine.objects.exists()


def test_a_field_chosen_twice_or_a_required_one_missing_is_said_against_the_form(staff, media) -> None:
    client, token = _csrf_client(staff)
    location = _upload(client, token)["Location"]
    data = {**_editor_data(client.get(location).content.decode()), "csrfmiddlewaretoken": token}

    twice = client.post(location, {**data, "column_2": "price"})
    assert twice.status_code == 400
    assert "Each field can come from one column only: price is chosen for several." in twice.content.decode()
    missing = client.post(location, {**data, "column_0": ""})
    assert "Choose the column of each required field: customer id" in missing.content.decode()


def test_saving_makes_a_named_mapping_and_its_json_stays_available(staff, media) -> None:
    client, token = _csrf_client(staff)
    location = _upload(client, token)["Location"]
    data = _editor_data(client.get(location).content.decode())
    data.update(name="cdnow", description="CDNOW exports", action="save", csrfmiddlewaretoken=token)

    response = client.post(location, data)
    assert response.status_code == 302 and response["Location"] == "/imports/"
    saved = ColumnMapping.objects.get(name="cdnow")
    spec = mapping_parse(saved.mapping)
    assert spec.columns == {"customer": "customer_id", "date": "invoice_date", "quantity": "quantity", "price": "price"}
    assert (spec.date_format, spec.price_is) == ("ymd", "line_amount")
    assert not ImportBatch.objects.exists()
    # The Imports page now offers it.
    assert '<option value="cdnow">cdnow (saved)</option>' in client.get("/imports/").content.decode()

    again = client.post(location, data)
    assert again.status_code == 409
    assert "There is already a mapping called &#x27;cdnow&#x27;" in again.content.decode()


def test_save_and_import_queues_the_file_with_the_new_mapping(staff, media, django_capture_on_commit_callbacks) -> None:
    client, token = _csrf_client(staff)
    location = _upload(client, token)["Location"]
    data = _editor_data(client.get(location).content.decode())
    data.update(name="cdnow", action="save_import", csrfmiddlewaretoken=token)

    with django_capture_on_commit_callbacks():
        response = client.post(location, data)
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/#batch-{batch.pk}"
    assert (batch.mapping_name, batch.source, batch.file_name, batch.uploaded_by) == (
        "cdnow",
        "web",
        "cdnow.csv",
        staff,
    )
    assert batch.size_bytes == len(CDNOW_LIKE)


def test_a_file_imported_before_can_be_picked(staff, media, run_import_csv) -> None:
    batch = run_import_csv(CDNOW_LIKE)
    client, token = _csrf_client(staff)
    assert f'<option value="{batch.pk}">#{batch.pk} cdnow.csv' in client.get(EDITOR).content.decode()
    response = client.post(EDITOR, {"batch": str(batch.pk), "csrfmiddlewaretoken": token})
    assert response["Location"] == f"{EDITOR}?batch={batch.pk}"
    html = client.get(response["Location"]).content.decode()
    assert "Columns of cdnow.csv" in html


def test_a_binary_file_is_refused_on_the_first_step(staff, media) -> None:
    client, token = _csrf_client(staff)
    location = _upload(client, token, b"\x00\x01\x02\x03" * 500, "photo.csv")["Location"]
    response = client.get(location)
    assert response.status_code == 400
    assert "not a text file (it contains binary data)" in response.content.decode()


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100)
def test_an_upload_over_the_limit_is_a_form_error_with_413(staff, media) -> None:
    client, token = _csrf_client(staff)
    response = _upload(client, token)
    assert response.status_code == 413
    assert "The file is too large" in response.content.decode()


def test_the_imports_page_links_the_editor_for_staff(staff, viewer) -> None:
    assert 'href="/imports/mappings/new/"' in signed_in_client(staff).get("/imports/").content.decode()
    assert "/imports/mappings/new/" not in signed_in_client(viewer).get("/imports/").content.decode()
