"""The API's JSON renderer: DRF's, which also passes through answers the view rendered already.

An answer cached as JSON (the sales analytics cache theirs per data version and filter) would
otherwise be unpickled as Python objects and encoded again on every request: for a large answer,
more CPU than the rest of the request. A view returns `Response(RenderedJSON(body))` with `body`
made by this renderer, and the bytes go out as they are, the same bytes the renderer would write.
A client that asks for indented JSON (`Accept: application/json; indent=4`) still gets it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework import renderers


class RenderedJSON(bytes):
    """A body already rendered by `JSONRenderer` (compact, as it renders without an indent)."""


class JSONRenderer(renderers.JSONRenderer):
    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if isinstance(data, RenderedJSON):
            if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
                return bytes(data)
            data = json.loads(data)
        return super().render(data, accepted_media_type, renderer_context)
