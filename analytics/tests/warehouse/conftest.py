from __future__ import annotations

import pytest
from django.core.cache import cache

from analytics.tests.warehouse.sales_dataset import Line, generate_lines, store_lines


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Test databases roll back, so data version 1 means different data in each test.
    cache.clear()


@pytest.fixture(params=["increments", "rebuild"])
def sales_lines(request: pytest.FixtureRequest, db: None) -> list[Line]:
    """The dataset stored in three batches added to the read model one by one (invoices split across
    them), or stored at once and the read model rebuilt: every answer must be the same."""
    lines = generate_lines()
    store_lines(lines, batches=3, rebuild=request.param == "rebuild")
    return lines
