"""The demo data generator (pure: no database)."""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal

from analytics.demo_data import CATEGORIES, COLUMNS, MALLS, PAYMENT_METHODS, demo_rows_write


def read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_rows_follow_the_mall_layout_with_line_amounts_and_day_first_dates(tmp_path):
    rows = read(demo_rows_write(tmp_path / "demo.csv", rows=5000, seed=3))

    assert len(rows) == 5000
    assert list(rows[0]) == [*COLUMNS, "discount", "cost"]
    assert {row["shopping_mall"] for row in rows} == set(MALLS)
    assert {row["payment_method"] for row in rows} == set(PAYMENT_METHODS)
    assert {row["category"] for row in rows} == set(CATEGORIES)
    for row in rows:
        unit = Decimal(CATEGORIES[row["category"]][1]) / 100
        assert Decimal(row["price"]) == unit * int(row["quantity"])
        day, month, year = (int(part) for part in row["invoice_date"].split("/"))
        assert 1 <= day <= 31 and 1 <= month <= 12 and 2021 <= year <= 2023
        assert not row["invoice_date"].startswith("0")
        assert Decimal(row["discount"]) <= Decimal(row["price"])
    clothing = next(row for row in rows if row["category"] == "Clothing" and row["quantity"] == "1")
    assert clothing["price"] == "300.08"


def test_customers_come_back_unless_told_otherwise(tmp_path):
    repeat = read(demo_rows_write(tmp_path / "a.csv", rows=4000, customers=500))
    single = read(demo_rows_write(tmp_path / "b.csv", rows=4000, repeat_customers=False))

    visits = Counter(row["customer_id"] for row in repeat)
    assert len(visits) <= 500
    assert max(visits.values()) > 1
    assert len({row["customer_id"] for row in single}) == 4000
    genders = {}
    for row in repeat:
        assert genders.setdefault(row["customer_id"], (row["gender"], row["age"])) == (row["gender"], row["age"])


def test_returns_have_negative_quantities_and_amounts_when_asked(tmp_path):
    rows = read(demo_rows_write(tmp_path / "r.csv", rows=3000, return_share=0.1))
    plain = read(demo_rows_write(tmp_path / "p.csv", rows=3000))

    returns = [row for row in rows if int(row["quantity"]) < 0]
    assert 150 < len(returns) < 450
    assert all(Decimal(row["price"]) < 0 for row in returns)
    assert not [row for row in plain if int(row["quantity"]) < 0]


def test_the_same_seed_writes_the_same_file_and_columns_can_be_left_out(tmp_path):
    first = demo_rows_write(tmp_path / "1.csv", rows=300, seed=9).read_bytes()
    second = demo_rows_write(tmp_path / "2.csv", rows=300, seed=9).read_bytes()
    bare = read(demo_rows_write(tmp_path / "3.csv", rows=10, with_discount_and_cost=False))

    assert first == second
    assert list(bare[0]) == COLUMNS
