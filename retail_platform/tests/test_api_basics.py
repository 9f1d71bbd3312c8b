import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/ping", "/api/ping/"])
def test_ping_answers_with_and_without_trailing_slash(viewer_client: APIClient, path: str) -> None:
    response = viewer_client.get(path)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.django_db
def test_anonymous_api_call_gets_json_error_and_no_data(anon_client: APIClient) -> None:
    response = anon_client.get("/api/ping")
    assert response.status_code in (401, 403)
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == response.status_code
    assert body["error"]["message"]


@pytest.mark.django_db
def test_signed_in_user_without_a_role_is_refused(django_user_model) -> None:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("norole", password="x"))
    assert client.get("/api/ping").status_code == 403
