"""Answers rendered ahead go out byte for byte as the renderer would have written them."""

from __future__ import annotations

import json

import pytest

from retail_platform.api.renderers import JSONRenderer, RenderedJSON

DATA = {"store": "Beşiktaş Çarşi", "net_sales": "1234.50", "share": 0.25, "rows": [1, None]}


def test_a_rendered_answer_is_passed_through_unchanged() -> None:
    body = JSONRenderer().render(DATA)

    sent = JSONRenderer().render(RenderedJSON(body), "application/json", {})

    assert sent == body
    assert type(sent) is bytes
    assert json.loads(sent) == {"store": "Beşiktaş Çarşi", "net_sales": "1234.50", "share": 0.25, "rows": [1, None]}


@pytest.mark.parametrize("media_type", ["application/json; indent=2", "application/json;indent=2"])
def test_a_client_asking_for_indented_json_gets_it(media_type: str) -> None:
    body = JSONRenderer().render(DATA)

    sent = JSONRenderer().render(RenderedJSON(body), media_type, {})

    assert sent == JSONRenderer().render(DATA, media_type, {})
    assert b'\n  "store"' in sent


def test_other_data_is_rendered_as_drf_renders_it() -> None:
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

    assert JSONRenderer().render(DATA, "application/json", {}) == DRFJSONRenderer().render(DATA, "application/json", {})
