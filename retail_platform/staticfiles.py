"""Static files: hashed names, gzip copies and far-future caching in every mode, `make run` included.

whitenoise's CompressedManifestStaticFilesStorage writes a hashed, gzipped copy of every file at
`collectstatic`, and whitenoise serves a hashed name with `Cache-Control: max-age=<10 years>,
immutable`. Django's manifest storage hands out the hashed names only with DEBUG off, though, so
under `make run` (DEBUG on) every page asked for the plain names, which whitenoise serves with
`max-age=0`: 1.5 MB of plotly.js revalidated on every page. This storage hands out the hashed
names whenever `collectstatic` has written its manifest; before that (a `runserver` on a fresh
clone, DEBUG on) it falls back to the plain names, which whitenoise finds in `static/` itself.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name: Any, force: bool = False) -> str:
        if not settings.DEBUG:
            return super().url(name, force)
        try:
            return super().url(name, force=bool(self.hashed_files))
        except ValueError:
            # A file added since the last collectstatic, served under DEBUG by its plain name.
            return super().url(name, force=False)
