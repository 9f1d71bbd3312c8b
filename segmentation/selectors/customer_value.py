"""Customer value reads: the fit a refit saved with its run, and each customer's predicted value at the
run's horizon and discount rate or at others (computed from the customers' summaries and the saved
models, never from the lines), for the API, the export, the pages and the simulator."""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from django.db import connection

from analytics.warehouse import ANY_DATA_VERSION, answer_get, question_key
from retail_platform.errors import ApplicationError
from retail_platform.postgresql.cursors import binary_results_cursor
from segmentation import clv, rfm
from segmentation.clv.ahead import purchase_probability, purchases_ahead
from segmentation.models import CustomerSegment, CustomerValue, CustomerValueModel
from segmentation.selectors.runs import readable_run
from segmentation.selectors.segments import segment_customer_ids

# "imported": the order customers first appeared in the imports.
VALUE_ORDERINGS = ("-clv", "clv", "-p_alive", "p_alive", "-expected_purchases", "-value_at_risk", "imported")
MAX_HORIZON_DAYS = 3650


class NoCustomerValue(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, {"reason": "no_customer_value"}, status=404)


@dataclass(frozen=True)
class CustomerValueInfo:
    run_id: int
    status: str  # "fitted" or "not_fitted"
    message: str
    chosen: str
    calibration_end: datetime.date | None  # exclusive
    holdout_end: datetime.date | None  # exclusive: the run's as-of date
    horizon_days: int
    annual_discount_rate: float
    margin: float | None
    margin_source: str
    report: dict[str, Any]
    segments: dict[str, list[dict[str, Any]]]

    @property
    def fitted(self) -> bool:
        return self.status == CustomerValueModel.Status.FITTED


def customer_value_model_get(*, run_id: int | None = None) -> CustomerValueInfo:
    """The customer-value fit of the run (active unless given); NoCustomerValue (404) when the run has none."""
    run = readable_run(run_id)
    row = CustomerValueModel.objects.filter(run_id=run.id).defer("fitted").first()
    if row is None:
        raise NoCustomerValue(f"Run #{run.id} was made before customer value was fitted with each run: refit.")
    return CustomerValueInfo(
        run_id=run.id,
        status=row.status,
        message=row.message,
        chosen=row.chosen,
        calibration_end=row.calibration_end,
        holdout_end=row.holdout_end,
        horizon_days=row.horizon_days,
        annual_discount_rate=row.annual_discount_rate,
        margin=row.margin,
        margin_source=row.margin_source,
        report=row.report,
        segments=row.segments,
    )


@dataclass(frozen=True)
class ValueTable:
    """Every valued customer of a run (pk order) with their figures at one horizon and discount rate."""

    customer_ids: npt.NDArray[np.int64] = field(repr=False)
    frequency: npt.NDArray[np.int64] = field(repr=False)
    recency_days: npt.NDArray[np.int64] = field(repr=False)
    tenure_days: npt.NDArray[np.int64] = field(repr=False)
    p_alive: npt.NDArray[np.float64] = field(repr=False)
    expected_purchases: npt.NDArray[np.float64] = field(repr=False)
    expected_order_value: npt.NDArray[np.float64] = field(repr=False)
    clv: npt.NDArray[np.float64] = field(repr=False)
    # From the assignments: the net amount so far, the K-Means and RFM segments.
    monetary: npt.NDArray[np.float64] = field(repr=False)
    segment: npt.NDArray[np.object_] = field(repr=False)
    rfm_segment: npt.NDArray[np.object_] = field(repr=False)

    @cached_property  # asked for every row shown, on a table kept across requests
    def value_at_risk(self) -> npt.NDArray[np.float64]:
        """What a customer has been worth (net amount so far) times the chance they are no longer active."""
        return np.maximum(self.monetary, 0) * (1 - self.p_alive)


_VALUE_RECORD = np.dtype(
    [
        ("customer_id", ">i8"),
        ("frequency", ">i4"),
        ("recency_days", ">i4"),
        ("tenure_days", ">i4"),
        ("p_alive", ">f8"),
        ("expected_purchases", ">f8"),
        ("expected_order_value", ">f8"),
        ("clv", ">f8"),
        ("monetary_cents", ">i8"),
    ]
)


def _table_read(run_id: int) -> ValueTable:
    values, assignments = CustomerValue._meta.db_table, CustomerSegment._meta.db_table
    with binary_results_cursor() as cursor:  # megabytes of packed figures: as stored, not as hex text
        cursor.execute(
            "SELECT string_agg(int8send(v.customer_id) || int4send(v.frequency) || int4send(v.recency_days)"
            " || int4send(v.tenure_days) || float8send(v.p_alive) || float8send(v.expected_purchases)"
            " || float8send(v.expected_order_value) || float8send(v.clv) || int8send((s.monetary * 100)::int8),"
            " ''::bytea ORDER BY v.customer_id), string_agg(s.segment, chr(31) ORDER BY v.customer_id),"
            " string_agg(s.rfm_segment, chr(31) ORDER BY v.customer_id)"
            f" FROM {values} AS v JOIN {assignments} AS s ON s.run_id = v.run_id AND s.customer_id = v.customer_id"
            " WHERE v.run_id = %s",
            [run_id],
        )
        packed, segments, rfm_segments = cursor.fetchone()
    records = np.frombuffer(bytes(packed or b""), dtype=_VALUE_RECORD)
    return ValueTable(
        customer_ids=records["customer_id"].astype(np.int64),
        frequency=records["frequency"].astype(np.int64),
        recency_days=records["recency_days"].astype(np.int64),
        tenure_days=records["tenure_days"].astype(np.int64),
        p_alive=records["p_alive"].astype(np.float64),
        expected_purchases=records["expected_purchases"].astype(np.float64),
        expected_order_value=records["expected_order_value"].astype(np.float64),
        clv=records["clv"].astype(np.float64),
        monetary=records["monetary_cents"] / 100.0,
        segment=np.array(segments.split("\x1f") if segments else [], dtype=object),
        rfm_segment=np.array(rfm_segments.split("\x1f") if rfm_segments else [], dtype=object),
    )


def _fitted_models(run_id: int) -> tuple[clv.model.TransactionFit, clv.gamma_gamma.SpendFit]:
    fitted = CustomerValueModel.objects.filter(run_id=run_id).values_list("fitted", flat=True).first()
    if fitted is None:
        raise NoCustomerValue(f"Run #{run_id} saved no fitted customer-value model.")
    # Only segmentation.services.customer_value writes this column, so loading it runs no foreign pickle.
    return pickle.loads(bytes(fitted))  # noqa: S301


def value_table_get(*, run_id: int, horizon_days: int, discount_rate: float) -> ValueTable:
    """The run's valued customers at a horizon and discount rate: as saved for the run's own, else the
    expected purchases and value computed again from the saved models (cached per run and choice)."""
    info = customer_value_model_get(run_id=run_id)
    if not info.fitted:
        raise NoCustomerValue(f"No customer value for run #{run_id}: {info.message}")
    as_saved = horizon_days == info.horizon_days and discount_rate == info.annual_discount_rate

    def compute(_version: int) -> ValueTable:
        table = _table_read(run_id)
        if as_saved:
            return table
        transactions, _spend = _fitted_models(run_id)
        expected, discounted, _alive = purchases_ahead(
            transactions,
            x=table.frequency,
            t_x_days=table.recency_days,
            T_days=table.tenure_days,
            horizon_days=horizon_days,
            annual_discount_rate=discount_rate,
        )
        return replace(
            table,
            expected_purchases=np.round(expected, 3),
            clv=np.round(float(info.margin or 0) * table.expected_order_value * discounted, 2).astype(np.float64),
        )

    # Every customer's figures (megabytes): kept in each process, not shared through the database, and
    # across imports (a run's figures never change).
    return answer_get(
        "segmentation:customer_values",
        question_key(run_id, horizon_days, discount_rate),
        compute,
        data_version=ANY_DATA_VERSION,
        shared=False,
    )


def buy_probability_get(*, run_id: int, segments: tuple[str, ...], horizon_days: int) -> float | None:
    """The model's probability that the customers of these segments (K-Means or RFM names) buy at least
    once within the horizon, averaged over them; None without a fitted model (or none at all) or without
    customers.
    Cached per run, segments and horizon."""

    def compute(_version: int) -> tuple[float | None]:  # a tuple: a cached None would read as a miss
        try:
            info = customer_value_model_get(run_id=run_id)
        except NoCustomerValue:  # a run made before customer value was fitted with each run
            return (None,)
        if not info.fitted:
            return (None,)
        chosen_ids = np.fromiter(segment_customer_ids(segments=list(segments), run_id=run_id), dtype=np.int64)
        table = value_table_get(run_id=run_id, horizon_days=info.horizon_days, discount_rate=info.annual_discount_rate)
        chosen = np.isin(table.customer_ids, chosen_ids)
        if not chosen.any():
            return (None,)
        transactions, _spend = _fitted_models(run_id)
        probability = purchase_probability(
            transactions,
            x=table.frequency[chosen],
            t_x_days=table.recency_days[chosen],
            T_days=table.tenure_days[chosen],
            horizon_days=horizon_days,
        )
        return (round(float(probability.mean()), 4),)

    question = question_key(run_id, tuple(sorted(segments)), horizon_days)
    return answer_get("segmentation:buy_probability", question, compute)[0]


def customer_value_order(*, run_id: int, customer_ids: npt.NDArray[np.int64], by: str) -> npt.NDArray[np.intp]:
    """Positions of `customer_ids` from the most valuable to the least: by "clv" or "value_at_risk" (the
    run's own horizon; customers without a value last, in their given order)."""
    info = customer_value_model_get(run_id=run_id)
    if not info.fitted:
        raise NoCustomerValue(f"No customer value for run #{run_id}: {info.message}")
    table = value_table_get(run_id=run_id, horizon_days=info.horizon_days, discount_rate=info.annual_discount_rate)
    values = table.value_at_risk if by == "value_at_risk" else table.clv
    position = np.clip(np.searchsorted(table.customer_ids, customer_ids), 0, max(len(table.customer_ids) - 1, 0))
    known = (
        table.customer_ids[position] == customer_ids if len(table.customer_ids) else np.zeros(len(customer_ids), bool)
    )
    keyed = np.where(known, -values[position] if len(values) else 0.0, np.inf)
    return np.argsort(keyed, kind="stable")


class ValueRows(Sequence[dict[str, Any]]):
    """A run's valued customers in one order (optionally one segment's), as rows with the customer's id
    from the retailer's files; slicing reads the ids of the rows sliced only (a page, or a chunk of an
    export)."""

    def __init__(self, table: ValueTable, order: npt.NDArray[np.intp]) -> None:
        self.table = table
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, int):
            return self[index : index + 1][0] if index >= 0 else self[len(self) + index]
        rows = self.order[index]
        table = self.table
        ids = table.customer_ids[rows]
        external = _external_ids(ids)
        return [
            {
                "customer_id": external[int(pk)],
                "segment": table.segment[row],
                "rfm_segment": table.rfm_segment[row],
                "frequency": int(table.frequency[row]),
                "recency_days": int(table.recency_days[row]),
                "tenure_days": int(table.tenure_days[row]),
                "p_alive": float(table.p_alive[row]),
                "expected_purchases": float(table.expected_purchases[row]),
                "expected_order_value": float(table.expected_order_value[row]),
                "clv": float(table.clv[row]),
                "value_at_risk": round(float(table.value_at_risk[row]), 2),
            }
            for row, pk in zip(rows.tolist(), ids.tolist(), strict=True)
        ]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), 5000):
            yield from self[start : start + 5000]


def _external_ids(pks: npt.NDArray[np.int64]) -> dict[int, str]:
    if not len(pks):
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, external_id FROM analytics_customer WHERE id = ANY(%s)", [pks.tolist()])
        return dict(cursor.fetchall())


def customer_value_list(
    *,
    run_id: int | None = None,
    horizon_days: int | None = None,
    discount_rate: float | None = None,
    segment: str | None = None,
    ordering: str = "-clv",
) -> ValueRows:
    """The run's (active unless given) valued customers, optionally of one K-Means or RFM segment, in the
    given order (VALUE_ORDERINGS; ties by customer pk), at a horizon and discount rate (the run's own
    unless given)."""
    run = readable_run(run_id)
    info = customer_value_model_get(run_id=run.id)
    horizon = info.horizon_days if horizon_days is None else horizon_days
    rate = info.annual_discount_rate if discount_rate is None else discount_rate
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise ApplicationError(f"horizon_days must be between 1 and {MAX_HORIZON_DAYS}.", {"horizon_days": horizon})
    if not 0 <= rate < 1:
        raise ApplicationError("discount_rate is a yearly rate between 0 and 1 (0.1 = 10 %).", {"discount_rate": rate})
    if ordering not in VALUE_ORDERINGS:
        raise ApplicationError(
            f"Unknown ordering {ordering!r}. Valid: {', '.join(VALUE_ORDERINGS)}.", {"ordering": ordering}
        )
    table = value_table_get(run_id=run.id, horizon_days=horizon, discount_rate=rate)
    rows = np.arange(len(table.customer_ids))
    if segment:
        column = table.rfm_segment if segment in rfm.SEGMENTS else table.segment
        rows = rows[column == segment]
    if ordering == "imported":
        return ValueRows(table, rows)

    def order(_version: int) -> npt.NDArray[np.intp]:
        key = ordering.lstrip("-")
        values = (table.value_at_risk if key == "value_at_risk" else getattr(table, key))[rows]
        return rows[np.lexsort((rows, -values if ordering.startswith("-") else values))]

    # An order of every customer (a megabyte): sorted once per process, as the table is kept.
    question = question_key(run.id, horizon, rate, segment, ordering)
    return ValueRows(
        table, answer_get("segmentation:value_order", question, order, data_version=ANY_DATA_VERSION, shared=False)
    )
