"""Money per customer for the segmentation's summaries and breakdowns: net sales per customer and
category (every line, from the summaries; or under a sales filter, from the transactions' parts), and
the cost figures of each customer's purchase lines before a day. Money is in integer cents.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from django.db import connection

from analytics.warehouse.filters import SalesFilter
from analytics.warehouse.scope import Scope

_CATEGORY_RECORD = np.dtype([("customer_id", ">i8"), ("category_id", ">i8"), ("net_cents", ">i8")])


@dataclass(frozen=True)
class CustomerCategoryNets:
    """Net amount per customer and category (customer pk, category id, cents), one entry per pair."""

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    category_ids: npt.NDArray[np.int64] = field(repr=False)
    net_cents: npt.NDArray[np.int64] = field(repr=False)


def customer_category_nets_get(*, sales_filter: SalesFilter | None = None) -> CustomerCategoryNets:
    """Net amount per customer and category: over every line from the summaries, or, with a filter,
    over the lines in scope (dates, stores, categories) from the transactions' parts."""
    if sales_filter is None or sales_filter.is_empty:
        return _summaries_category_nets()
    scope = Scope(sales_filter=sales_filter)
    clauses, params = scope.common_where()
    part_clause = ""
    if sales_filter.categories:
        part_clause = "WHERE p.category_id = ANY(%s)"
        params = [*params, scope.category_ids]
    where = " AND ".join(clauses) or "TRUE"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(int8send(customer_id) || int8send(category_id) || int8send((net * 100)::int8),"
            " ''::bytea)"
            " FROM (SELECT customer_id, p.category_id, sum(p.net) AS net FROM"
            f" (SELECT * FROM analytics_salestransaction WHERE {where}) AS t,"
            " unnest(t.part_category_ids, t.part_net_amounts) AS p(category_id, net)"
            f" {part_clause} GROUP BY customer_id, p.category_id) AS per_pair",
            params,
        )
        (packed,) = cursor.fetchone()
    records = np.frombuffer(bytes(packed or b""), dtype=_CATEGORY_RECORD)
    return CustomerCategoryNets(
        customer_ids=records["customer_id"].astype(np.int64),
        category_ids=records["category_id"].astype(np.int64),
        net_cents=records["net_cents"].astype(np.int64),
    )


def _summaries_category_nets() -> CustomerCategoryNets:
    """The summaries' per-category nets. Their arrays go out as text, not unnested into one record per
    pair (half the time): a numeric(18, 2) always prints two decimals, so without its point each net
    reads as its exact cents."""
    with connection.cursor() as cursor:
        # No ORDER BY: the aggregates of the one node take the rows in the same order.
        cursor.execute(
            "SELECT string_agg(int8send(customer_id) || int4send(cardinality(category_ids)), ''::bytea),"
            " string_agg(array_to_string(category_ids, ','), ','), string_agg(array_to_string(category_nets, ','), ',')"
            " FROM analytics_customersummary WHERE cardinality(category_ids) > 0"
        )
        packed, category_ids, nets = cursor.fetchone()
    customers = np.frombuffer(bytes(packed or b""), dtype=[("customer_id", ">i8"), ("categories", ">i4")])
    categories = np.fromstring(category_ids or "", dtype=np.int64, sep=",")
    net_cents = np.fromstring((nets or "").replace(".", ""), dtype=np.int64, sep=",")
    pairs = int(customers["categories"].sum())
    if not len(categories) == len(net_cents) == (nets or "").count(".") == pairs:
        raise ValueError("The customer summaries' category nets did not read back as one net per category.")
    return CustomerCategoryNets(
        customer_ids=np.repeat(customers["customer_id"].astype(np.int64), customers["categories"].astype(np.int64)),
        category_ids=categories,
        net_cents=net_cents,
    )


@dataclass(frozen=True)
class CustomerCosts:
    """Per customer with a purchase line carrying a cost before a day: those lines' count, cost and net."""

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    cost_lines: npt.NDArray[np.int64] = field(repr=False)
    cost_cents: npt.NDArray[np.int64] = field(repr=False)
    net_with_cost_cents: npt.NDArray[np.int64] = field(repr=False)


def customer_costs_before(*, day: datetime.date) -> CustomerCosts:
    """Cost figures of each customer's purchase lines dated before `day` (the summaries hold them for
    the whole history; an earlier as-of date reads the transactions)."""
    record = np.dtype([("customer_id", ">i8"), ("lines", ">i8"), ("cost", ">i8"), ("net", ">i8")])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(int8send(customer_id) || int8send(lines) || int8send(cost) || int8send(net), ''::bytea"
            " ORDER BY customer_id) FROM (SELECT customer_id, sum(cost_lines)::int8 AS lines,"
            " (coalesce(sum(cost), 0) * 100)::int8 AS cost, (coalesce(sum(net_with_cost), 0) * 100)::int8 AS net"
            " FROM analytics_salestransaction WHERE date < %s AND cost_lines > 0 GROUP BY customer_id) AS c",
            [day],
        )
        (packed,) = cursor.fetchone()
    records = np.frombuffer(bytes(packed or b""), dtype=record)
    return CustomerCosts(
        customer_ids=records["customer_id"].astype(np.int64),
        cost_lines=records["lines"].astype(np.int64),
        cost_cents=records["cost"].astype(np.int64),
        net_with_cost_cents=records["net"].astype(np.int64),
    )
