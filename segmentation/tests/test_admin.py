import pytest
from django.test import Client

from segmentation.models import CustomerSegment, SegmentationRun
from segmentation.services.refit import segmentation_run_create
from segmentation.tests.data import build_sales, load_sales

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_staff(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_runs_are_listed_with_their_figures(admin_client_staff: Client) -> None:
    load_sales(build_sales(customers=25))
    run = segmentation_run_create()
    response = admin_client_staff.get("/admin/segmentation/segmentationrun/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f">{run.pk}<" in body and str(run.customers) in body


def test_make_active_action_switches_the_active_run(admin_client_staff: Client) -> None:
    load_sales(build_sales(customers=25))
    first = segmentation_run_create()
    second = segmentation_run_create()
    response = admin_client_staff.post(
        "/admin/segmentation/segmentationrun/",
        {"action": "make_active", "_selected_action": [first.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert SegmentationRun.objects.get(is_active=True) == first
    second.refresh_from_db()
    assert not second.is_active


def test_assignments_cannot_be_edited(admin_client_staff: Client) -> None:
    load_sales(build_sales(customers=25))
    run = segmentation_run_create()
    assignment = CustomerSegment.objects.filter(run=run).first()
    page = admin_client_staff.get(f"/admin/segmentation/customersegment/{assignment.pk}/change/")
    assert page.status_code == 200
    assert b'name="segment"' not in page.content  # shown read-only
    posted = admin_client_staff.post(
        f"/admin/segmentation/customersegment/{assignment.pk}/change/", {"segment": "Hacked"}
    )
    assert posted.status_code == 403
    assignment.refresh_from_db()
    assert assignment.segment != "Hacked"
