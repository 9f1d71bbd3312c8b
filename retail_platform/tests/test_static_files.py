"""Static files leave the server compressed, under hashed names, cached for good, in every mode the
README offers: DEBUG on (`make run`) and off (the Procfile), once `collectstatic` has run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from retail_platform.tests.pages import signed_in_client

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "retail_platform.staticfiles.StaticFilesStorage"},
}
FOREVER = "max-age=315360000, public, immutable"


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=STORAGES):
        call_command("collectstatic", "--noinput", verbosity=0)
    yield root


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.parametrize("debug", [True, False], ids=["make run (DEBUG on)", "production (DEBUG off)"])
def test_pages_ask_for_hashed_names_served_gzipped_and_immutable(collected: Path, debug: bool, db: None) -> None:
    with override_settings(STATIC_ROOT=collected, STORAGES=STORAGES, DEBUG=debug, STATIC_COLLECTED=debug):
        html = Client().get("/accounts/login/").content.decode()
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', html)
        assert stylesheet, html[:800]
        response = Client().get(stylesheet.group(1), HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert response["Cache-Control"] == FOREVER
        assert response["Content-Encoding"] == "gzip"
        assert len(_body(response)) < (collected / "css" / "app.css").stat().st_size


def test_runserver_under_debug_serves_the_files_as_edited(collected: Path, db: None) -> None:
    with override_settings(STATIC_ROOT=collected, STORAGES=STORAGES, DEBUG=True, STATIC_COLLECTED=False):
        html = Client().get("/accounts/login/").content.decode()
        assert 'href="/static/css/app.css"' in html


@pytest.mark.parametrize("debug", [True, False])
def test_plotly_is_the_partial_bundle_under_a_hashed_name(collected: Path, debug: bool, staff) -> None:
    with override_settings(STATIC_ROOT=collected, STORAGES=STORAGES, DEBUG=debug, STATIC_COLLECTED=debug):
        html = signed_in_client(staff).get("/imports/").content.decode()
        assert "plotly" not in html  # no chart on the page, no plotly.js
        from django.templatetags.static import static

        url = static("vendor/plotly/plotly-cartesian.min.js")
        assert re.fullmatch(r"/static/vendor/plotly/plotly-cartesian\.min\.[0-9a-f]{12}\.js", url)
        response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert response["Cache-Control"] == FOREVER
        # The cartesian bundle, gzipped: about 0.5 MB (the full bundle was 4.8 MB, 1.5 MB gzipped).
        assert len(_body(response)) < 550_000


def test_the_bundle_holds_every_trace_type_the_charts_draw() -> None:
    root = Path(__file__).resolve().parents[2]
    bundle = (root / "static/vendor/plotly/plotly-cartesian.min.js").read_text()
    assert "plotly.js (cartesian - minified)" in bundle[:200]
    in_bundle = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    chart_modules = [
        path
        for app in ("analytics", "segmentation", "campaigns")
        for path in (root / app).rglob("*.py")
        if "charts" in path.relative_to(root).as_posix() and "tests" not in path.parts
    ]
    assert len(chart_modules) >= 5  # analytics/charts/*, segmentation's two, campaigns'
    drawn = {
        trace
        for module in chart_modules
        for trace in re.findall(r'"type": "(\w+)"', module.read_text())
        if trace not in ("line", "rect", "category", "date")  # shapes and axis types
    }
    assert {"bar", "scatter", "heatmap"} <= drawn
    assert drawn <= in_bundle, drawn - in_bundle


def test_favicon_ico_is_served_at_the_root(db: None) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert _body(response)[:4] == b"\x00\x00\x01\x00"  # the ICO signature
