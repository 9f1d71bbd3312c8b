"""Lines encoded by binary_copy arrive in PostgreSQL as the values they stand for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from django.db import connection

from analytics.services.import_csv import binary_copy
from analytics.services.import_csv.columnar_lines import LineArrays
from retail_platform.binary_copy import SIGNATURE, TRAILER

pytestmark = pytest.mark.django_db

CENTS = [0, 1, -1, 99, -100, 150040, -150040, 999_999_999_999, -999_999_999_999, 123_456_789_012]


def lines_of(cents: list[int], *, invoices: list[str], has_cost: list[bool]) -> LineArrays:
    values = np.array(cents, dtype=np.int64)
    count = len(values)
    return LineArrays(
        customer_id=np.arange(1, count + 1, dtype=np.int64),
        store_id=np.full(count, 7, dtype=np.int64),
        category_id=np.full(count, 8, dtype=np.int64),
        payment_method_id=np.full(count, 9, dtype=np.int64),
        date=np.arange(count, dtype=np.int32) - 3,
        quantity=np.arange(count, dtype=np.int64) - 2,
        unit_price=values * 100 + 5,
        gross=values,
        discount=-values,
        net=2 * values % 10**12,
        cost=values // 3,
        has_cost=np.array(has_cost),
        is_return=values < 0,
        invoice=pa.array(invoices),
    )


def copied(lines: LineArrays, keys: np.ndarray) -> list[tuple]:
    columns = ", ".join(binary_copy.COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copied (row_key uuid, batch_id bigint, customer_id bigint, store_id bigint, "
            "category_id bigint, payment_method_id bigint, date date, quantity integer, unit_price numeric(14,4), "
            "gross_amount numeric(14,2), discount_amount numeric(14,2), net_amount numeric(14,2), "
            "is_return boolean, cost numeric(14,2), invoice_no varchar(100))"
        )
        with cursor.copy(f"COPY copied ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(SIGNATURE)
            for chunk in binary_copy.lines_binary(lines, keys=keys, batch_id=42):
                copy.write(chunk)
            copy.write(TRAILER)
        cursor.execute(f"SELECT {columns} FROM copied ORDER BY customer_id")
        return cursor.fetchall()


def test_numbers_dates_keys_and_texts_arrive_as_the_values_they_stand_for():
    invoices = ["I1", "", "Ça\u011fr\u0131-7", "I1", "INV-000004", "x" * 100, "é", "I8", "I9", "I10"]
    has_cost = [True, False, True, True, False, True, False, True, True, False]
    lines = lines_of(CENTS, invoices=invoices, has_cost=has_cost)
    keys = np.frombuffer(bytes(range(16)) * len(CENTS), dtype="V16").copy()
    keys[3] = np.frombuffer(b"\xff" * 16, dtype="V16")[0]

    rows = copied(lines, keys)

    assert len(rows) == len(CENTS)
    for number, row in enumerate(rows):
        cents = CENTS[number]
        key, batch, customer, store, category, method, day, quantity, unit, gross, off, net, returned, cost, inv = row
        assert key.bytes == (b"\xff" * 16 if number == 3 else bytes(range(16)))
        assert (batch, customer, store, category, method) == (42, number + 1, 7, 8, 9)
        assert day == dt.date(2000, 1, 1) + dt.timedelta(days=number - 3)
        assert quantity == number - 2
        assert unit == Decimal(cents * 100 + 5).scaleb(-4)
        assert gross == Decimal(cents).scaleb(-2)
        assert off == Decimal(-cents).scaleb(-2)
        assert net == Decimal(2 * cents % 10**12).scaleb(-2)
        assert returned is (cents < 0)
        assert cost == (Decimal(cents // 3).scaleb(-2) if has_cost[number] else None)
        assert inv == invoices[number]


def test_stored_numerics_keep_their_scale_and_equal_the_same_values_written_as_text():
    lines = lines_of(CENTS, invoices=["I"] * len(CENTS), has_cost=[True] * len(CENTS))
    copied(lines, np.frombuffer(bytes(16 * len(CENTS)), dtype="V16").copy())

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM copied WHERE gross_amount::text <> to_char(gross_amount, 'FM999999999999990.00') "
            "OR unit_price::text <> to_char(unit_price, 'FM9999999999990.0000') OR scale(net_amount) <> 2"
        )
        assert cursor.fetchone()[0] == 0
