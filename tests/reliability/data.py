"""A little sales data whose customer ids must never reach a viewer."""

from __future__ import annotations

from typing import Any

from analytics.tests import factories

# They look like the retailer's ids, so no page treats them specially.
MARKER_CUSTOMERS = ["C900001", "C900002", "C900003"]
HOSTILE_TEXT = "<script>alert(1)</script>"


def sample_data_create(*, store_names: tuple[str, str] = ("Mall of Istanbul", "Kanyon")) -> dict[str, Any]:
    """Two stores' sales to three customers; returns one object of each kind for filling in addresses."""
    stores = [factories.StoreFactory(name=name) for name in store_names]
    customers = [factories.CustomerFactory(external_id=external_id) for external_id in MARKER_CUSTOMERS]
    batch = factories.ImportBatchFactory()
    for index, customer in enumerate(customers):
        for store in stores:
            factories.TransactionLineFactory(batch=batch, customer=customer, store=store, quantity=index + 1)
    return {"store": stores[0], "customer": customers[0], "batch": batch}
