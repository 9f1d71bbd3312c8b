from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from analytics.models import DataVersion, RollupBuild, SalesDaily, SalesTransaction
from analytics.services.rollups import (
    TRANSACTIONS_ROLLUP,
    data_version_get,
    rollups_rebuild,
    rollups_transactions_rebuild,
    transactions_source,
)
from analytics.tests.services.conftest import DAILY_ROW_FIELDS, daily_rollup_is_in_index_order
from analytics.tests.warehouse import sales_dataset as ref
from analytics.tests.warehouse.sales_dataset import generate_lines, store_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Test databases roll back, so data version 1 means different data in each test.
    cache.clear()


def test_rebuild_bumps_the_data_version() -> None:
    assert data_version_get() == 0
    assert rollups_rebuild() == 1
    assert rollups_rebuild() == 2
    assert DataVersion.objects.get().version == 2


def test_daily_rollup_sums_equal_the_lines_per_day_store_category_and_method() -> None:
    lines = generate_lines()
    store_lines(lines)

    rollups_rebuild()

    expected = ref.group(lines, lambda line: (line.date, line.store, line.category, line.payment_method))
    rows = SalesDaily.objects.values_list(*DAILY_ROW_FIELDS)
    assert len(rows) == len(expected)
    for date, store, category, method, gross, discount, net, cost, cost_lines, units, purchases, returns in rows:
        group = expected[(date, store, category, method)]
        costs = [line.cost for line in group if line.cost is not None]
        assert (gross, discount, net) == tuple(
            sum((getattr(line, f) for line in group), Decimal(0)) for f in ("gross", "discount", "net")
        )
        assert (cost, cost_lines) == ((sum(costs, Decimal(0)) if costs else None), len(costs))
        assert units == sum(line.quantity for line in group)
        assert (purchases, returns) == (
            sum(not line.is_return for line in group),
            sum(line.is_return for line in group),
        )


def test_rebuild_replaces_the_previous_rows_in_store_and_date_order() -> None:
    store_lines(generate_lines())
    rollups_rebuild()
    count = SalesDaily.objects.count()
    rollups_rebuild()
    assert SalesDaily.objects.count() == count
    assert daily_rollup_is_in_index_order()


def test_transaction_rollup_has_one_row_per_transaction_and_is_read_once_current() -> None:
    lines = generate_lines()
    store_lines(lines)
    version = rollups_rebuild()
    assert transactions_source(data_version=version).startswith("(")  # computed from the lines meanwhile

    assert rollups_transactions_rebuild() == version

    assert SalesTransaction.objects.count() == len({line.transaction for line in lines})
    purchases = SalesTransaction.objects.exclude(purchase_category_ids=[]).count()
    assert purchases == len(ref.transactions(lines))
    assert RollupBuild.objects.get(name=TRANSACTIONS_ROLLUP).data_version == version
    assert transactions_source(data_version=version) == "analytics_salestransaction"
    assert sum(SalesTransaction.objects.values_list("net_amount", flat=True)) == sum(line.net for line in lines)


def test_transaction_rebuild_is_a_no_op_when_current(django_assert_num_queries) -> None:
    store_lines(generate_lines())
    rollups_rebuild()
    rollups_transactions_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM analytics_salestransaction")
    rollups_transactions_rebuild()
    assert SalesTransaction.objects.count() == 0  # not rebuilt: already built for this version

    rollups_rebuild()
    rollups_transactions_rebuild()
    assert SalesTransaction.objects.count() > 0


def test_rebuild_queues_the_transaction_rollup_after_commit(django_capture_on_commit_callbacks) -> None:
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild()

    (queued,) = OrmQ.objects.all()
    assert SignedPackage.loads(queued.payload)["func"] == "analytics.services.rollups.rollups_transactions_rebuild"


def test_transaction_rebuild_precomputes_the_unfiltered_answers_and_an_import_drops_them() -> None:
    from analytics.models import SalesAnswer

    store_lines(generate_lines())
    version = rollups_rebuild()
    rollups_transactions_rebuild()

    keys = sorted(SalesAnswer.objects.values_list("key", flat=True))
    assert [key.split(":")[1] for key in keys] == sorted(
        ["overview", "store_performance", "seasonality", "discount_impact", "customer_types", "payment_methods"]
    )
    assert all(f":v{version}:" in key for key in keys)

    rollups_rebuild()
    assert not SalesAnswer.objects.exists()
