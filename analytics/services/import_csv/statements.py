"""The SQL of an import, built from a mapping and a file's header.

Every cell lands in a staging table as text (`c0`, `c1`, ... in the file's column order). From there
the statements here check the cells (one reason per bad cell), fill the dimension tables and turn
the rows into transaction lines with one INSERT ... SELECT. Identifiers come from this module only;
values from the file never enter the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.mappings import DIMENSIONS, MAX_LENGTHS, ColumnMappingSpec

# Money columns hold numeric(14,2); a line amount is capped below that so unit prices fit too.
MAX_LINE_AMOUNT = "1e10"
INT4_MAX = 2**31 - 1
# The number rule, in the syntax PostgreSQL's and Arrow's regular expressions share (applied to the
# cell without its surrounding spaces): an optional sign, digits, and the decimal separator followed
# by digits; with a decimal comma, thousands may be grouped by points (1.234,50). Nothing else: no
# exponent, NaN, Infinity, underscore, hexadecimal, currency sign or lone separator (.5, 5.).
NUMBER_PATTERNS = {
    ".": r"^[+-]?[0-9]{1,40}(\.[0-9]{1,40})?$",
    ",": r"^[+-]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,40})(,[0-9]{1,40})?$",
}
WHOLE_NUMBER_PATTERN = r"^[+-]?[0-9]{1,40}$"
AGE_PATTERN = r"^[0-9]{1,3}$"
MAX_AGE = 150
LOOKUP_TABLES = {"store": "imp_store", "category": "imp_category", "payment_method": "imp_payment"}
DIMENSION_TABLES = {
    "store": "analytics_store",
    "category": "analytics_category",
    "payment_method": "analytics_paymentmethod",
}
# Fields hashed into a line's row key, in this order (the file's raw cells).
KEY_FIELDS = (
    "invoice",
    "customer",
    "date",
    "store",
    "category",
    "payment_method",
    "quantity",
    "price",
    "discount",
    "cost",
)


@dataclass(frozen=True)
class Check:
    """One kind of problem in one column: `bad` is a SQL condition on the row, `reason` a SQL text."""

    field: str
    bad: str
    reason: str


def _text(value: str) -> str:
    """A SQL string literal for text written in this module (never for file content)."""
    return "'" + value.replace("'", "''") + "'"


class ImportStatements:
    def __init__(self, *, spec: ColumnMappingSpec, positions: dict[str, int], headers: list[str], staging: str):
        self.spec = spec
        self.positions = positions
        self.headers = headers
        self.staging = staging
        self.cell_count = len(headers)

    # --- cells -----------------------------------------------------------------------------------

    def has(self, field: str) -> bool:
        return field in self.positions

    def raw(self, field: str) -> str:
        return f"s.c{self.positions[field]}"

    def value(self, field: str) -> str:
        """The trimmed cell, NULL when empty."""
        return f"nullif(btrim({self.raw(field)}), '')"

    def filled(self, field: str) -> str:
        """True when the cell holds more than spaces (cells are never NULL in the staging table)."""
        return f"(btrim({self.raw(field)}) <> '')"

    def number_text(self, field: str) -> str:
        cell = self.raw(field)
        if self.spec.decimal_separator == ",":
            return f"replace(replace({cell}, '.', ''), ',', '.')"
        return cell

    def column_name(self, field: str) -> str:
        return self.headers[self.positions[field]].replace("\ufeff", "").strip()

    # --- checks ----------------------------------------------------------------------------------

    def is_number(self, field: str) -> str:
        """True when the cell is a number by the import's rule (NUMBER_PATTERNS)."""
        return f"(btrim({self.raw(field)}) ~ {_text(NUMBER_PATTERNS[self.spec.decimal_separator])})"

    def _number(self, field: str) -> str:
        """The cell as a numeric. A cell the number rule refuses is made text no cast reads, so that
        the load fails on it as on any other cell that is not a number (PostgreSQL alone would read
        1e3, NaN, Infinity or, from version 16, 1_000)."""
        text = self.number_text(field)
        return f"(CASE WHEN {self.is_number(field)} THEN {text} ELSE {text} || '?' END)::numeric"

    def _amount_ok(self, field: str) -> str:
        """A number that fits the money columns once rounded to cents (numeric(12,2))."""
        return (
            f"CASE WHEN {self.is_number(field)} THEN round(abs({self.number_text(field)}::numeric), 2) "
            f"< {MAX_LINE_AMOUNT} ELSE false END"
        )

    def _quantity_ok(self) -> str:
        """A whole number, within ±2,147,483,647 (the quantity column's integer)."""
        cell = self.raw("quantity")
        return (
            f"CASE WHEN btrim({cell}) ~ {_text(WHOLE_NUMBER_PATTERN)} "
            f"THEN abs(btrim({cell})::numeric) <= {INT4_MAX} ELSE false END"
        )

    def quantity(self) -> str:
        """The quantity cell as an integer (NULL when empty); a cell the rule refuses fails the cast."""
        cell = self.raw("quantity")
        return (
            f"(CASE WHEN btrim({cell}) = '' THEN NULL WHEN btrim({cell}) ~ {_text(WHOLE_NUMBER_PATTERN)} "
            f"THEN btrim({cell}) ELSE {cell} || '?' END)::integer"
        )

    def checks(self) -> list[Check]:
        """Every problem a row can have, one list per column (the first that applies is reported)."""
        checks: list[Check] = []
        required = set(self.spec.required_fields())
        for field in sorted(self.positions, key=lambda name: self.positions[name]):
            if field in required:
                what = {"price": "an amount", "date": "a date", "quantity": "a quantity"}.get(field, f"a {field}")
                checks.append(Check(field, f"NOT {self.filled(field)}", _text(f"empty: {what} is required")))
            if field in MAX_LENGTHS:
                limit = MAX_LENGTHS[field]
                checks.append(
                    Check(
                        field,
                        # octet_length first: it costs nothing and rules out almost every cell.
                        f"octet_length({self.raw(field)}) > {limit} AND length(btrim({self.raw(field)})) > {limit}",
                        _text(f"longer than {limit} characters"),
                    )
                )
            if field == "date":
                # imp_dates holds every distinct date cell, read by `dates.dates_read`, with its reason.
                reason = "coalesce(dt.problem, 'not a readable date')"
                checks.append(Check(field, f"{self.filled(field)} AND dt.d IS NULL", reason))
            elif field in ("price", "cost") or (field == "discount" and self.spec.discount_is == "amount"):
                checks.append(
                    Check(
                        field,
                        f"{self.filled(field)} AND NOT {self._amount_ok(field)}",
                        _text("not a number (or larger than 10,000,000,000)"),
                    )
                )
            elif field == "discount":
                checks.append(
                    Check(
                        field,
                        f"{self.filled(field)} AND NOT CASE WHEN {self.is_number(field)} "
                        f"THEN {self.number_text(field)}::numeric BETWEEN 0 AND 1 ELSE false END",
                        _text("not a discount fraction between 0 and 1"),
                    )
                )
            elif field == "quantity":
                checks.append(
                    Check(
                        field,
                        f"{self.filled(field)} AND NOT {self._quantity_ok()}",
                        _text("not a whole number (or beyond 2,147,483,647)"),
                    )
                )
            elif field == "age":
                checks.append(
                    Check(
                        field,
                        f"{self.filled(field)} AND NOT CASE WHEN btrim({self.raw(field)}) ~ {_text(AGE_PATTERN)} "
                        f"THEN btrim({self.raw(field)})::smallint <= {MAX_AGE} ELSE false END",
                        _text(f"not an age (a whole number from 0 to {MAX_AGE})"),
                    )
                )
        checks.extend(self._line_size_checks())
        return checks

    def _line_size_checks(self) -> list[Check]:
        """Quantity x unit price must fit the money columns."""
        checks: list[Check] = []
        if not self.has("quantity"):
            return checks
        quantity_ok = self._quantity_ok()
        for field, kind in (("price", self.spec.price_is), ("cost", self.spec.cost_is)):
            if self.has(field) and kind == "unit_price":
                checks.append(
                    Check(
                        field,
                        f"CASE WHEN ({quantity_ok}) AND ({self._amount_ok(field)}) "
                        f"THEN abs(btrim({self.raw('quantity')})::numeric * {self.number_text(field)}::numeric) "
                        f">= {MAX_LINE_AMOUNT} ELSE false END",
                        _text("quantity x unit price is larger than 10,000,000,000"),
                    )
                )
        return checks

    def bad_row(self) -> str:
        """A SQL condition true for every row with at least one problem."""
        conditions = [f"({check.bad})" for check in self.checks()]
        conditions.append("s.cells IS NOT NULL")
        return " OR ".join(conditions)

    def date_join(self) -> str:
        return f"LEFT JOIN imp_dates dt ON dt.raw = {self.raw('date')}"

    def count_sql(self) -> str:
        return f"SELECT count(*), count(*) FILTER (WHERE {self.bad_row()}) FROM {self.staging} s {self.date_join()}"

    def errors_sql(self, *, limit: int) -> tuple[str, str]:
        """(the first `limit` problems in file order, the number of problems)."""
        entries = [
            "(0, '', NULL::text, CASE WHEN s.cells IS NOT NULL THEN "
            f"format('has %s cells; the header has {self.cell_count}', s.cells) END)"
        ]
        by_field: dict[str, list[Check]] = {}
        for check in self.checks():
            by_field.setdefault(check.field, []).append(check)
        for field, checks in by_field.items():
            cases = " ".join(f"WHEN {check.bad} THEN {check.reason}" for check in checks)
            entries.append(
                f"({self.positions[field] + 1}, {_text(self.column_name(field))}, left({self.raw(field)}, 200), "
                f"CASE WHEN s.cells IS NOT NULL THEN NULL {cases} END)"
            )
        numbered = f"SELECT coalesce(s.n, row_number() OVER (ORDER BY s.ctid) + 1) AS row_no, s.* FROM {self.staging} s"
        base = (
            f"FROM ({numbered}) s {self.date_join()} "
            f"CROSS JOIN LATERAL (VALUES {', '.join(entries)}) AS e(position, column_name, value, reason) "
            "WHERE e.reason IS NOT NULL"
        )
        listing = (
            f"SELECT s.row_no, e.column_name, e.value, e.reason {base} ORDER BY s.row_no, e.position LIMIT {limit}"
        )
        return listing, f"SELECT count(*) {base}"

    # --- dimensions ------------------------------------------------------------------------------

    def distinct_values_sql(self) -> str | None:
        """Distinct raw cells of the date and dimension columns, in one pass: rows of (field, raw)."""
        fields = [field for field in ("date", *DIMENSIONS, "gender", "age") if self.has(field)]
        if not fields:
            return None
        columns = ", ".join(f"{self.raw(field)} AS {field}" for field in fields)
        sets = ", ".join(f"({field})" for field in fields)
        which = " ".join(f"WHEN GROUPING({field}) = 0 THEN '{field}'" for field in fields)
        raw = "coalesce(" + ", ".join(fields) + ")"
        return (
            f"SELECT CASE {which} END AS field, {raw} AS raw "
            f"FROM (SELECT {columns} FROM {self.staging} s) s GROUP BY GROUPING SETS ({sets})"
        )

    def customers_sql(self) -> str:
        """The distinct customer, gender and age cells (a temporary table; see `dimensions.customers_load`)."""
        gender = self.raw("gender") if self.has("gender") else "NULL::text"
        age = self.raw("age") if self.has("age") else "NULL::text"
        return (
            f"CREATE TEMP TABLE imp_customers ON COMMIT DROP AS "
            f"SELECT DISTINCT {self.raw('customer')} AS raw, {gender} AS gender, {age} AS age FROM {self.staging} s"
        )

    # --- lines -----------------------------------------------------------------------------------

    def _lookup(self, field: str) -> tuple[str, str]:
        """(join clause, id expression) for a dimension."""
        table = LOOKUP_TABLES[field]
        alias = f"l_{field}"
        if self.has(field):
            # LEFT JOIN: a name the lookup lacks (too long) gives NULL, and the NOT NULL column fails.
            return f"LEFT JOIN {table} {alias} ON {alias}.raw = {self.raw(field)}", f"{alias}.id"
        return "", f"(SELECT id FROM {table} WHERE raw = '')"

    def key_text(self) -> str:
        """The mapped cells joined by a unit separator (staging cells are never NULL, so no cell
        is skipped and the fields cannot shift)."""
        parts = [f"{self.raw(field)}" for field in KEY_FIELDS if self.has(field)]
        return "concat_ws(chr(31), " + ", ".join(parts) + ")"

    def lines_select(self, *, batch_id: int, source: str | None = None, row_key: str | None = None) -> str:
        """SELECT of the rows to insert, as transaction-line columns.

        Each level computes its values once per row: OFFSET 0 keeps PostgreSQL from inlining a
        level into the next, which would parse the same cell again for every use of it."""
        spec = self.spec
        quantity = "1"
        if self.has("quantity"):
            quantity = self.quantity()
            if "quantity" not in spec.required_fields():
                quantity = f"coalesce({quantity}, 1)"
        price = self._number("price")
        amount = price if spec.price_is == "line_amount" else f"({price} * s.q)"
        returned = ["q < 0", "amount < 0"]
        if spec.return_invoice_prefix and self.has("invoice"):
            returned.append(f"starts_with(invoice_no, {_text(spec.return_invoice_prefix)})")
        discount = "0::numeric"
        if self.has("discount"):
            discount = f"CASE WHEN {self.filled('discount')} THEN {self._number('discount')} ELSE 0 END"
            if spec.discount_is == "fraction":
                text = self.number_text("discount")
                discount = f"CASE WHEN {discount} BETWEEN 0 AND 1 THEN {discount} ELSE ({text} || '?')::numeric END"
        discount_amount = "discount" if spec.discount_is == "amount" else "abs(amount) * discount"
        cost = "NULL::numeric"
        if self.has("cost"):
            cost = f"CASE WHEN {self.filled('cost')} THEN {self._number('cost')} END"
            cost = cost if spec.cost_is == "line_amount" else f"({cost} * s.q)"
        if self.has("invoice"):
            invoice = f"btrim({self.raw('invoice')})"
        else:
            # Without an invoice column, a customer's purchases on one day form one invoice.
            invoice = f"left(btrim({self.raw('customer')}), 88) || '/' || to_char(s.d, 'YYYY-MM-DD')"
        joins, ids = [], {}
        for field in DIMENSIONS:
            join, id_sql = self._lookup(field)
            joins.append(join)
            ids[field] = id_sql
        key = row_key or f"md5({self.key_text()})::uuid"
        source = source or self.staging
        typed = (
            f"SELECT {key} AS row_key, {invoice} AS invoice_no, cu.id AS customer_id, "
            f"{ids['store']} AS store_id, {ids['category']} AS category_id, "
            f"{ids['payment_method']} AS payment_method_id, s.d AS date, s.q, "
            f"{amount} AS amount, {discount} AS discount, {cost} AS cost "
            # Dates come from the lookup of every distinct date cell (`dates.dates_read`).
            f"FROM (SELECT s.*, {quantity} AS q, dt.d FROM {source} s {self.date_join()} OFFSET 0) s "
            f"LEFT JOIN imp_customer_ids cu ON cu.raw = {self.raw('customer')} "
            f"{' '.join(joins)} OFFSET 0"
        )
        flagged = f"SELECT *, ({' OR '.join(returned)}) AS r, greatest(abs(q), 1) AS m FROM ({typed}) AS lines OFFSET 0"
        # Gross and discount are rounded here so that net = gross - discount holds to the cent; the
        # other money columns are rounded by their column type.
        signed = (
            "SELECT *, CASE WHEN r THEN -round(abs(amount), 2) ELSE round(amount, 2) END AS gross, "
            f"CASE WHEN r THEN -round(abs({discount_amount}), 2) ELSE round(abs({discount_amount}), 2) END AS off "
            f"FROM ({flagged}) AS lines OFFSET 0"
        )
        return (
            f"SELECT row_key, {int(batch_id)}, invoice_no, customer_id, store_id, category_id, payment_method_id, "
            "date, CASE WHEN r THEN -abs(q) ELSE q END, "
            # abs(amount) / quantity to four places, half up, exactly (div truncates: no rounding before).
            "div(abs(amount) * 20000 + m, 2 * m) / 10000, "
            "gross, off, gross - off, CASE WHEN r THEN -abs(cost) ELSE abs(cost) END, r "
            f"FROM ({signed}) AS lines"
        )

    LINE_COLUMNS = (
        "row_key, batch_id, invoice_no, customer_id, store_id, category_id, payment_method_id, date, "
        "quantity, unit_price, gross_amount, discount_amount, net_amount, cost, is_return"
    )

    def insert_sql(self, *, batch_id: int) -> str:
        return (
            f"INSERT INTO analytics_transactionline ({self.LINE_COLUMNS}) "
            f"{self.lines_select(batch_id=batch_id)} "
            "ON CONFLICT (row_key, customer_id) DO NOTHING"
        )

    def bulk_insert_sql(self, *, batch_id: int) -> str:
        """The insert for the bulk path, while the table has no primary key: lines already present
        are left out by an anti-join (copies within the file all go in; see `keys_renumber_sql`)."""
        return (
            f"INSERT INTO analytics_transactionline ({self.LINE_COLUMNS}) "
            f"SELECT * FROM ({self.lines_select(batch_id=batch_id)}) AS new "
            "WHERE NOT EXISTS (SELECT 1 FROM analytics_transactionline t "
            "WHERE t.row_key = new.row_key AND t.customer_id = new.customer_id)"
        )

    def plain_insert_sql(self, *, batch_id: int) -> str:
        """The insert for the bulk path into an empty table."""
        return f"INSERT INTO analytics_transactionline ({self.LINE_COLUMNS}) {self.lines_select(batch_id=batch_id)}"

    @staticmethod
    def keys_renumber_sql(*, batch_id: int) -> str:
        """Give the 2nd, 3rd, ... copy of a line repeated within the batch its own key (as
        `repeated_lines_sql` would have), so that the primary key can be built again. Copies share
        their customer: grouped by it too, every step stays on one shard of a Citus cluster."""
        return (
            "UPDATE analytics_transactionline t "
            "SET row_key = md5(d.row_key::text || ':' || d.occurrence)::uuid FROM ("
            "SELECT ctid AS tid, customer_id, row_key, "
            "row_number() OVER (PARTITION BY customer_id, row_key) AS occurrence "
            f"FROM analytics_transactionline WHERE batch_id = {int(batch_id)} AND (customer_id, row_key) IN ("
            f"SELECT customer_id, row_key FROM analytics_transactionline WHERE batch_id = {int(batch_id)} "
            "GROUP BY customer_id, row_key HAVING count(*) > 1)) d "
            "WHERE t.customer_id = d.customer_id AND t.ctid = d.tid AND d.occurrence > 1"
        )

    def claims_sql(self, *, batch_id: int) -> str:
        """Record the batch's claims on the lines it delivered that were already there (see LineClaim):
        every staged row's key, its copies within the file numbered as the inserts number them, found
        among the lines with its customer (a join by the lines' key, on the worker holding them)."""
        key = f"md5({self.key_text()})::uuid"
        return (
            "INSERT INTO analytics_lineclaim (row_key, customer_id, batch_id) "
            f"SELECT t.row_key, t.customer_id, {int(batch_id)} FROM analytics_transactionline t JOIN ("
            "SELECT CASE WHEN n = 1 THEN base ELSE md5(base::text || ':' || n)::uuid END AS k, customer_id FROM ("
            f"SELECT {key} AS base, cu.id AS customer_id, row_number() OVER (PARTITION BY {key}) AS n "
            f"FROM {self.staging} s JOIN imp_customer_ids cu ON cu.raw = {self.raw('customer')}) AS keyed"
            f") AS keys ON t.row_key = keys.k AND t.customer_id = keys.customer_id WHERE t.batch_id <> {int(batch_id)} "
            "ON CONFLICT DO NOTHING"
        )

    def repeated_lines_sql(self, *, batch_id: int) -> str:
        """Insert the 2nd, 3rd, ... copies of lines repeated within the file, each under its own key.

        Copies of one line are identical, so one row of each group stands for all of them."""
        key = f"md5({self.key_text()})::uuid"
        repeated = (
            f"SELECT s.*, g.occurrence FROM (SELECT DISTINCT ON (d.k) s.*, d.k, d.copies FROM ("
            f"SELECT {key} AS k, count(*) AS copies FROM {self.staging} s GROUP BY 1 HAVING count(*) > 1) d "
            f"JOIN {self.staging} s ON {key} = d.k) s "
            f"CROSS JOIN LATERAL generate_series(2, s.copies) AS g(occurrence)"
        )
        select = self.lines_select(
            batch_id=batch_id, source=f"({repeated})", row_key="md5(s.k::text || ':' || s.occurrence)::uuid"
        )
        return (
            f"INSERT INTO analytics_transactionline ({self.LINE_COLUMNS}) {select} "
            "ON CONFLICT (row_key, customer_id) DO NOTHING"
        )
