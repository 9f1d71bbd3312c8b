"""Static files: hashed names, gzip copies and far-future caching in every mode, `make run` included.

whitenoise's CompressedManifestStaticFilesStorage writes a hashed, gzipped copy of every file at
`collectstatic`, and whitenoise serves a hashed name with `Cache-Control: max-age=<10 years>,
immutable`. Django's manifest storage hands out the hashed names only with DEBUG off, though, so
under `make run` (DEBUG on) every page asked for the plain names, which whitenoise serves with
`max-age=0`: 1.5 MB of plotly.js revalidated on every page. With STATIC_COLLECTED on (scripts/run.sh
sets it right after its `collectstatic`) this storage hands out the hashed names under DEBUG too.
Off, DEBUG keeps Django's way: plain names, served from `static/` as they are edited (runserver).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name: Any, force: bool = False) -> str:
        return super().url(name, force=force or bool(getattr(settings, "STATIC_COLLECTED", False)))
