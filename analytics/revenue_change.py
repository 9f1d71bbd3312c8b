"""Why revenue changed: the change in net sales from period A to period B split into its drivers.

Pure Decimal arithmetic on totals the read model has already summed; no database.

Factors. Net sales V is the product of four factors,
    V = C x (T / C) x (U / T) x (V / U)
customers C (distinct, with a purchase), transactions per customer, units per transaction and net
price per unit (a transaction as the README defines it; units and net as in the overview). The change
V_B - V_A is split by the logarithmic mean Divisia index, additive form, method I (LMDI-I, Ang 2004):
the contribution of factor x is
    L(V_B, V_A) x ln(x_B / x_A),   L(a, b) = (a - b) / (ln a - ln b), L(a, a) = a,
and because the logs of the factor ratios add up to ln(V_B / V_A), the four contributions add up to
V_B - V_A exactly, with no residual term. A factor that did not move contributes exactly 0 (prices
up 10 % and nothing else: the price part is the whole change). Computed in Decimal with 40
significant digits.

Rounding. Each contribution is rounded to the cent (half away from zero); if the rounded parts do not
add up to the change (each rounding moves a part by up to half a cent, so they can miss by a cent or
two), the missing cents go one each to the parts that rounding moved furthest in the other direction
(largest remainder), ties to the earlier factor. So the rounded parts add up to the change to the
cent and none moves by a cent or more from its exact value.

Where the split is not defined (logarithms need positive numbers):
- a period with no sales at all (0 customers, 0 transactions, 0 units, net 0) against a period that
  has them: the whole change goes to customers, the other parts are 0 (`method = "empty_period"`).
  This is the limit of LMDI-I as that period's customers tend to 0 with its per-customer ratios held
  at the other period's: from no customers to some. Both periods empty: every part is 0;
- net sales of zero or below in a period with sales (returns outweighing purchases), units of zero
  or below (lines without quantities, returns counted as negative units), or lines but no customer
  with a purchase (returns only): no factor split is given (`method = "not_split"`, `factors` empty, `reason` says
  which figure of which period); the whole change is `unexplained`, so a waterfall draws A, one bar
  for the change and B, never a made-up split.
Inconsistent totals (negative counts, transactions without customers or fewer transactions than
customers) are a ValueError.

By store and by category. Each store's contribution is its own change in net sales, net_B - net_A;
they add up to the change. A store with lines in both periods is like-for-like; one with lines only
in A closed (or sold nothing in B), one only in B opened: each group's total is given, and the three
add up to the change. The same for categories (in both, dropped, new). A store or category absent
from a period's mapping had no line in that period; one with lines netting to 0 must be passed with
0 (it was open). The per-store and per-category nets must add up to the period totals (a
ValueError otherwise: a split that does not add up is never returned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

from retail_platform.money import CENT, money

FactorName = Literal["customers", "transactions_per_customer", "units_per_transaction", "price_per_unit"]
FACTORS: tuple[FactorName, ...] = ("customers", "transactions_per_customer", "units_per_transaction", "price_per_unit")
Method = Literal["lmdi", "empty_period", "not_split"]
Presence = Literal["both", "only_a", "only_b"]
StepKind = Literal["total", "part"]

PRECISION = 40  # significant digits of the Decimal logarithms
RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PeriodTotals:
    """One period's totals, as the overview counts them."""

    customers: int
    transactions: int
    units: int
    net: Decimal

    def __post_init__(self) -> None:
        if self.customers < 0 or self.transactions < 0:
            raise ValueError("Customers and transactions cannot be negative.")
        if self.transactions < self.customers or (self.transactions > 0 and self.customers == 0):
            raise ValueError(
                f"{self.transactions} transactions for {self.customers} customers: every customer counted has "
                "a transaction, every transaction a customer."
            )
        if not isinstance(self.net, Decimal) or not self.net.is_finite():
            raise ValueError("Net sales must be a finite Decimal.")

    @property
    def empty(self) -> bool:
        return self.customers == 0 and self.transactions == 0 and self.units == 0 and self.net == 0

    def factors(self) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
        """The four factors, exactly (at PRECISION digits); None without customers or units."""
        if self.customers == 0 or self.units == 0:
            return None
        customers, transactions, units = Decimal(self.customers), Decimal(self.transactions), Decimal(self.units)
        return customers, transactions / customers, units / transactions, self.net / units


@dataclass(frozen=True)
class Factor:
    name: FactorName
    value_a: Decimal | None  # None when the period has no sales (customers exact, ratios to 4 places,
    value_b: Decimal | None  # price per unit to the cent)
    contribution: Decimal  # to the cent


@dataclass(frozen=True)
class WaterfallStep:
    label: str  # "A", a factor name, "unexplained", "B"
    kind: StepKind  # "total" bars stand on the axis, "part" bars float from the running total
    amount: Decimal


@dataclass(frozen=True)
class FactorSplit:
    net_a: Decimal
    net_b: Decimal
    change: Decimal  # net_b - net_a, to the cent
    method: Method
    factors: tuple[Factor, ...]  # the four in FACTORS order; empty when not split
    unexplained: Decimal  # the change when not split, else 0
    reason: str | None  # why not split

    def steps(self) -> tuple[WaterfallStep, ...]:
        """A's net sales, each part, B's: the bars of a waterfall chart."""
        parts = [WaterfallStep(factor.name, "part", factor.contribution) for factor in self.factors]
        if self.method == "not_split":
            parts = [WaterfallStep("unexplained", "part", self.unexplained)]
        return (WaterfallStep("A", "total", self.net_a), *parts, WaterfallStep("B", "total", self.net_b))


def logarithmic_mean(a: Decimal, b: Decimal) -> Decimal:
    """L(a, b) = (a - b) / (ln a - ln b), and a when a = b; a and b positive."""
    if a <= 0 or b <= 0:
        raise ValueError("The logarithmic mean needs positive numbers.")
    with localcontext() as context:
        context.prec = PRECISION
        if a == b:
            return +a
        return (a - b) / (a.ln() - b.ln())


def round_to_total(exact: Sequence[Decimal], total: Decimal) -> tuple[Decimal, ...]:
    """Round each value to the cent so that they add up to `total` (itself in cents): largest remainder.

    Each value is rounded half away from zero; the cents still missing go one at a time to the values
    rounding moved furthest the other way (ties to the earlier value).
    """
    rounded = [money(value) for value in exact]
    missing = int((total - sum(rounded, Decimal(0))) / CENT)
    if abs(missing) > len(exact):
        raise ValueError(f"The parts add up to {sum(exact, Decimal(0))}, not to {total}.")
    step = CENT if missing > 0 else -CENT
    # Furthest moved the other way: exact - rounded largest for a cent added, smallest for one taken.
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - rounded[i]) * step, i))
    for i in order[: abs(missing)]:
        rounded[i] += step
    return tuple(rounded)


def _values(totals: PeriodTotals) -> tuple[Decimal | None, ...]:
    factors = totals.factors()
    if factors is None:
        return (None,) * len(FACTORS)
    customers, per_customer, per_transaction, price = factors
    return (
        customers,
        per_customer.quantize(RATIO_PLACES, ROUND_HALF_UP),
        per_transaction.quantize(RATIO_PLACES, ROUND_HALF_UP),
        money(price),
    )


def _not_positive(totals: PeriodTotals, period: str) -> str | None:
    if totals.customers == 0:
        return f"{period} has sales (net {totals.net}, {totals.units} units) but no customer with a purchase"
    if totals.net <= 0:
        return f"net sales in {period} are {totals.net}: the split needs positive net sales"
    if totals.units <= 0:
        return f"units in {period} are {totals.units}: the split needs positive units"
    return None


def factor_split(a: PeriodTotals, b: PeriodTotals) -> FactorSplit:
    """Split net_b - net_a into customers, transactions per customer, units per transaction and
    price per unit (see the module docstring for the method and the rules)."""
    with localcontext() as context:
        context.prec = PRECISION
        change = b.net - a.net
        rounded_change = money(change)
        reasons = [
            reason
            for totals, period in ((a, "A"), (b, "B"))
            if not totals.empty and (reason := _not_positive(totals, period)) is not None
        ]
        values_a, values_b = _values(a), _values(b)

        def split(method: Method, exact: Sequence[Decimal]) -> FactorSplit:
            parts = round_to_total(exact, rounded_change)
            factors = tuple(
                Factor(name, value_a, value_b, part)
                for name, value_a, value_b, part in zip(FACTORS, values_a, values_b, parts, strict=True)
            )
            return FactorSplit(money(a.net), money(b.net), rounded_change, method, factors, Decimal("0.00"), None)

        if reasons:
            return FactorSplit(
                money(a.net), money(b.net), rounded_change, "not_split", (), rounded_change, "; ".join(reasons)
            )
        if a.empty or b.empty:
            return split("empty_period", [change, Decimal(0), Decimal(0), Decimal(0)])
        factors_a, factors_b = a.factors(), b.factors()
        assert factors_a is not None and factors_b is not None  # positive customers and units
        weight = logarithmic_mean(b.net, a.net)
        return split("lmdi", [weight * (x_b / x_a).ln() for x_a, x_b in zip(factors_a, factors_b, strict=True)])


@dataclass(frozen=True)
class Contribution:
    name: str
    net_a: Decimal | None  # None: no line in A
    net_b: Decimal | None  # None: no line in B
    change: Decimal  # net_b - net_a, a missing period counting 0
    presence: Presence


@dataclass(frozen=True)
class Breakdown:
    change: Decimal  # the sum of every item's change
    in_both: Decimal  # like-for-like stores, continuing categories
    only_a: Decimal  # stores closed (no line in B), categories dropped
    only_b: Decimal  # stores opened (no line in A), new categories
    items: tuple[Contribution, ...]  # largest rise first, largest fall last; ties by name


def breakdown(net_a: Mapping[str, Decimal], net_b: Mapping[str, Decimal]) -> Breakdown:
    """Each name's change in net sales, grouped by presence (see the module docstring)."""
    items = []
    for name in sorted(set(net_a) | set(net_b)):
        before, after = net_a.get(name), net_b.get(name)
        presence: Presence = (
            "both" if before is not None and after is not None else "only_a" if after is None else "only_b"
        )
        before_m = money(before) if before is not None else None
        after_m = money(after) if after is not None else None
        items.append(
            Contribution(name, before_m, after_m, (after_m or Decimal(0)) - (before_m or Decimal(0)), presence)
        )
    items.sort(key=lambda item: (-item.change, item.name))

    def total(presence: Presence) -> Decimal:
        return sum((item.change for item in items if item.presence == presence), Decimal("0.00"))

    return Breakdown(
        change=sum((item.change for item in items), Decimal("0.00")),
        in_both=total("both"),
        only_a=total("only_a"),
        only_b=total("only_b"),
        items=tuple(items),
    )


@dataclass(frozen=True)
class RevenueChange:
    factors: FactorSplit
    stores: Breakdown
    categories: Breakdown


def revenue_change(
    *,
    a: PeriodTotals,
    b: PeriodTotals,
    stores_a: Mapping[str, Decimal],
    stores_b: Mapping[str, Decimal],
    categories_a: Mapping[str, Decimal],
    categories_b: Mapping[str, Decimal],
) -> RevenueChange:
    """The factor split and the store and category breakdowns of one change, checked to add up."""
    for parts, totals, what in (
        (stores_a, a, "stores in A"),
        (stores_b, b, "stores in B"),
        (categories_a, a, "categories in A"),
        (categories_b, b, "categories in B"),
    ):
        summed = sum(parts.values(), Decimal(0))
        if money(summed) != money(totals.net):
            raise ValueError(f"The {what} add up to {summed}, the period's net sales are {totals.net}.")
    return RevenueChange(
        factors=factor_split(a, b),
        stores=breakdown(stores_a, stores_b),
        categories=breakdown(categories_a, categories_b),
    )
