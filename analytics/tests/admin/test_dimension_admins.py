from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analytics.models import ColumnMapping
from analytics.tests.factories import CustomerFactory, StoreFactory, TransactionLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("boss", password="pw-boss"))
    return client


@pytest.mark.parametrize("model", ["store", "category", "paymentmethod", "customer", "columnmapping"])
def test_each_admin_lists(admin_client, model):
    assert admin_client.get(f"/admin/analytics/{model}/").status_code == 200


def test_customers_are_found_by_external_id(admin_client):
    CustomerFactory(external_id="C241288")
    CustomerFactory(external_id="C999999")

    content = admin_client.get("/admin/analytics/customer/", {"q": "C241288"}).content.decode()

    assert "C241288" in content
    assert "C999999" not in content


def test_dimensions_cannot_be_deleted_from_the_admin(admin_client):
    store = StoreFactory(name="Kanyon")
    assert admin_client.get(f"/admin/analytics/store/{store.id}/delete/").status_code == 403


def test_transaction_lines_are_read_only(admin_client):
    line = TransactionLineFactory(invoice_no="I424242")

    assert admin_client.get("/admin/analytics/transactionline/add/").status_code == 403
    detail = admin_client.get(f"/admin/analytics/transactionline/{line.pk}/change/")
    assert detail.status_code == 200
    assert "I424242" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.get(f"/admin/analytics/transactionline/{line.pk}/delete/").status_code == 403


def test_transaction_line_list_never_counts_the_whole_table(admin_client):
    TransactionLineFactory.create_batch(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_transactionline")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/analytics/transactionline/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 30  # from the table statistics
    line_counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "transactionline" in q["sql"]]
    assert line_counts == []


def test_filtered_transaction_lines_are_counted_exactly(admin_client):
    store = StoreFactory(name="Kanyon")
    TransactionLineFactory.create_batch(3, store=store)
    TransactionLineFactory.create_batch(2)

    response = admin_client.get("/admin/analytics/transactionline/", {"store__id__exact": store.id})

    assert response.context["cl"].result_count == 3


def test_column_mapping_is_validated_with_the_mappings_module(admin_client):
    response = admin_client.post(
        "/admin/analytics/columnmapping/add/",
        {"name": "broken", "description": "", "mapping": '{"no_such_field": "x"}'},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["mapping"]
    assert not ColumnMapping.objects.filter(name="broken").exists()


def test_a_saved_mapping_cannot_take_a_shipped_preset_name(admin_client):
    response = admin_client.post(
        "/admin/analytics/columnmapping/add/", {"name": "mall", "description": "", "mapping": "{}"}
    )
    assert "shipped preset" in str(response.context["adminform"].form.errors["name"])
