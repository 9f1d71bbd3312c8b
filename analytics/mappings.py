"""Column mappings: how the columns of a retailer's CSV file become transaction-line fields (pure).

A mapping is a JSON object (the README's "Importing data" section documents it):

    {
      "columns": {"customer": "customer_id", "date": "invoice_date", "price": "price", ...},
      "price_is": "line_amount" | "unit_price",
      "discount_is": "amount" | "fraction",
      "cost_is": "line_amount" | "unit_price",
      "date_format": "auto" | "dmy" | "mdy" | "ymd" | "d.m.y" | ...,
      "decimal_separator": "." | ",",
      "return_invoice_prefix": "C" | null,
      "defaults": {"store": "...", "category": "...", "payment_method": "..."},
      "ignore_columns": ["StockCode", ...]
    }

`columns` maps a field to the header of the file's column. Required fields: `customer`, `date` and
`price` (and `quantity` when the price is a unit price). The others are optional: a mapped column
missing from the file is simply absent. The shipped presets are `mall` (the public
customer_shopping_data.csv) and `online_retail_ii` (the public "Online Retail II" file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELDS: tuple[str, ...] = (
    "invoice",
    "customer",
    "date",
    "price",
    "quantity",
    "store",
    "category",
    "payment_method",
    "gender",
    "age",
    "discount",
    "cost",
)
REQUIRED_FIELDS: tuple[str, ...] = ("customer", "date", "price")
PRICE_IS = ("line_amount", "unit_price")
DISCOUNT_IS = ("amount", "fraction")
COST_IS = ("line_amount", "unit_price")
# The order of day, month and year and the separator between them; `dmy`, `mdy` and `ymd` stand for
# d/m/y, m/d/y and y-m-d, and `auto` picks one per file (services/import_csv/dates.py has the rule).
DATE_FORMATS = (
    "auto",
    "dmy",
    "mdy",
    "ymd",
    "y-m-d",
    "d/m/y",
    "d.m.y",
    "d-m-y",
    "m/d/y",
    "m.d.y",
    "m-d-y",
    "y/m/d",
    "y.m.d",
)
DECIMAL_SEPARATORS = (".", ",")
DIMENSIONS = ("store", "category", "payment_method")
DEFAULTS: dict[str, str] = {"store": "Main store", "category": "Uncategorised", "payment_method": "Unknown"}
# Longest text the data model keeps per field.
MAX_LENGTHS: dict[str, int] = {
    "invoice": 100,
    "customer": 100,
    "store": 200,
    "category": 200,
    "payment_method": 100,
    "gender": 20,
}

PRESETS: dict[str, dict[str, Any]] = {
    "mall": {
        "description": "customer_shopping_data.csv: price is the line amount, dates are day-first.",
        "columns": {
            "invoice": "invoice_no",
            "customer": "customer_id",
            "gender": "gender",
            "age": "age",
            "category": "category",
            "quantity": "quantity",
            "price": "price",
            "payment_method": "payment_method",
            "date": "invoice_date",
            "store": "shopping_mall",
            "discount": "discount",
            "cost": "cost",
        },
        "price_is": "line_amount",
        "discount_is": "amount",
        "cost_is": "line_amount",
        "date_format": "dmy",
    },
    "online_retail_ii": {
        "description": (
            "Online Retail II: Price is a unit price, invoices starting with C are cancellations "
            "(returns), the country is the store, one category for every product."
        ),
        "columns": {
            "invoice": "Invoice",
            "quantity": "Quantity",
            "date": "InvoiceDate",
            "price": "Price",
            "customer": "Customer ID",
            "store": "Country",
        },
        "price_is": "unit_price",
        "date_format": "auto",
        "return_invoice_prefix": "C",
        "defaults": {"category": "All products", "payment_method": "Unknown"},
        "ignore_columns": ["StockCode", "Description"],
    },
}


class MappingError(ValueError):
    """The mapping is not valid; the message says why."""


@dataclass(frozen=True)
class ColumnMappingSpec:
    columns: dict[str, str]
    price_is: str = "line_amount"
    discount_is: str = "amount"
    cost_is: str = "line_amount"
    date_format: str = "auto"
    decimal_separator: str = "."
    return_invoice_prefix: str | None = None
    defaults: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))
    ignore_columns: tuple[str, ...] = ()

    def required_fields(self) -> tuple[str, ...]:
        return (*REQUIRED_FIELDS, "quantity") if self.price_is == "unit_price" else REQUIRED_FIELDS


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = data.get(key, default)
    if value not in choices:
        raise MappingError(f"'{key}' must be one of {', '.join(choices)} (got {value!r}).")
    return value


def mapping_parse(data: Any) -> ColumnMappingSpec:
    """Check a mapping (a dict, or JSON text) and return it with every default filled in."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise MappingError(f"The mapping is not valid JSON: {error}.") from error
    if not isinstance(data, Mapping):
        raise MappingError("The mapping must be a JSON object.")
    known = {
        "columns",
        "price_is",
        "discount_is",
        "cost_is",
        "date_format",
        "decimal_separator",
        "return_invoice_prefix",
        "defaults",
        "ignore_columns",
        "description",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise MappingError(f"Unknown mapping keys: {', '.join(unknown)}. Known keys: {', '.join(sorted(known))}.")
    columns = data.get("columns")
    if not isinstance(columns, Mapping) or not columns:
        raise MappingError("The mapping needs 'columns': an object from field name to the file's column header.")
    bad_fields = sorted(set(columns) - set(FIELDS))
    if bad_fields:
        raise MappingError(f"Unknown fields in 'columns': {', '.join(bad_fields)}. Fields: {', '.join(FIELDS)}.")
    for name, header in columns.items():
        if not isinstance(header, str) or not header.strip():
            raise MappingError(f"The column for '{name}' must be a non-empty header name.")
    spec = ColumnMappingSpec(
        columns={name: header.strip() for name, header in columns.items()},
        price_is=_choice(data, "price_is", PRICE_IS, "line_amount"),
        discount_is=_choice(data, "discount_is", DISCOUNT_IS, "amount"),
        cost_is=_choice(data, "cost_is", COST_IS, "line_amount"),
        date_format=_choice(data, "date_format", DATE_FORMATS, "auto"),
        decimal_separator=_choice(data, "decimal_separator", DECIMAL_SEPARATORS, "."),
        return_invoice_prefix=_prefix(data.get("return_invoice_prefix")),
        defaults=_defaults(data.get("defaults")),
        ignore_columns=_ignore(data.get("ignore_columns")),
    )
    missing = [name for name in spec.required_fields() if name not in spec.columns]
    if missing:
        raise MappingError(f"The mapping must map the required fields: {', '.join(missing)} missing from 'columns'.")
    return spec


def _prefix(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MappingError("'return_invoice_prefix' must be text, such as \"C\".")
    return value


def _defaults(value: Any) -> dict[str, str]:
    defaults = dict(DEFAULTS)
    if value is None:
        return defaults
    if not isinstance(value, Mapping):
        raise MappingError('\'defaults\' must be an object such as {"store": "Main store"}.')
    for name, text in value.items():
        if name not in DIMENSIONS:
            raise MappingError(f"'defaults' takes {', '.join(DIMENSIONS)} (got {name!r}).")
        if not isinstance(text, str) or not text.strip() or len(text.strip()) > MAX_LENGTHS[name]:
            raise MappingError(f"The default {name} must be a name of 1 to {MAX_LENGTHS[name]} characters.")
        defaults[name] = text.strip()
    return defaults


def _ignore(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MappingError("'ignore_columns' must be a list of column headers.")
    return tuple(item.strip() for item in value)


def preset_get(name: str) -> ColumnMappingSpec | None:
    """A shipped preset by name, or None."""
    preset = PRESETS.get(name)
    return mapping_parse(preset) if preset is not None else None


def header_key(text: str) -> str:
    """How headers are compared: surrounding spaces and a byte-order mark ignored, case-insensitive."""
    return text.replace("\ufeff", "").strip().casefold()


@dataclass(frozen=True)
class ResolvedColumns:
    """Where each mapped field sits in a file's header (0-based column positions)."""

    positions: dict[str, int]
    # Mapped required fields whose column the header lacks, as (field, expected header).
    missing_required: tuple[tuple[str, str], ...]
    # Headers no field maps and the mapping does not list as ignored.
    unknown: tuple[str, ...]
    duplicate_headers: tuple[str, ...]


def header_resolve(spec: ColumnMappingSpec, header: list[str]) -> ResolvedColumns:
    """Match the mapping's columns to a file's header."""
    first_position: dict[str, int] = {}
    duplicates: list[str] = []
    for position, text in enumerate(header):
        key = header_key(text)
        if key in first_position:
            duplicates.append(text.strip())
        else:
            first_position[key] = position
    positions = {
        name: first_position[header_key(column)]
        for name, column in spec.columns.items()
        if header_key(column) in first_position
    }
    missing = tuple(
        (name, spec.columns[name]) for name in spec.required_fields() if name not in positions and name in spec.columns
    )
    used = set(positions.values())
    ignored = {header_key(column) for column in spec.ignore_columns}
    unknown = tuple(
        text.replace("\ufeff", "").strip()
        for key, position in first_position.items()
        if position not in used and key not in ignored and key
        for text in [header[position]]
    )
    return ResolvedColumns(
        positions=positions, missing_required=missing, unknown=unknown, duplicate_headers=tuple(duplicates)
    )
