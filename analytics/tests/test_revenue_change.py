import math
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import revenue_change as rc
from analytics.revenue_change import PeriodTotals

CDNOW = Path(__file__).resolve().parents[2] / "tests" / "data" / "cdnow_sample.txt"
EMPTY = PeriodTotals(customers=0, transactions=0, units=0, net=Decimal("0.00"))


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    lines = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        names=["master", "customer", "day", "units", "net"],
        dtype={"day": str, "net": str},
    )
    lines["day"] = pd.to_datetime(lines["day"], format="%Y%m%d").dt.date
    lines["net"] = lines["net"].map(Decimal)
    return lines


def totals(lines: pd.DataFrame) -> PeriodTotals:
    """Totals as the README counts them: a transaction = a customer's purchases on one day."""
    return PeriodTotals(
        customers=lines["customer"].nunique(),
        transactions=len(lines.drop_duplicates(["customer", "day"])),
        units=int(lines["units"].sum()),
        net=sum(lines["net"], Decimal(0)),
    )


def between(lines: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return lines[(lines["day"] >= start) & (lines["day"] <= end)]


def float_lmdi(a: PeriodTotals, b: PeriodTotals) -> list[float]:
    """LMDI-I in plain floats, written out independently of the module."""

    def factors(t: PeriodTotals) -> np.ndarray:
        return np.array([t.customers, t.transactions / t.customers, t.units / t.transactions, float(t.net) / t.units])

    va, vb = float(a.net), float(b.net)
    weight = va if va == vb else (vb - va) / (math.log(vb) - math.log(va))
    return list(weight * np.log(factors(b) / factors(a)))


def contributions(split: rc.FactorSplit) -> dict[str, Decimal]:
    return {factor.name: factor.contribution for factor in split.factors}


def test_cdnow_1997_q2_against_q3(cdnow: pd.DataFrame) -> None:
    a = totals(between(cdnow, date(1997, 4, 1), date(1997, 6, 30)))
    b = totals(between(cdnow, date(1997, 7, 1), date(1997, 9, 30)))
    assert (a.customers, a.transactions, a.units, a.net) == (524, 920, 2295, Decimal("33629.63"))
    split = rc.factor_split(a, b)
    assert split.method == "lmdi"
    assert split.change == Decimal("-6642.32")
    assert contributions(split) == {
        "customers": Decimal("-6822.52"),
        "transactions_per_customer": Decimal("-368.03"),
        "units_per_transaction": Decimal("90.67"),
        "price_per_unit": Decimal("457.56"),
    }
    assert sum(contributions(split).values()) == split.change
    assert [float(part) for part in contributions(split).values()] == pytest.approx(float_lmdi(a, b), abs=0.005)
    steps = split.steps()
    assert [s.label for s in steps] == ["A", *rc.FACTORS, "B"]
    assert steps[0].amount + sum(s.amount for s in steps[1:-1]) == steps[-1].amount


def test_cdnow_one_day_against_another(cdnow: pd.DataFrame) -> None:
    a = totals(between(cdnow, date(1997, 3, 5), date(1997, 3, 5)))
    b = totals(between(cdnow, date(1997, 3, 6), date(1997, 3, 6)))
    split = rc.factor_split(a, b)
    assert split.method == "lmdi"
    assert sum(contributions(split).values()) == split.change == b.net - a.net
    assert [float(part) for part in contributions(split).values()] == pytest.approx(float_lmdi(a, b), abs=0.01)


def basket_lines(seed: int, customers: int) -> pd.DataFrame:
    """Customers with a few transactions (days) each, a few lines each, prices in cents."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(customers):
        for day in rng.choice(90, size=int(rng.integers(1, 5)), replace=False).tolist():
            for _ in range(int(rng.integers(1, 4))):
                units = int(rng.integers(1, 5))
                rows.append((customer, day, units, int(rng.integers(199, 5000))))
    return pd.DataFrame(rows, columns=["customer", "day", "units", "unit_cents"])


def priced(frame: pd.DataFrame, *, price_factor: Decimal = Decimal(1)) -> pd.DataFrame:
    """Lines with net = units x unit price, the price scaled and rounded to the cent."""
    unit_price = [(Decimal(c) / 100 * price_factor).quantize(Decimal("0.01")) for c in frame["unit_cents"]]
    return frame.assign(net=[price * units for price, units in zip(unit_price, frame["units"], strict=True)])


def test_only_prices_rising_ten_percent_is_all_price() -> None:
    lines = basket_lines(1, 300)
    a, b = totals(priced(lines)), totals(priced(lines, price_factor=Decimal("1.10")))
    split = rc.factor_split(a, b)
    assert contributions(split) == {
        "customers": Decimal("0.00"),
        "transactions_per_customer": Decimal("0.00"),
        "units_per_transaction": Decimal("0.00"),
        "price_per_unit": split.change,
    }
    assert split.change > 0


def test_only_customers_doubling_is_all_customers() -> None:
    lines = priced(basket_lines(2, 250))
    twins = lines.assign(customer=lines["customer"] + 10_000)
    split = rc.factor_split(totals(lines), totals(pd.concat([lines, twins])))
    assert split.change == totals(lines).net
    assert contributions(split)["customers"] == split.change
    assert {name for name, part in contributions(split).items() if part} == {"customers"}


def test_only_more_visits_is_all_transactions_per_customer() -> None:
    lines = priced(basket_lines(3, 250))
    again = lines.assign(day=lines["day"] + 100)  # every basket bought once more on another day
    split = rc.factor_split(totals(lines), totals(pd.concat([lines, again])))
    assert contributions(split)["transactions_per_customer"] == split.change == totals(lines).net
    assert {name for name, part in contributions(split).items() if part} == {"transactions_per_customer"}


def test_only_bigger_baskets_is_all_units_per_transaction() -> None:
    lines = priced(basket_lines(4, 250))
    doubled = lines.assign(units=lines["units"] * 2, net=lines["net"] * 2)
    split = rc.factor_split(totals(lines), totals(doubled))
    assert contributions(split)["units_per_transaction"] == split.change
    assert {name for name, part in contributions(split).items() if part} == {"units_per_transaction"}


def test_a_quarter_more_customers_and_ten_percent_dearer_share_the_change_in_the_ratio_of_their_logs() -> None:
    block = basket_lines(5, 100)

    def copies(n: int) -> pd.DataFrame:  # n copies of the same 100 customers: the same habits
        return pd.concat([block.assign(customer=block["customer"] + 1000 * i) for i in range(n)])

    a, b = totals(priced(copies(4))), totals(priced(copies(5), price_factor=Decimal("1.10")))
    assert (a.customers, b.customers) == (400, 500)
    parts = contributions(rc.factor_split(a, b))
    assert parts["transactions_per_customer"] == parts["units_per_transaction"] == Decimal("0.00")
    assert sum(parts.values()) == b.net - a.net
    price_ratio = float(b.net / b.units) / float(a.net / a.units)  # about 1.1 (prices rounded per line)
    assert float(parts["customers"] / parts["price_per_unit"]) == pytest.approx(
        math.log(1.25) / math.log(price_ratio), rel=1e-5
    )
    assert [float(p) for p in parts.values()] == pytest.approx(float_lmdi(a, b), abs=0.01)


@pytest.mark.parametrize("seed", range(40))
def test_rounded_parts_always_add_up_to_the_change_and_stay_within_a_cent(seed: int) -> None:
    rng = np.random.default_rng(seed)

    def random_totals() -> PeriodTotals:
        customers = int(rng.integers(1, 5000))
        transactions = customers + int(rng.integers(0, 3 * customers))
        units = int(rng.integers(1, 10 * transactions))
        return PeriodTotals(customers, transactions, units, Decimal(int(rng.integers(1, 10**9))) / 100)

    a, b = random_totals(), random_totals()
    split = rc.factor_split(a, b)
    parts = [f.contribution for f in split.factors]
    assert sum(parts) == split.change == b.net - a.net
    exact = float_lmdi(a, b)
    assert all(abs(float(p) - e) < 0.01 + 1e-6 * abs(e) for p, e in zip(parts, exact, strict=True))


def test_round_to_total_gives_the_missing_cent_to_the_part_rounding_moved_furthest() -> None:
    exact = [Decimal("0.333"), Decimal("0.334"), Decimal("0.333")]  # rounded: 0.33 x 3 = 0.99
    assert rc.round_to_total(exact, Decimal("1.00")) == (Decimal("0.33"), Decimal("0.34"), Decimal("0.33"))
    exact = [Decimal("0.006"), Decimal("-0.01"), Decimal("0.005")]  # rounded: 0.01 - 0.01 + 0.01 = 0.01
    assert rc.round_to_total(exact, Decimal("0.00")) == (Decimal("0.01"), Decimal("-0.01"), Decimal("0.00"))
    exact = [Decimal("0.005"), Decimal("0.005"), Decimal("-0.01")]  # a tie: the earlier part gives the cent
    assert rc.round_to_total(exact, Decimal("0.00")) == (Decimal("0.00"), Decimal("0.01"), Decimal("-0.01"))
    exact = [Decimal("0.335"), Decimal("0.3325"), Decimal("-0.6675")]  # 0.34 + 0.33 - 0.67: nothing missing
    assert rc.round_to_total(exact, Decimal("0.00")) == (Decimal("0.34"), Decimal("0.33"), Decimal("-0.67"))


def test_from_an_empty_period_the_whole_change_is_customers() -> None:
    b = PeriodTotals(customers=10, transactions=12, units=30, net=Decimal("450.00"))
    split = rc.factor_split(EMPTY, b)
    assert split.method == "empty_period"
    assert contributions(split) == {
        "customers": Decimal("450.00"),
        "transactions_per_customer": Decimal("0.00"),
        "units_per_transaction": Decimal("0.00"),
        "price_per_unit": Decimal("0.00"),
    }
    assert split.factors[0].value_a is None and split.factors[0].value_b == Decimal(10)
    closing = rc.factor_split(b, EMPTY)
    assert contributions(closing)["customers"] == Decimal("-450.00") == closing.change


def test_two_empty_periods_change_nothing() -> None:
    split = rc.factor_split(EMPTY, EMPTY)
    assert split.change == Decimal("0.00")
    assert all(f.contribution == 0 for f in split.factors) and len(split.factors) == 4


@pytest.mark.parametrize(
    ("a", "reason"),
    [
        (PeriodTotals(customers=3, transactions=3, units=4, net=Decimal("-20.00")), "net sales in A are -20.00"),
        (PeriodTotals(customers=3, transactions=3, units=4, net=Decimal("0.00")), "net sales in A are 0.00"),
        (PeriodTotals(customers=3, transactions=3, units=0, net=Decimal("80.00")), "units in A are 0"),
        (PeriodTotals(customers=0, transactions=0, units=-2, net=Decimal("-15.00")), "no customer with a purchase"),
    ],
)
def test_a_period_without_positive_factors_is_not_split(a: PeriodTotals, reason: str) -> None:
    b = PeriodTotals(customers=10, transactions=12, units=30, net=Decimal("450.00"))
    split = rc.factor_split(a, b)
    assert split.method == "not_split"
    assert split.factors == ()
    assert reason in (split.reason or "")
    assert split.unexplained == split.change == Decimal("450.00") - a.net
    assert [s.label for s in split.steps()] == ["A", "unexplained", "B"]


@pytest.mark.parametrize(
    ("customers", "transactions"),
    [(-1, 0), (5, 4), (0, 3)],
)
def test_inconsistent_counts_are_refused(customers: int, transactions: int) -> None:
    with pytest.raises(ValueError, match=r"negative|transactions"):
        PeriodTotals(customers=customers, transactions=transactions, units=1, net=Decimal(1))


def test_stores_split_into_like_for_like_openings_and_closures() -> None:
    stores_a = {"Kanyon": Decimal("1000.00"), "Metrocity": Decimal("500.00"), "Old Town": Decimal("300.00")}
    stores_b = {"Kanyon": Decimal("1200.00"), "Metrocity": Decimal("350.00"), "Harbour": Decimal("0.00")}
    result = rc.breakdown(stores_a, stores_b)
    assert [(i.name, i.change, i.presence) for i in result.items] == [
        ("Kanyon", Decimal("200.00"), "both"),
        ("Harbour", Decimal("0.00"), "only_b"),  # opened, sold nothing net: still an opening
        ("Metrocity", Decimal("-150.00"), "both"),
        ("Old Town", Decimal("-300.00"), "only_a"),
    ]
    assert (result.in_both, result.only_a, result.only_b) == (Decimal("50.00"), Decimal("-300.00"), Decimal("0.00"))
    assert result.change == Decimal("-250.00") == sum(stores_b.values()) - sum(stores_a.values())
    old_town = result.items[-1]
    assert (old_town.net_a, old_town.net_b) == (Decimal("300.00"), None)


def test_revenue_change_checks_that_stores_and_categories_add_up() -> None:
    a = PeriodTotals(customers=2, transactions=2, units=3, net=Decimal("100.00"))
    b = PeriodTotals(customers=2, transactions=3, units=5, net=Decimal("150.00"))
    result = rc.revenue_change(
        a=a,
        b=b,
        stores_a={"Only in A": Decimal("100.00")},
        stores_b={"Only in B": Decimal("150.00")},
        categories_a={"CDs": Decimal("60.00"), "DVDs": Decimal("40.00")},
        categories_b={"CDs": Decimal("150.00")},
    )
    assert result.factors.change == result.stores.change == result.categories.change == Decimal("50.00")
    assert (result.stores.in_both, result.stores.only_a, result.stores.only_b) == (
        Decimal("0.00"),
        Decimal("-100.00"),
        Decimal("150.00"),
    )
    assert (result.categories.in_both, result.categories.only_a) == (Decimal("90.00"), Decimal("-40.00"))
    with pytest.raises(ValueError, match=r"stores in B add up to 140\.00"):
        rc.revenue_change(
            a=a,
            b=b,
            stores_a={"X": Decimal("100.00")},
            stores_b={"X": Decimal("140.00")},
            categories_a={"CDs": Decimal("100.00")},
            categories_b={"CDs": Decimal("150.00")},
        )
