"""The read model kept by increments equals the read model rebuilt from the lines, after every step of
a sequence of real imports: overlapping files, returns, an invoice split across two files, a
customer buying again on a later day and on the same day, and a batch taken away again."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from analytics.models import CustomerSummary, ImportBatch, SalesTransaction, Store, TransactionLine
from analytics.tests.services.conftest import mall_csv
from analytics.tests.warehouse.sales_dataset import generate_lines, store_lines
from analytics.tests.warehouse.snapshots import (
    TABLE_ORDERS,
    assert_read_model_equals_a_rebuild,
    read_model_snapshot,
)
from analytics.warehouse import (
    SalesFilter,
    customer_type_list,
    data_version_get,
    overview_get,
    payment_method_list,
    seasonality_get,
    store_performance_list,
    warehouse_batch_remove,
    warehouse_rebuild,
)

pytestmark = pytest.mark.django_db

MALL_DISCOUNT_HEADER = (
    "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall,discount,cost"
)

# Day 1: two customers. A: two invoices in Kanyon, the second a return only; B: one invoice.
FILE_A = (
    "I1,A,Female,28,Clothing,2,300.00,Credit Card,05/01/2023,Kanyon,10.00,150.00",
    "I1,A,Female,28,Shoes,1,120.00,Cash,05/01/2023,Kanyon,0,",
    "I2,A,Female,28,Books,-1,-15.00,Cash,05/01/2023,Kanyon,0,-8.00",
    "I3,B,Male,40,Toys,3,45.00,Debit Card,05/01/2023,Metrocity,0,20.00",
)
# An export overlapping the first (its first line again), A buying on a later day (appended to A's
# summary), B on the same day again (B's summary made again), and C, new.
FILE_B = (
    "I1,A,Female,28,Clothing,2,300.00,Credit Card,05/01/2023,Kanyon,10.00,150.00",
    "I4,A,Female,28,Books,1,25.00,Cash,09/02/2023,Kanyon,0,10.00",
    "I5,B,Male,40,Shoes,1,80.00,Cash,05/01/2023,Metrocity,5.00,",
    "I6,C,Female,33,Clothing,1,60.00,Credit Card,10/02/2023,Kanyon,0,30.00",
)
# Invoice I7 of D split across two files: one line here, the rest (and a return) in the next.
FILE_C = (
    "I7,D,Male,51,Shoes,1,200.00,Credit Card,01/03/2023,Zorlu,20.00,90.00",
    "I8,C,Female,33,Toys,-1,-60.00,Credit Card,11/02/2023,Kanyon,0,",
)
FILE_D = (
    "I7,D,Male,51,Books,2,40.00,Cash,01/03/2023,Zorlu,0,18.00",
    "I7,D,Male,51,Shoes,-1,-200.00,Credit Card,01/03/2023,Zorlu,-20.00,-90.00",
    "I9,E,Female,19,Toys,1,12.50,Cash,02/03/2023,Zorlu,0,",
)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


@pytest.fixture
def import_file(run_import: Callable[..., ImportBatch]) -> Callable[[str, tuple[str, ...]], ImportBatch]:
    def run(name: str, rows: tuple[str, ...]) -> ImportBatch:
        batch = run_import(mall_csv(*rows, header=MALL_DISCOUNT_HEADER), name=name)
        assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
        return batch

    return run


def test_every_import_leaves_the_read_model_equal_to_a_rebuild(import_file) -> None:
    for name, rows in (("a.csv", FILE_A), ("b.csv", FILE_B), ("c.csv", FILE_C), ("d.csv", FILE_D)):
        import_file(name, rows)
        assert_read_model_equals_a_rebuild()

    # The split invoice is one transaction holding both files' lines.
    split = SalesTransaction.objects.get(invoice_no="I7")
    assert (split.lines, split.purchase_lines) == (3, 2)
    assert split.net_amount == 40  # 200 - 20, then 40 and the return of -(200 - 20)
    assert sorted(split.part_lines) == [1, 2]  # Books (1 line), Shoes (2 lines: bought and returned)
    a = CustomerSummary.objects.get(customer__external_id="A")
    assert (a.transactions, a.purchase_transactions, a.purchase_days) == (3, 2, 2)  # I2 holds only a return


def test_taking_a_batch_away_leaves_what_importing_the_others_would(import_file) -> None:
    batches = [import_file(name, rows) for name, rows in (("a.csv", FILE_A), ("b.csv", FILE_B), ("c.csv", FILE_C))]
    batch_d = import_file("d.csv", FILE_D)

    for batch in (batch_d, batches[1]):
        warehouse_batch_remove(batch_id=batch.pk)
        TransactionLine.objects.filter(batch_id=batch.pk).delete()
        assert_read_model_equals_a_rebuild()

    split = SalesTransaction.objects.get(invoice_no="I7")
    assert (split.lines, split.net_amount) == (1, 180)
    assert not CustomerSummary.objects.filter(customer__external_id="E").exists()


def test_taking_every_batch_away_empties_the_read_model(import_file) -> None:
    batches = [import_file(name, rows) for name, rows in (("a.csv", FILE_A), ("c.csv", FILE_C))]
    for batch in batches:
        warehouse_batch_remove(batch_id=batch.pk)
        TransactionLine.objects.filter(batch_id=batch.pk).delete()

    assert all(rows == [] for rows in read_model_snapshot().values())
    assert overview_get(sales_filter=SalesFilter()).transactions == 0


@pytest.mark.parametrize("batches", [1, 2, 5])
def test_a_generated_history_added_in_batches_equals_a_rebuild(batches: int) -> None:
    store_lines(generate_lines(seed=11), batches=batches)
    assert_read_model_equals_a_rebuild()
    assert all(read_model_snapshot()[table] for table in TABLE_ORDERS)


def test_every_change_bumps_the_data_version_and_forgets_the_cached_answers(import_file) -> None:
    batch = import_file("a.csv", FILE_A)
    version = data_version_get()
    before = overview_get(sales_filter=SalesFilter())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_salesanswer")
        assert cursor.fetchone()[0] >= 1

    change = warehouse_batch_remove(batch_id=batch.pk)
    TransactionLine.objects.filter(batch_id=batch.pk).delete()

    assert change.data_version == data_version_get() > version
    with connection.cursor() as cursor:
        # The old answers are gone; the unfiltered answers of the new version were computed in the change.
        cursor.execute("SELECT data_version, count(*) FROM analytics_salesanswer GROUP BY 1")
        assert cursor.fetchall() == [(change.data_version, 6)]
    assert before.transactions == 2 and overview_get(sales_filter=SalesFilter()).transactions == 0
    assert warehouse_rebuild().data_version > change.data_version


def test_adding_a_batch_reads_only_its_lines() -> None:
    """The batch's lines are found through the block-range index, not by reading every line."""
    store_lines(generate_lines(seed=5), batches=2)
    batch_id = TransactionLine.objects.order_by("-batch_id").values_list("batch_id", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the planner's choice on a table this small
        cursor.execute("EXPLAIN SELECT customer_id FROM analytics_transactionline WHERE batch_id = %s", [batch_id])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "analytics_line_batch_brin" in plan


def test_the_rebuild_command_builds_the_same_tables(import_file) -> None:
    import_file("a.csv", FILE_A)
    import_file("b.csv", FILE_B)
    before = read_model_snapshot()
    out = io.StringIO()
    call_command("warehouse_rebuild", stdout=out)
    assert "Read model rebuilt" in out.getvalue()
    assert read_model_snapshot() == before


@pytest.mark.parametrize("batches", [1, 3])
def test_the_unfiltered_answers_from_summaries_equal_those_counted_from_every_transaction(batches: int) -> None:
    # Without a filter, customers come from CustomerSummary and transactions from the day counts; naming
    # every store (the same data) sends each reader through the transactions instead.
    store_lines(generate_lines(seed=5), batches=batches)
    every_store = SalesFilter(stores=tuple(Store.objects.values_list("name", flat=True)))
    for reader in (overview_get, store_performance_list, seasonality_get, customer_type_list, payment_method_list):
        assert reader(sales_filter=SalesFilter()) == reader(sales_filter=every_store), reader.__name__
