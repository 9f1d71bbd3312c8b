"""HTML pages leave the server gzipped: the Customers page is about 120 KB of HTML and figure JSON,
30 KB compressed, so a repeat visit (everything else cached) stays under 50 KB.

Only `text/html`: static files are compressed once by `collectstatic` and whitenoise serves those
copies, and API answers are left as they are (a cached answer is sent as stored, with no work per
request; a client that wants them smaller can ask its proxy). Django's GZipMiddleware pads each
response with random bytes against BREACH-style guessing, and the CSRF token in a page is masked
afresh on every response.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class PageGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
