from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.reliability.data import sample_data_create


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sample_data(db: None, media_root: Path, tmp_path: Path) -> dict[str, Any]:
    return sample_data_create(directory=tmp_path)
