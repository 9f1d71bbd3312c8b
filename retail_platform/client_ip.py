"""The client's address as far as we can trust it (the login rate limit keys on it)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the outermost of them saw.

    Same rule as DRF's throttles (NUM_PROXIES): each proxy appends the address it received from,
    so only the last TRUSTED_PROXY_COUNT entries of X-Forwarded-For were written by our proxies.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if proxies <= 0 or not addresses:
        return remote_addr
    return addresses[-min(proxies, len(addresses))]
