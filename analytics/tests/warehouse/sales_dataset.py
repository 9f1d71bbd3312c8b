"""A small sales dataset with everything the analytics must get right, and an independent reference.

The lines are generated in Python (seeded), stored through the factories, and the expected numbers
are computed from the same Python rows with Decimal and sets — never from the rollups or SQL.
The data has repeat and one-time customers, discounts, cost (complete for some categories, partial
for Books), returns (inside purchase invoices and as returns-only invoices, including a customer
whose only lines are returns), invoices spanning categories and payment methods, an invoice number
reused on another day, several stores, categories and payment methods, across three years.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from analytics import models
from analytics.tests import factories
from analytics.warehouse import SalesFilter, warehouse_batch_add, warehouse_rebuild

STORES = ("Kanyon", "Metrocity", "Zorlu Center")
CATEGORIES = ("Books", "Clothing", "Shoes", "Toys")
PAYMENT_METHODS = ("Cash", "Credit Card", "Debit Card")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    invoice_no: str
    customer: str
    store: str
    category: str
    payment_method: str
    date: datetime.date
    quantity: int
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    net: Decimal
    cost: Decimal | None

    @property
    def is_return(self) -> bool:
        return self.quantity < 0

    @property
    def transaction(self) -> tuple[str, datetime.date, str, str]:
        return (self.invoice_no, self.date, self.store, self.customer)


def _line(
    rng: random.Random,
    invoice: str,
    customer: str,
    store: str,
    day: datetime.date,
    payment: str,
    *,
    quantity: int | None = None,
    category: str | None = None,
) -> Line:
    category = category or rng.choice(CATEGORIES)
    quantity = quantity if quantity is not None else rng.randint(1, 4)
    unit_price = Decimal(rng.randint(150, 9999)) / 100
    gross = (unit_price * quantity).quantize(CENT)
    discount = (gross * Decimal(rng.choice([0, 0, 0, 5, 10, 20])) / 100).quantize(CENT)
    cost: Decimal | None = (gross * Decimal("0.55")).quantize(CENT)
    if category == "Books" and rng.random() < 0.5:
        cost = None
    return Line(
        invoice, customer, store, category, payment, day, quantity, unit_price, gross, discount, gross - discount, cost
    )


def generate_lines(seed: int = 7) -> list[Line]:
    rng = random.Random(seed)
    first_day = datetime.date(2021, 1, 1)
    lines: list[Line] = []
    customers = [f"C{n:03d}" for n in range(40)]
    for n in range(160):
        customer = rng.choice(customers[:25]) if rng.random() < 0.6 else rng.choice(customers)
        store = rng.choice(STORES)
        day = first_day + datetime.timedelta(days=rng.randint(0, 800))
        payment = rng.choice(PAYMENT_METHODS)
        invoice = f"I{n:05d}"
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            line_payment = payment if rng.random() < 0.85 else rng.choice(PAYMENT_METHODS)
            lines.append(_line(rng, invoice, customer, store, day, line_payment))
        if rng.random() < 0.1:  # a return inside a purchase invoice
            lines.append(_line(rng, invoice, customer, store, day, payment, quantity=-1))
    for n in range(12):  # returns-only invoices
        customer = rng.choice(customers)
        day = first_day + datetime.timedelta(days=rng.randint(0, 800))
        lines.append(_line(rng, f"R{n:04d}", customer, rng.choice(STORES), day, "Cash", quantity=-rng.randint(1, 2)))
    # A customer whose only lines are returns.
    lines.append(_line(rng, "R9999", "C999", "Kanyon", datetime.date(2022, 5, 3), "Cash", quantity=-1, category="Toys"))
    # The same invoice number on another day in another store: a separate transaction.
    lines.append(_line(rng, "I00000", "C001", "Metrocity", datetime.date(2023, 2, 1), "Debit Card", category="Shoes"))
    return lines


def store_lines(lines: Iterable[Line], *, batches: int = 1, rebuild: bool = False) -> None:
    """Save the lines (through the factories) in `batches` import batches, every n-th line in the same
    one (so invoices are split across batches), each added to the read model as an import adds it; or,
    with `rebuild`, all saved first and the read model rebuilt from them."""
    lines = list(lines)
    stores = {name: factories.StoreFactory(name=name) for name in STORES}
    categories = {name: factories.CategoryFactory(name=name) for name in CATEGORIES}
    methods = {name: factories.PaymentMethodFactory(name=name) for name in PAYMENT_METHODS}
    customers: dict[str, models.Customer] = {}
    for number in range(batches):
        batch = factories.ImportBatchFactory()
        rows = []
        for line in lines[number::batches]:
            if line.customer not in customers:
                customers[line.customer] = factories.CustomerFactory(external_id=line.customer)
            rows.append(
                factories.TransactionLineFactory.build(
                    batch=batch,
                    invoice_no=line.invoice_no,
                    customer=customers[line.customer],
                    store=stores[line.store],
                    category=categories[line.category],
                    payment_method=methods[line.payment_method],
                    date=line.date,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    gross_amount=line.gross,
                    discount_amount=line.discount,
                    net_amount=line.net,
                    cost=line.cost,
                )
            )
        models.TransactionLine.objects.bulk_create(rows)
        if not rebuild:
            warehouse_batch_add(batch_id=batch.pk)
    if rebuild:
        warehouse_rebuild()


# --- The reference: the definitions of the read model's readers, computed on the Python rows. ---


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def in_scope(line: Line, sales_filter: SalesFilter) -> bool:
    return (
        (sales_filter.date_from is None or line.date >= sales_filter.date_from)
        and (sales_filter.date_to is None or line.date <= sales_filter.date_to)
        and (not sales_filter.stores or line.store in sales_filter.stores)
        and (not sales_filter.categories or line.category in sales_filter.categories)
    )


def scoped(lines: list[Line], sales_filter: SalesFilter) -> list[Line]:
    return [line for line in lines if in_scope(line, sales_filter)]


def transactions(lines: list[Line]) -> set[tuple]:
    """Transactions among in-scope lines: those with a purchase line."""
    return {line.transaction for line in lines if not line.is_return}


def totals(lines: list[Line]) -> dict:
    txns = transactions(lines)
    net = sum((line.net for line in lines), Decimal(0))
    return {
        "gross_sales": sum((line.gross for line in lines), Decimal(0)),
        "discount": sum((line.discount for line in lines), Decimal(0)),
        "net_sales": net,
        "units": sum(line.quantity for line in lines),
        "transactions": len(txns),
        "customers": len({txn[3] for txn in txns}),
        "avg_basket": cents(net / len(txns)) if txns else None,
    }


def group(lines: list[Line], key) -> dict:
    grouped: dict = defaultdict(list)
    for line in lines:
        grouped[key(line)].append(line)
    return grouped


def payment_method_transactions(lines: list[Line]) -> dict[str, int]:
    counted: dict[str, set] = defaultdict(set)
    for line in lines:
        if not line.is_return:
            counted[line.payment_method].add(line.transaction)
    return {method: len(txns) for method, txns in counted.items()}


def customer_types(lines: list[Line]) -> dict[str, dict]:
    per_customer_txns: dict[str, set] = defaultdict(set)
    per_customer_net: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        per_customer_net[line.customer] += line.net
        if not line.is_return:
            per_customer_txns[line.customer].add(line.transaction)
    result = {kind: {"customers": 0, "transactions": 0, "net_sales": Decimal(0)} for kind in ("repeat", "one_time")}
    for customer, txns in per_customer_txns.items():
        kind = "repeat" if len(txns) >= 2 else "one_time"
        result[kind]["customers"] += 1
        result[kind]["transactions"] += len(txns)
        result[kind]["net_sales"] += per_customer_net[customer]
    return result


# The filters every selector and endpoint is checked under: none, each alone, combined, and empty.
FILTERS = {
    "none": SalesFilter(),
    "dates": SalesFilter(date_from=datetime.date(2022, 1, 1), date_to=datetime.date(2022, 6, 30)),
    "date_from": SalesFilter(date_from=datetime.date(2022, 11, 15)),
    "date_to": SalesFilter(date_to=datetime.date(2021, 8, 31)),
    "a_year_before_the_data": SalesFilter(date_from=datetime.date(2020, 1, 1), date_to=datetime.date(2022, 2, 28)),
    "stores": SalesFilter(stores=("Kanyon", "Zorlu Center")),
    "category": SalesFilter(categories=("Shoes",)),
    "category_dates_store": SalesFilter(
        date_from=datetime.date(2022, 1, 1),
        date_to=datetime.date(2022, 6, 30),
        stores=("Kanyon",),
        categories=("Books",),
    ),
    "categories": SalesFilter(categories=("Books", "Toys")),
    "all": SalesFilter(
        date_from=datetime.date(2021, 6, 1),
        date_to=datetime.date(2022, 12, 31),
        stores=("Metrocity", "Zorlu Center"),
        categories=("Clothing", "Shoes"),
    ),
    "nothing": SalesFilter(date_from=datetime.date(2030, 1, 1)),
}


def covered_span(lines: list[Line], sales_filter: SalesFilter) -> tuple[datetime.date, datetime.date]:
    """The days the data covers within the filter's dates: the data's own span (every line, whatever the
    store or category), narrowed by date_from and date_to."""
    first, last = min(line.date for line in lines), max(line.date for line in lines)
    return max(first, sales_filter.date_from or first), min(last, sales_filter.date_to or last)


def covered_periods(lines: list[Line], sales_filter: SalesFilter, *, months: int) -> list[dict]:
    """Every month (months=1) or quarter (3) of the covered span, with its label, start and coverage."""
    first, last = covered_span(lines, sales_filter)
    start = datetime.date(first.year, (first.month - 1) // months * months + 1, 1)
    periods = []
    while start <= last:
        following = datetime.date(start.year + (start.month + months - 1) // 12, (start.month + months - 1) % 12 + 1, 1)
        end = following - datetime.timedelta(days=1)
        days = (end - start).days + 1
        covered = (min(end, last) - max(start, first)).days + 1
        label = f"{start:%Y-%m}" if months == 1 else f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        periods.append({"label": label, "start": start, "end": end, "days_in_period": days, "days_covered": covered})
        start = following
    return periods


def month_of_year(lines: list[Line], sales_filter: SalesFilter) -> dict[int, dict]:
    """Per calendar month: the net sales of its completely covered months, and the partly covered years."""
    scoped_lines = scoped(lines, sales_filter)
    nets: dict[str, Decimal] = defaultdict(Decimal)
    for line in scoped_lines:
        nets[f"{line.date:%Y-%m}"] += line.net
    found: dict[int, dict] = {}
    for period in covered_periods(lines, sales_filter, months=1):
        entry = found.setdefault(period["start"].month, {"complete": [], "left_out": []})
        if period["days_covered"] < period["days_in_period"]:
            entry["left_out"].append(period["start"].year)
        else:
            entry["complete"].append(nets[period["label"]])
    return found
