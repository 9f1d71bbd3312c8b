import pytest
from django.test import RequestFactory, override_settings

from retail_platform.client_ip import client_ip_address


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "", "10.0.0.1"),
        (0, "192.0.2.99", "10.0.0.1"),  # no proxy: the header is the client's own invention
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "192.0.2.99, 198.51.100.7", "198.51.100.7"),  # the client's made-up entry comes first
        (2, "192.0.2.99, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (2, "198.51.100.7", "198.51.100.7"),
        (1, " , ", "10.0.0.1"),
    ],
)
def test_client_address_trusts_forwarded_for_only_as_far_as_our_proxies(
    proxies: int, forwarded_for: str, expected: str
) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip_address(request) == expected
