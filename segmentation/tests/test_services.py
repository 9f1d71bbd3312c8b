import datetime
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import connection

from analytics.warehouse import customer_histories_get
from retail_platform.errors import ApplicationError
from retail_platform.locks import DATA_WRITE_LOCK_KEY
from retail_platform.roles import ROLE_GROUPS
from segmentation import clustering, rfm
from segmentation.activity import customer_activity
from segmentation.models import CustomerSegment, SegmentationRun
from segmentation.services import assignments
from segmentation.services.refit import segmentation_run_create
from segmentation.services.runs import segmentation_customers_score, segmentation_run_activate
from segmentation.tests.data import build_sales, expected_rfm, load_sales

pytestmark = pytest.mark.django_db


def _assignments(run: SegmentationRun) -> dict[str, CustomerSegment]:
    return {row.customer.external_id: row for row in run.assignments.select_related("customer")}


def test_rfm_of_every_customer_equals_an_independent_computation_from_the_raw_rows() -> None:
    raw = build_sales()
    batch = load_sales(raw)
    run = segmentation_run_create()
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.message
    expected = expected_rfm(raw)
    assignments = _assignments(run)
    assert set(assignments) == set(expected)
    assert "RETURNONLY" not in assignments
    assert expected["MIXED"].frequency == 1 and expected["NETNEG"].monetary == Decimal("-35.50")
    assert max(value.frequency for value in expected.values()) > 5  # real repeat customers
    for customer, values in expected.items():
        row = assignments[customer]
        assert (row.recency_days, row.frequency, row.monetary) == (
            values.recency_days,
            values.frequency,
            values.monetary,
        ), customer
    assert run.customers == len(expected)
    assert run.as_of == max(line.date for line in raw) + datetime.timedelta(days=1)
    assert run.import_batch_id == batch.pk
    assert "1 customers with only returns" in run.message


def test_every_customer_has_one_rfm_segment_and_one_named_cluster_consistent_with_the_scores() -> None:
    load_sales(build_sales())
    run = segmentation_run_create()
    rows = list(run.assignments.all())
    assert len(rows) == len({row.customer_id for row in rows}) == run.customers
    names = {entry["cluster"]: entry["name"] for entry in run.clusters}
    assert len(names) == run.k
    for row in rows:
        assert row.rfm_segment == rfm.segment_for_scores(row.r_score, row.f_score, row.m_score)
        assert names[row.cluster] == row.segment
        assert row.segment in clustering.CLUSTER_NAMES or row.segment.rsplit(" ", 1)[0] in clustering.CLUSTER_NAMES
    assert sum(entry["customers"] for entry in run.clusters) == run.customers
    # The scores are the quantile scores of the stored values.
    ordered = sorted(rows, key=lambda row: row.customer_id)
    recency_scores = rfm.quantile_scores([row.recency_days for row in ordered], higher_is_better=False)
    assert recency_scores.scores.tolist() == [row.r_score for row in ordered]
    assert {1, 2, 3, 4, 5} == {row.f_score for row in rows}
    assert run.cut_points["frequency"][0]["score"] == 1


def test_two_refits_on_the_same_data_give_identical_assignments_and_the_latest_is_active() -> None:
    load_sales(build_sales())
    first = segmentation_run_create()
    second = segmentation_run_create()

    def key(run: SegmentationRun) -> list[tuple]:
        return list(
            run.assignments.order_by("customer_id").values_list(
                "customer_id", "r_score", "f_score", "m_score", "rfm_segment", "cluster", "segment"
            )
        )

    assert key(first) == key(second)
    assert (first.k, first.silhouette) == (second.k, second.silhouette)
    first.refresh_from_db()
    assert not first.is_active and second.is_active
    assert SegmentationRun.objects.filter(is_active=True).count() == 1


def test_a_run_records_the_seconds_of_each_stage_within_its_total() -> None:
    load_sales(build_sales(customers=30))
    run = segmentation_run_create()
    stages = ("query", "scoring", "libraries", "clustering", "saving", "pruning", "summaries", "customer_value")
    assert list(run.timings) == [*stages, "total"]
    assert all(run.timings[stage] >= 0 for stage in stages)
    assert run.timings["total"] == run.duration_seconds
    # Each figure is rounded to the millisecond: the stages may overshoot the total by that much each.
    assert sum(run.timings[stage] for stage in stages) <= run.timings["total"] + 0.0005 * len(stages)


def test_the_assignments_copy_writes_exact_money_and_any_names() -> None:
    run = SegmentationRun.objects.create(status=SegmentationRun.Status.RUNNING)
    cents = [0, 1, -1, 5, 99, -3550, 123456789, 9_999_999_999_999_999, -9_999_999_999_999_999]
    rows = len(cents)
    names = ["VIP", "Dormant 2", "Ünïcode ✓", "VIP", "Dormant 2", "VIP", "Ünïcode ✓", "VIP", "VIP"]
    rfm_segments = ["Champions", "Lost", "Can't Lose Them", "Lost", "Champions", "At Risk", "Lost", "Lost", "Lost"]
    data = assignments.assignment_copy_data(
        run_id=run.pk,
        customer_ids=np.arange(10, 10 + rows, dtype=np.int64),
        recency_days=np.arange(rows, dtype=np.int64) * 1000,
        frequency=np.arange(1, rows + 1, dtype=np.int64),
        monetary_cents=np.array(cents, dtype=np.int64),
        r_scores=np.arange(rows) % 5 + 1,
        f_scores=(np.arange(rows) + 1) % 5 + 1,
        m_scores=(np.arange(rows) + 2) % 5 + 1,
        clusters=np.arange(rows) % 3,
        rfm_segments=np.array(rfm_segments, dtype=object),
        segments=np.array(names, dtype=object),
    )
    table, columns = CustomerSegment._meta.db_table, ", ".join(assignments._COPY_COLUMNS)
    statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(data)

    saved = list(
        CustomerSegment.objects.filter(run=run)
        .order_by("customer_id")
        .values_list("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "cluster")
    )
    assert saved == [
        (10 + i, i * 1000, i + 1, Decimal(cents[i]).scaleb(-2), i % 5 + 1, (i + 1) % 5 + 1, (i + 2) % 5 + 1, i % 3)
        for i in range(rows)
    ]
    texts = CustomerSegment.objects.filter(run=run).order_by("customer_id").values_list("rfm_segment", "segment")
    assert list(texts) == list(zip(rfm_segments, names, strict=True))
    # The money reads back with its two decimals, as a numeric(16, 2) written by an INSERT would.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT monetary::text FROM {CustomerSegment._meta.db_table} WHERE run_id = %s ORDER BY customer_id",
            [run.pk],
        )
        assert [row[0] for row in cursor.fetchall()][:4] == ["0.00", "0.01", "-0.01", "0.05"]


def test_everyone_bought_once_still_segments_and_flags_frequency() -> None:
    load_sales(build_sales(customers=40, one_purchase_each=True))
    run = segmentation_run_create()
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.message
    assert run.frequency_informative is False
    assert "frequency carries no information" in run.message
    assert run.parameters["features"] == ["recency", "monetary"]
    assert run.assignments.count() == 40
    assert run.k >= 2


def test_too_few_customers_records_a_failed_run_and_keeps_the_active_one() -> None:
    load_sales(build_sales(customers=30))
    good = segmentation_run_create()
    failed = segmentation_run_create(as_of=datetime.date(2023, 1, 20))
    assert failed.status == SegmentationRun.Status.FAILED
    assert "needs at least 10 customers with a purchase" in failed.message
    assert not failed.is_active and not failed.assignments.exists()
    good.refresh_from_db()
    assert good.is_active


def test_no_data_at_all_gives_a_failed_run_with_a_reason() -> None:
    run = segmentation_run_create()
    assert run.status == SegmentationRun.Status.FAILED
    assert run.message == "There are no transactions yet: import a file, then refit."
    assert run.duration_seconds is not None


def test_an_as_of_date_ignores_later_lines() -> None:
    raw = build_sales()
    load_sales(raw)
    as_of = datetime.date(2024, 3, 1)
    run = segmentation_run_create(as_of=as_of, k=3)
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.message
    assert run.as_of == as_of and run.k == 3
    expected = expected_rfm(raw, as_of=as_of)
    assignments = _assignments(run)
    assert set(assignments) == set(expected)
    for customer, values in expected.items():
        assert assignments[customer].recency_days == values.recency_days
        assert assignments[customer].frequency == values.frequency
        assert assignments[customer].monetary == values.monetary


def test_customer_activity_is_empty_without_lines() -> None:
    activity = customer_activity(customer_histories_get())
    assert activity.as_of is None and activity.frame.empty


def test_activating_an_older_run_switches_the_active_one() -> None:
    load_sales(build_sales())
    first = segmentation_run_create()
    second = segmentation_run_create()
    segmentation_run_activate(run_id=first.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_active and not second.is_active


def test_a_failed_run_cannot_be_activated() -> None:
    failed = segmentation_run_create()
    with pytest.raises(ApplicationError, match="did not succeed"):
        segmentation_run_activate(run_id=failed.pk)


def test_old_runs_lose_their_assignments_but_keep_their_figures(settings) -> None:
    settings.SEGMENTATION_KEEP_ASSIGNMENTS = 2
    load_sales(build_sales(customers=20))
    runs = [segmentation_run_create() for _ in range(3)]
    for run in runs:
        run.refresh_from_db()
    assert runs[0].assignments_pruned and not runs[0].assignments.exists()
    assert runs[0].k is not None and runs[0].pipeline is None
    assert all(not run.assignments_pruned and run.assignments.exists() for run in runs[1:])


def test_the_stored_pipeline_scores_new_customers_like_the_run() -> None:
    load_sales(build_sales())
    run = segmentation_run_create()
    rows = list(run.assignments.order_by("customer_id")[:15])
    scored = segmentation_customers_score(
        run_id=run.pk,
        recency_days=[row.recency_days for row in rows],
        frequency=[row.frequency for row in rows],
        monetary=[float(row.monetary) for row in rows],
    )
    assert [(s.cluster, s.segment) for s in scored] == [(row.cluster, row.segment) for row in rows]
    assert [(s.r_score, s.f_score, s.m_score, s.rfm_segment) for s in scored] == [
        (row.r_score, row.f_score, row.m_score, row.rfm_segment) for row in rows
    ]


@pytest.fixture(scope="module", autouse=True)
def _role_groups_back_after_the_flush(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The transactional test below ends with a flush that empties every table, the role groups of the
    data migration included; put them back for the tests that run after this module."""
    yield
    with django_db_blocker.unblock():
        for name in ROLE_GROUPS:
            Group.objects.get_or_create(name=name)


@pytest.mark.django_db(transaction=True)
def test_a_refit_waits_while_an_import_holds_the_data_write_lock() -> None:
    load_sales(build_sales(customers=20))
    outcome: dict[str, SegmentationRun] = {}

    def refit() -> None:
        try:
            outcome["run"] = segmentation_run_create()
        finally:
            connection.close()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [DATA_WRITE_LOCK_KEY])  # as an import's transaction would
        worker = threading.Thread(target=refit)
        worker.start()
        waiting = 0
        for _ in range(200):
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
                [DATA_WRITE_LOCK_KEY],
            )
            waiting = cursor.fetchone()[0]
            if waiting:
                break
            time.sleep(0.05)
        assert waiting == 1  # PostgreSQL shows the refit queued on the lock
        assert worker.is_alive() and "run" not in outcome
        cursor.execute("SELECT pg_advisory_unlock(%s)", [DATA_WRITE_LOCK_KEY])
    worker.join(timeout=60)
    assert outcome["run"].status == SegmentationRun.Status.SUCCEEDED
