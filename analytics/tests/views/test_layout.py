import pytest
from django.test import Client

from retail_platform.tests.pages import assert_no_inline_script, signed_in_client

PAGES = ["/", "/trends/", "/customers/", "/imports/", "/simulator/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_person_is_sent_to_the_login_page(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_login_page_labels_both_fields_and_has_no_inline_script() -> None:
    response = Client().get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">' in html and 'id="id_username"' in html
    assert '<label for="id_password">' in html and 'id="id_password"' in html
    assert_no_inline_script(html)


@pytest.mark.django_db
def test_signing_in_through_the_form_lands_on_the_overview(viewer) -> None:
    client = Client(enforce_csrf_checks=False)
    response = client.post("/accounts/login/", {"username": "viewer1", "password": "pw-viewer1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"<h1" in response.content


@pytest.mark.django_db
def test_viewer_navigation_hides_the_simulator_and_admin(viewer) -> None:
    html = signed_in_client(viewer).get("/").content.decode()
    for link in ('href="/"', 'href="/customers/"', 'href="/trends/"', 'href="/imports/"'):
        assert link in html
    assert 'href="/simulator/"' not in html
    assert 'href="/admin/"' not in html


@pytest.mark.django_db
def test_analyst_navigation_shows_the_simulator(analyst) -> None:
    html = signed_in_client(analyst).get("/").content.decode()
    assert 'href="/simulator/"' in html
    assert 'href="/admin/"' not in html


@pytest.mark.django_db
def test_staff_navigation_links_the_admin(staff) -> None:
    assert 'href="/admin/"' in signed_in_client(staff).get("/").content.decode()


@pytest.mark.django_db
def test_current_page_is_marked_in_the_navigation(viewer) -> None:
    html = signed_in_client(viewer).get("/trends/").content.decode()
    assert '<a href="/trends/" aria-current="page">' in html


@pytest.mark.django_db
def test_viewer_is_refused_the_simulator(viewer) -> None:
    assert signed_in_client(viewer).get("/simulator/").status_code == 403


@pytest.mark.django_db
def test_user_without_a_role_is_refused_every_page(django_user_model) -> None:
    client = signed_in_client(django_user_model.objects.create_user("norole", password="x"))
    for path in PAGES:
        assert client.get(path).status_code == 403, path


@pytest.mark.django_db
def test_refused_page_explains_itself_in_the_shared_layout(viewer) -> None:
    response = signed_in_client(viewer).get("/simulator/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "not open to your account" in html
    assert 'href="/customers/"' in html
