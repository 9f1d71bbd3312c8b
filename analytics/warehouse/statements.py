"""The SQL that keeps the read model: one set of statements for an increment and for a rebuild.

Every statement reads a *source* of lines or transactions and the work tables of the running change
(migration 0016: unlogged, emptied before and after each change, under the data-write lock), so
that adding a batch, taking one away and rebuilding from every line share one text:

- `analytics_wh_parts`: the lines of the change grouped per transaction part (customer, day, store,
  invoice, category, payment method), every sum and count multiplied by the change's sign (+1 to
  add a batch, -1 to take one away);
- `analytics_wh_old`: the transactions the change touches, as they were (taken out of the table);
- `analytics_wh_new`: the same transactions as they are now (parts merged, those left with no line dropped);
- `analytics_wh_customers`: the customers the change touches, and how each summary is brought up to date;
- `analytics_wh_appended`, `analytics_wh_recompute`: summaries to append, transactions to summarise again.

On a Citus cluster the work tables are distributed by customer beside the lines, transactions and
summaries (retail_platform.citus): every statement that joins them does so on the customer, and runs
on each worker over its own shards. The statements that fill the small day tables on the coordinator
(`DAILY_ADD`, `CATEGORY_TRANSACTIONS_ADD`) sum on the workers first and send the sums.

A transaction's key is (customer, day, store, invoice); a customer's transactions are ordered by
(day, store, invoice) everywhere, so an increment appended to a summary equals a rebuilt one.
"""

from __future__ import annotations

EPOCH = "DATE '2000-01-01'"

PARTS_COLUMNS = (
    "customer_id, date, store_id, invoice_no, category_id, payment_method_id, gross, discount, net, purchase_net, "
    "cost, cost_lines, units, lines, purchase_lines, return_lines, purchase_cost_lines, purchase_cost, "
    "purchase_net_with_cost"
)

# The lines of one batch, or every line, per transaction part; %(sign)s is +1 or -1.
PARTS_SELECT = """
SELECT customer_id, date, store_id, invoice_no, category_id, payment_method_id,
       %(sign)s * sum(gross_amount) AS gross,
       %(sign)s * sum(discount_amount) AS discount,
       %(sign)s * sum(net_amount) AS net,
       %(sign)s * coalesce(sum(net_amount) FILTER (WHERE NOT is_return), 0) AS purchase_net,
       %(sign)s * sum(cost) AS cost,
       %(sign)s * count(cost) AS cost_lines,
       %(sign)s * sum(quantity) AS units,
       %(sign)s * count(*) AS lines,
       %(sign)s * count(*) FILTER (WHERE NOT is_return) AS purchase_lines,
       %(sign)s * count(*) FILTER (WHERE is_return) AS return_lines,
       %(sign)s * count(cost) FILTER (WHERE NOT is_return) AS purchase_cost_lines,
       %(sign)s * sum(cost) FILTER (WHERE NOT is_return) AS purchase_cost,
       %(sign)s * sum(net_amount) FILTER (WHERE NOT is_return AND cost IS NOT NULL) AS purchase_net_with_cost
FROM analytics_transactionline {where}
GROUP BY customer_id, date, store_id, invoice_no, category_id, payment_method_id
"""

_DAILY_SUMS = ("gross_sales", "discount", "net_sales", "units", "purchase_lines", "return_lines", "cost_lines")

DAILY_ADD = f"""
INSERT INTO analytics_salesdaily AS d
    (store_id, date, category_id, payment_method_id, gross_sales, discount, net_sales, cost, cost_lines, units,
     purchase_lines, return_lines)
SELECT store_id, date, category_id, payment_method_id, sum(gross), sum(discount), sum(net), sum(cost),
       sum(cost_lines), sum(units), sum(purchase_lines), sum(return_lines)
FROM analytics_wh_parts
GROUP BY store_id, date, category_id, payment_method_id
ORDER BY store_id, date, category_id, payment_method_id
ON CONFLICT (store_id, date, category_id, payment_method_id) DO UPDATE SET
    {", ".join(f"{name} = d.{name} + excluded.{name}" for name in _DAILY_SUMS)},
    cost = CASE WHEN d.cost_lines + excluded.cost_lines = 0 THEN NULL
                ELSE coalesce(d.cost, 0) + coalesce(excluded.cost, 0) END
"""

# After taking lines away: the day rows the change touched that have no line left.
DAILY_EMPTY_DELETE = """
DELETE FROM analytics_salesdaily AS d
USING (SELECT DISTINCT store_id, date, category_id, payment_method_id FROM analytics_wh_parts) AS k
WHERE d.store_id = k.store_id AND d.date = k.date AND d.category_id = k.category_id
  AND d.payment_method_id = k.payment_method_id AND d.purchase_lines + d.return_lines = 0
"""

TRANSACTION_COLUMNS = (
    "customer_id, date, store_id, invoice_no, purchase_category_ids, part_category_ids, part_payment_method_ids, "
    "part_net_amounts, part_purchase_lines, part_lines, net_amount, purchase_net, lines, purchase_lines, "
    "cost_lines, cost, net_with_cost"
)

# The touched transactions, taken out of the table into analytics_wh_old (a key probe each).
TRANSACTIONS_TAKE = f"""
WITH gone AS (
    DELETE FROM analytics_salestransaction AS t
    USING (SELECT DISTINCT customer_id, date, store_id, invoice_no FROM analytics_wh_parts) AS k
    WHERE t.customer_id = k.customer_id AND t.date = k.date AND t.store_id = k.store_id
      AND t.invoice_no = k.invoice_no
    RETURNING t.*
)
INSERT INTO analytics_wh_old ({TRANSACTION_COLUMNS}) SELECT {TRANSACTION_COLUMNS} FROM gone
"""

_TRANSACTION_OUTPUT = """
       coalesce(array_agg(DISTINCT p.category_id) FILTER (WHERE p.purchase_lines > 0), '{}') AS purchase_category_ids,
       array_agg(p.category_id ORDER BY p.category_id, p.payment_method_id) AS part_category_ids,
       array_agg(p.payment_method_id ORDER BY p.category_id, p.payment_method_id) AS part_payment_method_ids,
       array_agg(p.net ORDER BY p.category_id, p.payment_method_id) AS part_net_amounts,
       array_agg(p.purchase_lines::int4 ORDER BY p.category_id, p.payment_method_id) AS part_purchase_lines,
       array_agg(p.lines::int4 ORDER BY p.category_id, p.payment_method_id) AS part_lines,
       sum(p.net) AS net_amount"""

# A transaction part of the change whose transaction the table held (analytics_wh_old has it), or not.
_PART_OF_OLD = """
    EXISTS (
        SELECT 1 FROM analytics_wh_old AS o
        WHERE o.customer_id = p.customer_id AND o.date = p.date AND o.store_id = p.store_id
          AND o.invoice_no = p.invoice_no
    )"""

# The transactions the change brings that were not there (every one of a first load): their parts,
# grouped in one pass, into analytics_wh_new.
TRANSACTIONS_BROUGHT = f"""
INSERT INTO analytics_wh_new ({TRANSACTION_COLUMNS})
SELECT p.customer_id, p.date, p.store_id, p.invoice_no, {_TRANSACTION_OUTPUT},
       sum(p.purchase_net) AS purchase_net, sum(p.lines)::int4 AS lines,
       sum(p.purchase_lines)::int4 AS purchase_lines, sum(p.purchase_cost_lines)::int4 AS cost_lines,
       CASE WHEN sum(p.purchase_cost_lines) = 0 THEN NULL ELSE sum(p.purchase_cost) END AS cost,
       CASE WHEN sum(p.purchase_cost_lines) = 0 THEN NULL ELSE sum(p.purchase_net_with_cost) END AS net_with_cost
FROM analytics_wh_parts AS p
WHERE NOT {_PART_OF_OLD}
GROUP BY p.customer_id, p.date, p.store_id, p.invoice_no
"""

# The transactions the change touches, as they are now, into analytics_wh_new: old parts and the
# change's parts summed per part (a part left with no line goes), the purchase value and cost figures
# summed per transaction; a transaction left with no part is gone. A statement of its own, apart from
# the new transactions, and its CTE not materialised: on a Citus cluster both then run on the workers,
# shard by shard (a set operation or a CTE read twice would be planned through the coordinator).
TRANSACTIONS_MERGE = f"""
INSERT INTO analytics_wh_new ({TRANSACTION_COLUMNS})
WITH touched AS NOT MATERIALIZED (
    SELECT * FROM analytics_wh_parts AS p WHERE {_PART_OF_OLD}
), parts AS (
    SELECT customer_id, date, store_id, invoice_no, category_id, payment_method_id,
           sum(net) AS net, sum(purchase_lines) AS purchase_lines, sum(lines) AS lines
    FROM (
        SELECT customer_id, date, store_id, invoice_no, category_id, payment_method_id, net, purchase_lines, lines
        FROM touched
        UNION ALL
        SELECT o.customer_id, o.date, o.store_id, o.invoice_no, p.category_id, p.payment_method_id, p.net,
               p.purchase_lines, p.lines
        FROM analytics_wh_old AS o,
             unnest(o.part_category_ids, o.part_payment_method_ids, o.part_net_amounts, o.part_purchase_lines,
                    o.part_lines) AS p(category_id, payment_method_id, net, purchase_lines, lines)
    ) AS every_part
    GROUP BY customer_id, date, store_id, invoice_no, category_id, payment_method_id
    HAVING sum(lines) <> 0
), figures AS (
    SELECT customer_id, date, store_id, invoice_no, sum(purchase_net) AS purchase_net,
           sum(cost_lines) AS cost_lines, sum(cost) AS cost, sum(net_with_cost) AS net_with_cost
    FROM (
        SELECT customer_id, date, store_id, invoice_no, purchase_net, purchase_cost_lines AS cost_lines,
               purchase_cost AS cost, purchase_net_with_cost AS net_with_cost
        FROM touched
        UNION ALL
        SELECT customer_id, date, store_id, invoice_no, purchase_net, cost_lines, cost, net_with_cost
        FROM analytics_wh_old
    ) AS every_figure
    GROUP BY customer_id, date, store_id, invoice_no
)
SELECT p.customer_id, p.date, p.store_id, p.invoice_no, {_TRANSACTION_OUTPUT},
       f.purchase_net, sum(p.lines)::int4 AS lines, sum(p.purchase_lines)::int4 AS purchase_lines,
       f.cost_lines::int4 AS cost_lines,
       CASE WHEN f.cost_lines = 0 THEN NULL ELSE f.cost END AS cost,
       CASE WHEN f.cost_lines = 0 THEN NULL ELSE f.net_with_cost END AS net_with_cost
FROM parts AS p
JOIN figures AS f USING (customer_id, date, store_id, invoice_no)
GROUP BY p.customer_id, p.date, p.store_id, p.invoice_no, f.purchase_net, f.cost_lines, f.cost, f.net_with_cost
"""

TRANSACTIONS_PUT = f"""
INSERT INTO analytics_salestransaction ({TRANSACTION_COLUMNS})
SELECT {TRANSACTION_COLUMNS} FROM analytics_wh_new ORDER BY store_id, date
"""


def _counted(table: str, sign: int) -> str:
    """A table of transactions counted per (day, store, category or NULL, payment method or NULL),
    times `sign`: per purchase category, per purchase category and payment method, and (NULL category:
    any) per purchase and per payment method of its purchase lines. Each part is counted apart (on a
    Citus cluster, on the workers, which send the counts)."""
    return (
        f"SELECT date, store_id, category_id, NULL::bigint AS payment_method_id, {sign} * count(*) AS n "
        f"FROM {table}, unnest(purchase_category_ids) AS category_id GROUP BY date, store_id, category_id "
        "UNION ALL "
        f"SELECT date, store_id, p.category_id, p.payment_method_id, {sign} * count(*) "
        f"FROM {table}, unnest(part_category_ids, part_payment_method_ids, part_purchase_lines) "
        "AS p(category_id, payment_method_id, purchase_lines) WHERE p.purchase_lines > 0 "
        "GROUP BY date, store_id, p.category_id, p.payment_method_id "
        "UNION ALL "
        f"SELECT date, store_id, NULL::bigint, NULL::bigint, {sign} * count(*) FROM {table} "
        "WHERE purchase_lines > 0 GROUP BY date, store_id "
        "UNION ALL "
        f"SELECT date, store_id, NULL::bigint, m.payment_method_id, {sign} * count(*) "
        f"FROM {table}, LATERAL (SELECT DISTINCT p.payment_method_id "
        "FROM unnest(part_payment_method_ids, part_purchase_lines) AS p(payment_method_id, purchase_lines) "
        "WHERE p.purchase_lines > 0) AS m GROUP BY date, store_id, m.payment_method_id"
    )


CATEGORY_TRANSACTIONS_ADD = f"""
INSERT INTO analytics_categorytransactionsdaily AS c (date, store_id, category_id, payment_method_id, transactions)
SELECT date, store_id, category_id, payment_method_id, sum(n)
FROM ({_counted("analytics_wh_new", 1)} UNION ALL {_counted("analytics_wh_old", -1)}) AS counted
GROUP BY date, store_id, category_id, payment_method_id
HAVING sum(n) <> 0
ON CONFLICT (category_id, store_id, date, payment_method_id) DO UPDATE
    SET transactions = c.transactions + excluded.transactions
"""

CATEGORY_TRANSACTIONS_EMPTY_DELETE = """
DELETE FROM analytics_categorytransactionsdaily AS c
USING (SELECT DISTINCT date, store_id FROM analytics_wh_old) AS k
WHERE c.date = k.date AND c.store_id = k.store_id AND c.transactions = 0
"""

SUMMARY_COLUMNS = (
    "customer_id, transactions, purchase_transactions, purchase_days, last_date, first_purchase_date, "
    "last_purchase_date, first_store_id, first_category_ids, purchase_store_ids, net, purchase_net, cost_lines, cost, "
    "net_with_cost, "
    "category_ids, category_nets, history"
)


def customer_summary_select(source: str) -> str:
    """One summary row per customer of `source` (a table or subquery of transaction rows holding every
    transaction of each of its customers), in the columns SUMMARY_COLUMNS."""
    return f"""
SELECT a.customer_id, a.transactions, a.purchase_transactions, a.purchase_days, a.last_date,
       a.first_purchase_date, a.last_purchase_date, f.store_id AS first_store_id,
       coalesce(f.purchase_category_ids, '{{}}') AS first_category_ids, a.purchase_store_ids, a.net,
       a.purchase_net, a.cost_lines,
       a.cost, a.net_with_cost, c.category_ids, c.category_nets, a.history
FROM (
    SELECT customer_id, count(*) AS transactions,
           count(*) FILTER (WHERE purchase_lines > 0) AS purchase_transactions,
           count(DISTINCT date) FILTER (WHERE purchase_lines > 0) AS purchase_days,
           max(date) AS last_date,
           min(date) FILTER (WHERE purchase_lines > 0) AS first_purchase_date,
           max(date) FILTER (WHERE purchase_lines > 0) AS last_purchase_date,
           coalesce(array_agg(DISTINCT store_id ORDER BY store_id) FILTER (WHERE purchase_lines > 0), '{{}}')
               AS purchase_store_ids,
           sum(net_amount) AS net, sum(purchase_net) AS purchase_net, sum(cost_lines) AS cost_lines,
           sum(cost) AS cost, sum(net_with_cost) AS net_with_cost,
           string_agg(int4send(date - {EPOCH}) || int8send((net_amount * 100)::int8)
                      || int8send((purchase_net * 100)::int8) || int4send(purchase_lines), ''::bytea
                      ORDER BY date, store_id, invoice_no) AS history
    FROM {source} AS t
    GROUP BY customer_id
) AS a
LEFT JOIN (
    SELECT DISTINCT ON (customer_id) customer_id, store_id, purchase_category_ids
    FROM {source} AS t
    WHERE purchase_lines > 0
    ORDER BY customer_id, date, store_id, invoice_no
) AS f USING (customer_id)
JOIN (
    SELECT customer_id, array_agg(category_id ORDER BY category_id) AS category_ids,
           array_agg(net ORDER BY category_id) AS category_nets
    FROM (
        SELECT t.customer_id, p.category_id, sum(p.net) AS net
        FROM {source} AS t, unnest(t.part_category_ids, t.part_net_amounts) AS p(category_id, net)
        GROUP BY t.customer_id, p.category_id
    ) AS per_category
    GROUP BY customer_id
) AS c USING (customer_id)
"""


# The touched customers (a key probe each into the summaries) and how each summary is brought up to
# date: `new` (no summary yet: made from the change's transactions), `append` (the change only adds
# transactions after the customer's last day: added to the summary), `recompute` (anything else:
# made again from the customer's transactions). %(sign)s as in PARTS_SELECT.
CUSTOMERS_FIND = """
INSERT INTO analytics_wh_customers (customer_id, how)
SELECT k.customer_id,
       CASE WHEN s.customer_id IS NULL AND %(sign)s > 0 THEN 'new'
            WHEN %(sign)s > 0 AND k.first_date > s.last_date THEN 'append'
            ELSE 'recompute' END AS how
FROM (SELECT customer_id, min(date) AS first_date FROM analytics_wh_parts GROUP BY customer_id) AS k
LEFT JOIN analytics_customersummary AS s USING (customer_id)
"""

# A transaction of the customer's that was already there changed: only a recompute is exact.
CUSTOMERS_WITH_CHANGED_TRANSACTIONS = """
UPDATE analytics_wh_customers SET how = 'recompute'
WHERE how = 'append' AND customer_id IN (SELECT customer_id FROM analytics_wh_old)
"""

_CHANGED_TRANSACTIONS = (
    "(SELECT * FROM analytics_wh_new WHERE customer_id IN "
    "(SELECT customer_id FROM analytics_wh_customers WHERE how = '{how}'))"
)

CUSTOMERS_NEW = f"""
INSERT INTO analytics_customersummary ({SUMMARY_COLUMNS})
{customer_summary_select(_CHANGED_TRANSACTIONS.format(how="new"))}
"""

CUSTOMERS_APPENDED = f"""
INSERT INTO analytics_wh_appended ({SUMMARY_COLUMNS})
{customer_summary_select(_CHANGED_TRANSACTIONS.format(how="append"))}
"""

CUSTOMERS_APPEND = """
UPDATE analytics_customersummary AS s SET
    transactions = s.transactions + n.transactions,
    purchase_transactions = s.purchase_transactions + n.purchase_transactions,
    purchase_days = s.purchase_days + n.purchase_days,
    last_date = n.last_date,
    first_purchase_date = coalesce(s.first_purchase_date, n.first_purchase_date),
    last_purchase_date = coalesce(n.last_purchase_date, s.last_purchase_date),
    first_store_id = CASE WHEN s.first_purchase_date IS NULL THEN n.first_store_id ELSE s.first_store_id END,
    first_category_ids = CASE WHEN s.first_purchase_date IS NULL THEN n.first_category_ids
                              ELSE s.first_category_ids END,
    purchase_store_ids = (
        SELECT coalesce(array_agg(DISTINCT store_id ORDER BY store_id), '{}')
        FROM unnest(s.purchase_store_ids || n.purchase_store_ids) AS store_id
    ),
    net = s.net + n.net,
    purchase_net = s.purchase_net + n.purchase_net,
    cost_lines = s.cost_lines + n.cost_lines,
    cost = CASE WHEN s.cost_lines + n.cost_lines = 0 THEN NULL ELSE coalesce(s.cost, 0) + coalesce(n.cost, 0) END,
    net_with_cost = CASE WHEN s.cost_lines + n.cost_lines = 0 THEN NULL
                         ELSE coalesce(s.net_with_cost, 0) + coalesce(n.net_with_cost, 0) END,
    -- Two subqueries, not one assigning both columns: Citus sends a multi-column assignment to the
    -- workers with its columns out of place.
    category_ids = (
        SELECT array_agg(DISTINCT category_id ORDER BY category_id)
        FROM unnest(s.category_ids || n.category_ids) AS both_sides(category_id)
    ),
    category_nets = (
        SELECT array_agg(net ORDER BY category_id)
        FROM (
            SELECT category_id, sum(net) AS net
            FROM unnest(s.category_ids || n.category_ids, s.category_nets || n.category_nets)
                 AS both_sides(category_id, net)
            GROUP BY category_id
        ) AS merged
    ),
    history = s.history || n.history
FROM analytics_wh_appended AS n
WHERE s.customer_id = n.customer_id
"""

CUSTOMERS_RECOMPUTE_DELETE = """
DELETE FROM analytics_customersummary
WHERE customer_id IN (SELECT customer_id FROM analytics_wh_customers WHERE how = 'recompute')
"""

# The transactions of the customers to recompute, read by key (the summary then reads them thrice).
CUSTOMERS_RECOMPUTE_READ = f"""
INSERT INTO analytics_wh_recompute ({TRANSACTION_COLUMNS})
SELECT {TRANSACTION_COLUMNS} FROM analytics_salestransaction
WHERE customer_id IN (SELECT customer_id FROM analytics_wh_customers WHERE how = 'recompute')
"""

CUSTOMERS_RECOMPUTE = f"""
INSERT INTO analytics_customersummary ({SUMMARY_COLUMNS})
{customer_summary_select("analytics_wh_recompute")}
"""

CUSTOMERS_REBUILD = f"""
INSERT INTO analytics_customersummary ({SUMMARY_COLUMNS})
{customer_summary_select("analytics_salestransaction")}
"""

# The days of the lines a batch delivered again (its claims), by key.
CLAIMED_SPAN = """
SELECT min(l.date), max(l.date)
FROM analytics_lineclaim AS c
JOIN analytics_transactionline AS l ON l.row_key = c.row_key AND l.customer_id = c.customer_id
WHERE c.batch_id = %(batch)s
"""

# Every batch's span from its lines and the lines it claims (a batch with neither has none). Each part
# is summed up per batch first (on a Citus cluster, on the workers), then the parts per batch.
BATCH_SPANS_REBUILD = """
UPDATE analytics_importbatch AS b SET first_date = s.first_date, last_date = s.last_date
FROM (
    SELECT b.id, min(d.first_date) AS first_date, max(d.last_date) AS last_date
    FROM analytics_importbatch AS b
    LEFT JOIN (
        SELECT batch_id, min(date) AS first_date, max(date) AS last_date
        FROM analytics_transactionline GROUP BY batch_id
        UNION ALL
        SELECT c.batch_id, min(l.date), max(l.date)
        FROM analytics_lineclaim AS c JOIN analytics_transactionline AS l USING (row_key, customer_id)
        GROUP BY c.batch_id
    ) AS d ON d.batch_id = b.id
    GROUP BY b.id
) AS s
WHERE b.id = s.id
"""

# The statistics the change's statements need of its work tables: the columns they join, group or
# filter on. A plain ANALYZE also samples the arrays and money sums, and that took 0.3-0.4 s of each
# table of a 100,000-line file (the keys alone: under 0.1 s); no statement's plan reads them.
_TRANSACTION_KEYS = "customer_id, date, store_id, invoice_no, purchase_lines"
PARTS_ANALYZE = f"ANALYZE analytics_wh_parts ({_TRANSACTION_KEYS}, category_id, payment_method_id)"
OLD_ANALYZE = f"ANALYZE analytics_wh_old ({_TRANSACTION_KEYS})"
NEW_ANALYZE = f"ANALYZE analytics_wh_new ({_TRANSACTION_KEYS})"

# Every work table, emptied before and after each change.
WORK_TABLES = (
    "analytics_wh_parts",
    "analytics_wh_old",
    "analytics_wh_new",
    "analytics_wh_customers",
    "analytics_wh_appended",
    "analytics_wh_recompute",
)
