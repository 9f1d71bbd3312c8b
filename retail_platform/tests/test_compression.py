import gzip

from retail_platform.tests.pages import signed_in_client


def test_pages_are_gzipped_for_a_browser_that_accepts_it(staff) -> None:
    client = signed_in_client(staff)
    response = client.get("/imports/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"<h1>Imports</h1>" in gzip.decompress(response.content)
    assert "Content-Encoding" not in client.get("/imports/")  # a client that did not ask


def test_api_answers_are_left_uncompressed(staff) -> None:
    response = signed_in_client(staff).get("/api/ping", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert response.json() == {"ok": True}
