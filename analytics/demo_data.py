"""Synthetic sales in the layout of the public `customer_shopping_data.csv` (pure, seeded, vectorised).

The shape follows the public file: ten Istanbul malls, its eight categories with their constant unit
prices, `price` as the LINE amount (quantity x unit price), day-first dates without zero padding
between 1 January 2021 and 8 March 2023, and the three payment methods. Unlike the public file,
customers come back (unless `repeat_customers=False`), and a `discount` (an amount) and a `cost`
(the line's total cost) column can be added. Returns are lines with a negative quantity and a
negative line amount.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

MALLS: dict[str, float] = {
    "Mall of Istanbul": 0.20,
    "Kanyon": 0.20,
    "Metrocity": 0.15,
    "Metropol AVM": 0.10,
    "Istinye Park": 0.10,
    "Zorlu Center": 0.05,
    "Cevahir AVM": 0.05,
    "Forum Istanbul": 0.05,
    "Viaport Outlet": 0.05,
    "Emaar Square Mall": 0.05,
}
# Category -> (share of lines, unit price in cents, cost as a share of the price).
CATEGORIES: dict[str, tuple[float, int, float]] = {
    "Clothing": (0.347, 30008, 0.55),
    "Cosmetics": (0.152, 4066, 0.40),
    "Food & Beverage": (0.149, 523, 0.70),
    "Toys": (0.101, 3584, 0.50),
    "Shoes": (0.100, 60017, 0.55),
    "Souvenir": (0.050, 1173, 0.35),
    "Technology": (0.050, 105000, 0.80),
    "Books": (0.051, 1515, 0.60),
}
PAYMENT_METHODS: dict[str, float] = {"Cash": 0.447, "Credit Card": 0.351, "Debit Card": 0.202}
GENDERS: dict[str, float] = {"Female": 0.598, "Male": 0.402}
FIRST_DAY = dt.date(2021, 1, 1)
LAST_DAY = dt.date(2023, 3, 8)
# Discounts given, as a share of the line amount, and how often each is given.
DISCOUNT_RATES = np.array([0, 5, 10, 20])  # percent
DISCOUNT_SHARES = np.array([0.70, 0.12, 0.12, 0.06])
MAX_QUANTITY = 5

COLUMNS = [
    "invoice_no",
    "customer_id",
    "gender",
    "age",
    "category",
    "quantity",
    "price",
    "payment_method",
    "invoice_date",
    "shopping_mall",
]


def _shares(weights: dict) -> np.ndarray:
    values = np.array([w[0] if isinstance(w, tuple) else w for w in weights.values()], dtype=float)
    return values / values.sum()


def _cents_text(cents: np.ndarray) -> np.ndarray:
    """Integer cents -> '1500.40' strings, exactly (no float rounding)."""
    sign = np.where(cents < 0, "-", "")
    magnitude = np.abs(cents)
    whole = (magnitude // 100).astype(str)
    fraction = np.char.zfill((magnitude % 100).astype(str), 2)
    return np.char.add(np.char.add(np.char.add(sign, whole), "."), fraction)


def demo_rows_write(
    path: str | Path,
    *,
    rows: int,
    customers: int | None = None,
    seed: int = 7,
    with_discount_and_cost: bool = True,
    repeat_customers: bool = True,
    return_share: float = 0.0,
    first_day: dt.date = FIRST_DAY,
    last_day: dt.date = LAST_DAY,
    invoice_start: int = 100_000,
    customer_seed: int | None = None,
) -> Path:
    """Write `rows` sales lines to `path` (UTF-8, comma-separated, with a header) and return the path.

    `customers` is how many different customers buy (default: a quarter of the rows when customers
    come back, one per line otherwise). `return_share` of the lines are returns. The lines fall on
    days from `first_day` to `last_day`, their invoices are numbered from `invoice_start`, and a
    `customer_seed` draws the customers' ids from a generator of their own: two files with the same
    customer seed and count share their customers (a history and the daily files that follow it).
    """
    if rows < 0:
        raise ValueError("rows must be >= 0")
    rng = np.random.default_rng(seed)
    path = Path(path)

    if not repeat_customers:
        customer_count = max(rows, 1)
        customer_index = rng.permutation(customer_count)[:rows]
    else:
        customer_count = max(customers or rows // 4, 1)
        # A skewed draw: some customers come back often, most now and then.
        weights = rng.pareto(1.5, customer_count) + 1.0
        customer_index = rng.choice(customer_count, size=rows, p=weights / weights.sum())
    customer_rng = rng if customer_seed is None else np.random.default_rng(customer_seed)
    customer_numbers = customer_rng.choice(900_000, size=customer_count, replace=customer_count > 900_000) + 100_000
    customer_genders = rng.choice(np.array(list(GENDERS)), size=customer_count, p=_shares(GENDERS))
    customer_ages = rng.integers(18, 70, size=customer_count)

    category_names = np.array(list(CATEGORIES))
    unit_cents = np.array([spec[1] for spec in CATEGORIES.values()], dtype=np.int64)
    cost_shares = np.array([spec[2] for spec in CATEGORIES.values()])
    category = rng.choice(len(category_names), size=rows, p=_shares(CATEGORIES))
    quantity = rng.integers(1, MAX_QUANTITY + 1, size=rows)
    if return_share > 0:
        quantity = np.where(rng.random(rows) < return_share, -quantity, quantity)
    line_cents = unit_cents[category] * quantity

    day_count = (last_day - first_day).days + 1
    days = [first_day + dt.timedelta(days=i) for i in range(day_count)]
    day_text = np.array([f"{d.day}/{d.month}/{d.year}" for d in days])
    day = rng.integers(0, day_count, size=rows)

    invoice_numbers = rng.permutation(max(rows, 1))[:rows] + invoice_start

    frame = pd.DataFrame(
        {
            "invoice_no": np.char.add("I", invoice_numbers.astype(str)),
            "customer_id": np.char.add("C", customer_numbers[customer_index].astype(str)),
            "gender": customer_genders[customer_index],
            "age": customer_ages[customer_index],
            "category": category_names[category],
            "quantity": quantity,
            "price": _cents_text(line_cents),
            "payment_method": rng.choice(np.array(list(PAYMENT_METHODS)), size=rows, p=_shares(PAYMENT_METHODS)),
            "invoice_date": day_text[day],
            "shopping_mall": rng.choice(np.array(list(MALLS)), size=rows, p=_shares(MALLS)),
        }
    )
    if with_discount_and_cost:
        rate = rng.choice(DISCOUNT_RATES, size=rows, p=DISCOUNT_SHARES)
        # Half-up rounding in integer arithmetic keeps the amounts exact.
        discount_cents = np.sign(line_cents) * ((np.abs(line_cents) * rate + 50) // 100)
        cost_cents = np.rint(line_cents * cost_shares[category]).astype(np.int64)
        frame["discount"] = _cents_text(discount_cents)
        frame["cost"] = _cents_text(cost_cents)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path
