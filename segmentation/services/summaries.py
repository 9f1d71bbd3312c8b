"""What a refit saves with its run for the pages and the simulator, so that no request reads the
transaction lines: the scatter sample, the customers per segment x score cube, the movement from the
previous run, net sales per category x segment, and per K-Means x RFM cell the customers' purchase
history (order values, days since the last purchase, cost figures). The customers' figures come
from the read model (`analytics.warehouse`), never from the lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Q

from analytics.warehouse import (
    customer_category_nets_get,
    customer_costs_before,
    customer_histories_get,
    dimensions_get,
)
from segmentation.activity import CustomerActivity, customer_activity
from segmentation.models import CustomerSegment, SegmentationRun, SegmentCell
from segmentation.selectors import SCATTER_SAMPLE, SCATTER_SEED, scatter_sample_sql

_CELL_COPY_COLUMNS = (
    ("run_id", "int8"),
    ("segment", "text"),
    ("rfm_segment", "text"),
    ("customers", "int4"),
    ("order_values", "bytea"),
    ("days_since_purchase", "bytea"),
    ("cost_lines", "int8"),
    ("cost", "numeric"),
    ("net_with_cost", "numeric"),
)


@dataclass(frozen=True)
class CostFigures:
    """Per customer (pk order): purchase lines carrying a cost, their cost and net, in cents."""

    customer_ids: npt.NDArray[np.int64]
    lines: npt.NDArray[np.int64]
    cost_cents: npt.NDArray[np.int64]
    net_cents: npt.NDArray[np.int64]


@transaction.atomic
def segmentation_run_summaries_save(
    *, run_id: int, activity: CustomerActivity | None = None, costs: CostFigures | None = None
) -> None:
    """Compute from a successful run's assignments what the pages and the simulator read (see the
    module docstring). The refit passes the activity (purchase values) and cost figures it read;
    without them they are read from the read model. Replaces what the run had."""
    run = SegmentationRun.objects.only("id", "as_of", "created_at").get(pk=run_id)
    if activity is None or costs is None:
        histories = customer_histories_get()
        activity = customer_activity(histories, as_of=run.as_of)
        costs = costs_read(
            activity,
            histories_costs=CostFigures(
                customer_ids=histories.customer_ids,
                lines=histories.cost_lines,
                cost_cents=histories.cost_cents,
                net_cents=histories.net_with_cost_cents,
            ),
        )
    table = CustomerSegment._meta.db_table
    with connection.cursor() as cursor:
        # The run's rows were just COPYed: with statistics that predate them the planner takes the run
        # for a few rows and joins it to another run in a nested loop, or hashes the wrong side. Fresh
        # statistics of the join columns (a sample of 3,000 rows shows the new run as well as the
        # default 30,000 and reads a tenth of the pages), and no nested loop.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {table} (run_id, customer_id)")
        cursor.execute("RESET default_statistics_target")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(scatter_sample_sql(table), [run.pk, str(SCATTER_SEED), SCATTER_SAMPLE])
        sample = [list(row) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT segment, rfm_segment, r_score, f_score, m_score, count(*), sum(monetary)::text, "
            f"sum(recency_days), sum(frequency) FROM {table} WHERE run_id = %s GROUP BY 1, 2, 3, 4, 5",
            [run.pk],
        )
        cube = sorted(list(row) for row in cursor.fetchall())
        movement = _movement_from_previous(cursor, run)
        cursor.execute("RESET enable_nestloop")
        cells, category_sales = _segment_cells(cursor, run, activity, costs)
    SegmentCell.objects.filter(run_id=run.pk).delete()
    _copy_cells(cells)
    SegmentationRun.objects.filter(pk=run.pk).update(
        scatter_sample=sample,
        assignment_cube=cube,
        movement=movement,
        category_sales=category_sales,
        summaries_saved=True,
    )


def costs_read(activity: CustomerActivity, *, histories_costs: CostFigures) -> CostFigures:
    """The customers' cost figures before the activity's as-of date: the summaries' own when the
    as-of date is after every transaction, else read from the transactions before it."""
    if activity.whole_history or activity.as_of is None:
        return histories_costs
    before = customer_costs_before(day=activity.as_of)
    return CostFigures(
        customer_ids=before.customer_ids,
        lines=before.cost_lines,
        cost_cents=before.cost_cents,
        net_cents=before.net_with_cost_cents,
    )


def _movement_from_previous(cursor: Any, run: SegmentationRun) -> dict[str, Any]:
    previous = (
        SegmentationRun.objects.filter(status=SegmentationRun.Status.SUCCEEDED, assignments_pruned=False)
        .exclude(pk=run.pk)
        .filter(Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, id__lt=run.pk))
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if previous is None:
        return {}
    # One join of the two runs for both kinds: customers per (K-Means, RFM) before x (K-Means, RFM) after.
    table = CustomerSegment._meta.db_table
    cursor.execute(
        f"SELECT a.segment, a.rfm_segment, b.segment, b.rfm_segment, count(*) FROM {table} a JOIN {table} b "
        "ON b.customer_id = a.customer_id AND b.run_id = %s WHERE a.run_id = %s GROUP BY 1, 2, 3, 4",
        [run.pk, previous],
    )
    kmeans: Counter[tuple[str, str]] = Counter()
    by_rfm: Counter[tuple[str, str]] = Counter()
    for segment_before, rfm_before, segment_after, rfm_after, customers in cursor.fetchall():
        kmeans[(segment_before, segment_after)] += customers
        by_rfm[(rfm_before, rfm_after)] += customers
    return {
        "from_run": previous,
        "kmeans": sorted([a, b, n] for (a, b), n in kmeans.items()),
        "rfm": sorted([a, b, n] for (a, b), n in by_rfm.items()),
    }


def _segment_cells(
    cursor: Any, run: SegmentationRun, activity: CustomerActivity, costs: CostFigures
) -> tuple[list[SegmentCell], list[list[str]]]:
    """Per K-Means x RFM cell: its customers' days since their last purchase, their purchase values
    and cost figures; and net sales per category x cell. The run's customers come from its
    assignments; each customer's figures are put in their cell in numpy."""
    assignments = CustomerSegment._meta.db_table
    # The run's customers in pk order, packed: three values instead of 120,000 rows of Python objects.
    cursor.execute(
        "SELECT string_agg(int8send(customer_id) || int4send(recency_days), ''::bytea ORDER BY customer_id), "
        "string_agg(segment, chr(31) ORDER BY customer_id), string_agg(rfm_segment, chr(31) ORDER BY customer_id) "
        f"FROM {assignments} WHERE run_id = %s",
        [run.pk],
    )
    packed, segment_names, rfm_names = cursor.fetchone()
    records = np.frombuffer(bytes(packed or b""), dtype=np.dtype([("customer_id", ">i8"), ("recency_days", ">i4")]))
    customer_ids = records["customer_id"].astype(np.int64)
    recency = records["recency_days"].astype("<i4")
    segment_codes, segments = _factorize(segment_names)
    rfm_codes, rfm_segments = _factorize(rfm_names)
    pairs = segment_codes * len(rfm_segments) + rfm_codes
    present = [int(pair) for pair in np.unique(pairs)]
    key_of = {pair: (segments[pair // len(rfm_segments)], rfm_segments[pair % len(rfm_segments)]) for pair in present}
    cell_keys = sorted(key_of.values())
    cell_of_pair = np.zeros(len(segments) * len(rfm_segments), dtype=np.int64)
    cell_of_pair[present] = [cell_keys.index(key_of[pair]) for pair in present]
    customer_cells = cell_of_pair[pairs]

    def cells_of(ids: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
        """Which of these customers the run segmented, and their cells."""
        if not len(customer_ids):
            return np.zeros(len(ids), dtype=np.bool_), np.zeros(0, dtype=np.int64)
        position = np.clip(np.searchsorted(customer_ids, ids), 0, len(customer_ids) - 1)
        known = customer_ids[position] == ids
        return known, customer_cells[position[known]]

    # Every purchase to its customer's cell (a purchase of a customer the run did not segment is
    # dropped), each cell's customers and purchases kept in their order.
    known, purchase_cells = cells_of(activity.purchases.customer_ids)
    cell_days = _split_by(customer_cells, len(cell_keys), recency)
    cell_values = _split_by(purchase_cells, len(cell_keys), activity.purchases.values[known])

    known, cost_cells = cells_of(costs.customer_ids)
    with_cost = costs.lines[known] > 0
    cost_lines = np.bincount(cost_cells, weights=costs.lines[known], minlength=len(cell_keys))
    cost_sum = np.zeros(len(cell_keys), dtype=np.int64)
    net_sum = np.zeros(len(cell_keys), dtype=np.int64)
    np.add.at(cost_sum, cost_cells[with_cost], costs.cost_cents[known][with_cost])
    np.add.at(net_sum, cost_cells[with_cost], costs.net_cents[known][with_cost])
    cells = [
        SegmentCell(
            run_id=run.pk,
            segment=segment,
            rfm_segment=rfm_segment,
            customers=len(cell_days[number]),
            order_values=cell_values[number].astype("<f8").tobytes(),
            days_since_purchase=cell_days[number].tobytes(),
            cost_lines=int(cost_lines[number]),
            cost=_cents(cost_sum[number]) if cost_lines[number] else None,
            net_with_cost=_cents(net_sum[number]) if cost_lines[number] else None,
        )
        for number, (segment, rfm_segment) in enumerate(cell_keys)
    ]

    # Net sales per category x cell: every line of the run's customers, from the summaries.
    nets = customer_category_nets_get()
    known, net_cells = cells_of(nets.customer_ids)
    categories = np.unique(nets.category_ids[known])
    category_codes = np.searchsorted(categories, nets.category_ids[known])
    totals = np.zeros(len(cell_keys) * len(categories), dtype=np.int64)
    np.add.at(totals, net_cells * len(categories) + category_codes, nets.net_cents[known])
    present_totals = np.zeros(len(totals), dtype=np.int64)
    np.add.at(present_totals, net_cells * len(categories) + category_codes, 1)
    names = dimensions_get().category_names()
    category_sales = sorted(
        [names[int(categories[slot % len(categories)])], *cell_keys[slot // len(categories)], str(_cents(totals[slot]))]
        for slot in np.flatnonzero(present_totals)
    )
    return cells, category_sales


def _cents(value: Any) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def _factorize(joined: str | None) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Codes and names of a chr(31)-separated list of names (segment names hold no control character)."""
    import pandas as pd

    codes, names = pd.factorize(np.array(joined.split("\x1f") if joined else [], dtype=object))
    return codes.astype(np.int64), [str(name) for name in names]


def _split_by(groups: npt.NDArray[np.int64], count: int, values: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """`values` split by group number (0..count-1), each group's values in their order."""
    order = np.argsort(groups, kind="stable")
    return np.split(values[order], np.cumsum(np.bincount(groups, minlength=count))[:-1])


def _copy_cells(cells: list[SegmentCell]) -> None:
    """COPY the cells in binary: their order values go as raw bytes (a few MB at 120,000 customers), not as
    hex in the text of an INSERT."""
    columns = [field for field, _ in _CELL_COPY_COLUMNS]
    statement = f"COPY {SegmentCell._meta.db_table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.set_types([kind for _, kind in _CELL_COPY_COLUMNS])
        for cell in cells:
            copy.write_row([getattr(cell, field) for field in columns])
