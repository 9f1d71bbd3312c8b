import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_form_signs_a_viewer_in_and_the_layout_has_no_console_errors(live_server, viewer, desktop_page) -> None:
    page, problems = desktop_page
    sign_in(page, live_server.url, "viewer1", "pw-viewer1")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").is_visible()
    assert problems.errors == []
