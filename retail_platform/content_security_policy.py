"""django-csp's middleware, with the policy headers built once instead of on every response.

django-csp builds both header values from the settings for each response (copies, sorts and joins
every directive): as much CPU as the rest of a cached API answer. A response that no view decorated
(`@csp_update`, `@csp_replace`, `@csp`) and for which nothing asked a nonce gets the same values
every time, so those are built once per process, and again when a test changes the settings.
Anything else goes through django-csp unchanged.
"""

from __future__ import annotations

from typing import Any

from csp import middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

# (header, its setting, the response attribute exempting a response from it, report-only)
_HEADERS = (
    (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
    (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
)
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_built: dict[str, tuple[str, tuple[str, ...]]] = {}


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


def _policy(header: str, setting: str, report_only: bool) -> tuple[str, tuple[str, ...]]:
    """The header's value built from the settings alone, and the URL prefixes it leaves out."""
    if header not in _built:
        policy = getattr(settings, setting, None) or {}
        _built[header] = (build_policy(report_only=report_only), tuple(policy.get("EXCLUDE_URL_PREFIXES") or ()))
    return _built[header]


class CSPMiddleware(middleware.CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if settings.DEBUG or getattr(request, "_csp_nonce", None) is not None:
            return super().process_response(request, response)
        if any(getattr(response, name, None) is not None for name in _PER_RESPONSE):
            return super().process_response(request, response)
        for header, setting, exempt, report_only in _HEADERS:
            value, excluded = _policy(header, setting, report_only)
            if (
                value
                and header not in response
                and not getattr(response, exempt, False)
                and not request.path_info.startswith(excluded)
            ):
                response[header] = value
        # As django-csp: asking for a nonce once the header is written is an error, not a silent gap.
        request.csp_nonce = middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
