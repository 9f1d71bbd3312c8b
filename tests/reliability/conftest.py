from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.data import sample_data_create


@pytest.fixture
def sample_data(db: None) -> dict[str, Any]:
    return sample_data_create()
