from __future__ import annotations

import pytest
from django.core.cache import cache

from analytics.tests.warehouse.sales_dataset import Line, generate_lines, store_lines


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Test databases roll back, so data version 1 means different data in each test.
    cache.clear()


@pytest.fixture
def sales_lines(db: None) -> list[Line]:
    lines = generate_lines()
    store_lines(lines)
    return lines
