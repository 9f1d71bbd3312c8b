"""What the column-mapping editor proposes for a sample file (pure: a FileSample in, a frozen Proposal
out; the sample is analytics/mapping_sample.py, the page analytics/views/mappings.py, the dry run
analytics/services/import_preview.py).

What is proposed, and from what:
- a field per column, from its header (a list of the names retailers' exports use, compared without
  case, spaces or punctuation), then from its values (a column of dates for the date);
- the date format from the date cells: a four-digit first part is year-month-day; a first part
  above 12 is a day (day-first), a second part above 12 a day (month-first); when every part is 12
  or less, `auto` (day-first, as the README's rule reads an ambiguous date);
- the decimal separator: a comma when an amount is written `1.234,50` or `12,5` and none `12.50`;
- what the price means: a unit price when its header says so; else, with a quantity column, the
  median price of lines of several units against that of single units: near the quantity ratio
  it grows with the units, so it is the line's amount; near 1 it is a unit price;
- what the discount means: a fraction when every discount lies between 0 and 1 and one is strictly
  between, or its header says rate or percent; otherwise an amount;
- the cost is read the way the price is, unless its header says unit;
- a return-invoice prefix: the letter in front of some invoice numbers when most are plain digits
  (Online Retail II's "C536379").
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analytics.mapping_sample import FileSample
from analytics.mappings import DEFAULTS, FIELDS, REQUIRED_FIELDS, header_key

FIELD_LABELS: dict[str, str] = {
    "invoice": "Invoice number",
    "customer": "Customer id",
    "date": "Date",
    "price": "Price",
    "quantity": "Quantity",
    "store": "Store",
    "category": "Category",
    "payment_method": "Payment method",
    "gender": "Gender",
    "age": "Age",
    "discount": "Discount",
    "cost": "Cost",
}
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "invoice": ("invoice", "invoiceno", "invoicenumber", "invoiceid", "orderid", "ordernumber", "orderno",
                "receipt", "receiptno", "transactionid", "billno"),
    "customer": ("customer", "customerid", "customerno", "customernumber", "clientid", "client", "custid",
                 "memberid", "userid", "buyer"),
    "date": ("date", "invoicedate", "orderdate", "transactiondate", "purchasedate", "saledate", "day",
             "datetime", "timestamp"),
    "price": ("price", "unitprice", "amount", "total", "linetotal", "lineamount", "totalprice", "sales",
              "value", "revenue", "dollarvalue"),
    "quantity": ("quantity", "qty", "units", "pieces", "count"),
    "store": ("store", "shop", "shoppingmall", "mall", "branch", "storename", "location", "outlet", "country"),
    "category": ("category", "productcategory", "categoryname", "department", "productline"),
    "payment_method": ("paymentmethod", "payment", "paymenttype", "tender"),
    "gender": ("gender", "sex"),
    "age": ("age",),
    "discount": ("discount", "discountamount", "discountrate", "discountpct", "rebate", "markdown"),
    "cost": ("cost", "unitcost", "costprice", "cogs", "linecost"),
}  # fmt: skip
DATE_CELL = re.compile(r"^\s*(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})([ T]\d{1,2}:\d{2}(:\d{2})?)?\s*$")
NUMBER_POINT = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
NUMBER_COMMA = re.compile(r"^\s*-?(\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+)\s*$")
PREFIXED_INVOICE = re.compile(r"^([A-Za-z])\d+$")


@dataclass(frozen=True)
class Proposal:
    # The field proposed for each column of the header, "" for none.
    fields: tuple[str, ...]
    date_format: str
    decimal_separator: str
    price_is: str
    discount_is: str
    cost_is: str
    return_invoice_prefix: str
    # Why each option was proposed, for the page: {"date_format": "...", ...}.
    reasons: dict[str, str] = field(default_factory=dict)


def _numbers(values: Sequence[str], decimal_separator: str = ".") -> list[float]:
    numbers = []
    for value in values:
        text = value.strip()
        if decimal_separator == ",":
            text = text.replace(".", "").replace(",", ".")
        try:
            numbers.append(float(text))
        except ValueError:
            continue
    return numbers


def _fields_from_headers(sample: FileSample) -> list[str]:
    chosen: list[str] = []
    taken: set[str] = set()
    for position, header in enumerate(sample.header):
        key = re.sub(r"[^a-z0-9]", "", header_key(header))
        found = ""
        for name in FIELDS:
            if name not in taken and key in HEADER_NAMES[name]:
                found = name
                break
        if found == "date" and not _looks_like_dates(sample.column(position)):
            found = ""
        if found:
            taken.add(found)
        chosen.append(found)
    if "date" not in taken:
        for position, current in enumerate(chosen):
            if not current and _looks_like_dates(sample.column(position)):
                chosen[position] = "date"
                break
    return chosen


def _looks_like_dates(values: Sequence[str]) -> bool:
    return bool(values) and sum(1 for value in values if DATE_CELL.match(value)) >= 0.9 * len(values)


def _date_format(values: Sequence[str]) -> tuple[str, str]:
    parts = [match.groups()[:3] for value in values if (match := DATE_CELL.match(value))]
    if not parts:
        return "auto", "No date cells to look at: day-first, or ISO year-month-day."
    if all(len(first) == 4 for first, _, _ in parts):
        return "ymd", "The dates start with a four-digit year."
    if any(int(first) > 12 for first, _, _ in parts if len(first) < 4):
        return "dmy", "A date starts with a number above 12, so the day comes first."
    if any(int(second) > 12 for _, second, _ in parts):
        return "mdy", "A date's second number is above 12, so the month comes first."
    return "auto", "Every day and month is 12 or less, so the order is not certain: read day-first."


def _decimal_separator(values: Sequence[str]) -> tuple[str, str]:
    comma = sum(1 for value in values if NUMBER_COMMA.match(value))
    point = sum(1 for value in values if NUMBER_POINT.match(value) and "." in value)
    if comma and not point:
        return ",", "Amounts are written like 1.234,50."
    return ".", "Amounts are written like 1234.50."


def _price_is(sample: FileSample, positions: dict[str, int], decimal_separator: str) -> tuple[str, str]:
    header = sample.header[positions["price"]].casefold() if "price" in positions else ""
    if "unit" in header:
        return "unit_price", f"The price column is called '{sample.header[positions['price']]}'."
    if "quantity" not in positions or "price" not in positions:
        return "line_amount", "Without a quantity column the price can only be the line's amount."
    singles, several, quantities = [], [], []
    for row in sample.rows:
        try:
            quantity = float(_numbers([row[positions["quantity"]]])[0])
            price = _numbers([row[positions["price"]]], decimal_separator)[0]
        except (IndexError, ValueError):
            continue
        if quantity == 1:
            singles.append(abs(price))
        elif quantity > 1:
            several.append(abs(price))
            quantities.append(quantity)
    if len(singles) < 3 or len(several) < 3 or not statistics.median(singles):
        return "line_amount", "Too few lines of one unit and of several to tell: read as the line's amount."
    ratio = statistics.median(several) / statistics.median(singles)
    units = statistics.median(quantities)
    if abs(ratio - units) < abs(ratio - 1):
        return "line_amount", (
            f"Lines of several units cost {ratio:.1f} times lines of one (their median quantity is "
            f"{units:g}): the price is the line's amount."
        )
    return "unit_price", (
        f"Lines of several units cost about as much each as lines of one ({ratio:.1f} times): the price is per unit."
    )


def _discount_is(sample: FileSample, positions: dict[str, int], decimal_separator: str) -> tuple[str, str]:
    if "discount" not in positions:
        return "amount", "No discount column."
    header = sample.header[positions["discount"]].casefold()
    if any(word in header for word in ("rate", "pct", "percent", "%")):
        return "fraction", f"The discount column is called '{sample.header[positions['discount']]}'."
    values = _numbers(sample.column(positions["discount"]), decimal_separator)
    if values and all(0 <= value <= 1 for value in values) and any(0 < value < 1 for value in values):
        return "fraction", "Every discount lies between 0 and 1: a share of the line's amount."
    return "amount", "Discounts above 1 (or none between 0 and 1): money off the line."


def _cost_is(sample: FileSample, positions: dict[str, int], price_is: str) -> tuple[str, str]:
    if "cost" not in positions:
        return price_is, "No cost column."
    if "unit" in sample.header[positions["cost"]].casefold():
        return "unit_price", f"The cost column is called '{sample.header[positions['cost']]}'."
    return price_is, "Read the way the price is."


def _return_prefix(sample: FileSample, positions: dict[str, int]) -> tuple[str, str]:
    if "invoice" not in positions:
        return "", "No invoice column."
    values = sample.column(positions["invoice"])
    prefixed = [match.group(1) for value in values if (match := PREFIXED_INVOICE.match(value))]
    plain = sum(1 for value in values if value.isdigit())
    if prefixed and plain >= len(values) / 2 and len(set(prefixed)) == 1:
        return prefixed[0], f"{len(prefixed)} of the first invoices start with '{prefixed[0]}', the others are numbers."
    return "", "Invoice numbers carry no return prefix."


def mapping_propose(sample: FileSample) -> Proposal:
    fields = _fields_from_headers(sample)
    positions = {name: position for position, name in enumerate(fields) if name}
    date_format, date_reason = _date_format(sample.column(positions["date"]) if "date" in positions else [])
    # The amounts' columns when known, else every column but the dates.
    money = [positions[name] for name in ("price", "discount", "cost") if name in positions] or [
        position for position in range(len(sample.header)) if position != positions.get("date")
    ]
    amounts = [value for position in money for value in sample.column(position)]
    separator, separator_reason = _decimal_separator(amounts)
    price_is, price_reason = _price_is(sample, positions, separator)
    discount_is, discount_reason = _discount_is(sample, positions, separator)
    cost_is, cost_reason = _cost_is(sample, positions, price_is)
    prefix, prefix_reason = _return_prefix(sample, positions)
    return Proposal(
        fields=tuple(fields),
        date_format=date_format,
        decimal_separator=separator,
        price_is=price_is,
        discount_is=discount_is,
        cost_is=cost_is,
        return_invoice_prefix=prefix,
        reasons={
            "date_format": date_reason,
            "decimal_separator": separator_reason,
            "price_is": price_reason,
            "discount_is": discount_reason,
            "cost_is": cost_reason,
            "return_invoice_prefix": prefix_reason,
        },
    )


def mapping_build(
    *, header: Sequence[str], fields: Sequence[str], options: dict[str, Any], defaults: dict[str, str]
) -> dict[str, Any]:
    """The JSON mapping (README "Column mappings") for these column choices: unmapped columns are
    listed as ignored, so the import does not warn about them."""
    mapping: dict[str, Any] = {
        "columns": {name: column for column, name in zip(header, fields, strict=True) if name},
        "price_is": options["price_is"],
        "discount_is": options["discount_is"],
        "cost_is": options["cost_is"],
        "date_format": options["date_format"],
        "decimal_separator": options["decimal_separator"],
        "return_invoice_prefix": options.get("return_invoice_prefix") or None,
        "defaults": {name: defaults.get(name) or DEFAULTS[name] for name in DEFAULTS},
        "ignore_columns": [column for column, name in zip(header, fields, strict=True) if not name and column],
    }
    return mapping


def missing_required(fields: Sequence[str], price_is: str) -> list[str]:
    required = (*REQUIRED_FIELDS, "quantity") if price_is == "unit_price" else REQUIRED_FIELDS
    return [name for name in required if name not in fields]
