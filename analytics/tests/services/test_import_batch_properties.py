"""Property tests: whatever bytes come in, the import ends with a readable outcome and never half a file."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.models import ImportBatch, TransactionLine
from analytics.services.import_batches import import_batch_create, import_batch_run
from analytics.tests.services.conftest import mall_csv, table_counts

pytestmark = pytest.mark.django_db

VALID = mall_csv(
    "I1,C1,Female,28,Clothing,5,1500.40,Credit Card,5/8/2022,Kanyon",
    "I2,C2,Male,21,Shoes,3,1800.51,Debit Card,28/12/2021,Forum Istanbul",
    'I3,"C3",Female,45,"Food & Beverage",2,10.46,Cash,1/1/2023,"Metro, City"',
    "I4,C1,Female,28,Books,-1,-15.15,Cash,6/8/2022,Kanyon",
).encode()

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

mutation = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.integers(min_value=0, max_value=len(VALID)),
    st.sampled_from([b",", b";", b'"', b"\n", b"\r", b"\x00", b"\xff", b"\xe9", b"-", b"/", b"9", b"a", b" ", b"NaN"]),
)


def mutate(data: bytes, mutations: list[tuple[str, int, bytes]]) -> bytes:
    for operation, position, value in mutations:
        position = min(position, len(data))
        if operation == "insert":
            data = data[:position] + value + data[position:]
        elif operation == "delete":
            data = data[:position] + data[position + 1 :]
        else:
            data = data[:position] + value + data[position + 1 :]
    return data


def readable_year(year: int) -> bool:
    """Four-digit years from 1900 to 2100, or two-digit years (which PostgreSQL reads as 1970-2069)."""
    return 1900 <= year <= 2100 or 10 <= year <= 99


def import_bytes(content: bytes, *, skip_invalid: bool) -> ImportBatch:
    batch = import_batch_create(
        path_or_file=io.BytesIO(content), file_name="fuzz.csv", source="api", enqueue=False, skip_invalid=skip_invalid
    )
    return import_batch_run(batch_id=batch.id, queue_refit=False)


def assert_whole_outcome(content: bytes, *, skip_invalid: bool) -> None:
    before = table_counts()
    lines_before = TransactionLine.objects.count()

    batch = import_bytes(content, skip_invalid=skip_invalid)

    assert batch.status in (ImportBatch.Status.SUCCEEDED, ImportBatch.Status.FAILED)
    assert batch.message.startswith("fuzz.csv: ")
    assert batch.rows_read == batch.imported + batch.rejected + batch.duplicates
    after = table_counts()
    if batch.status == ImportBatch.Status.FAILED:
        assert batch.imported == 0
        before.pop("analytics_importbatch")
        after.pop("analytics_importbatch")
        assert after == before
    else:
        assert TransactionLine.objects.count() == lines_before + batch.imported
        assert TransactionLine.objects.filter(batch_id=batch.id).count() == batch.imported
        for error in batch.errors:
            assert set(error) == {"row", "column", "value", "reason"}
            assert error["row"] >= 2


@PROPERTY_SETTINGS
@given(content=st.binary(max_size=600), skip_invalid=st.booleans())
def test_random_bytes_end_in_a_readable_outcome_and_never_half_a_file(media, content, skip_invalid):
    assert_whole_outcome(content, skip_invalid=skip_invalid)


@PROPERTY_SETTINGS
@given(mutations=st.lists(mutation, min_size=1, max_size=6), skip_invalid=st.booleans())
def test_mutated_csv_ends_in_a_readable_outcome_and_never_half_a_file(media, mutations, skip_invalid):
    assert_whole_outcome(mutate(VALID, mutations), skip_invalid=skip_invalid)


@PROPERTY_SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.text(alphabet="ABC123 ", max_size=6),
            st.integers(min_value=-5, max_value=5),
            st.decimals(min_value=-9999, max_value=9999, places=2, allow_nan=False),
            st.dates(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_generated_rows_import_exactly_or_fail_whole(media, rows):
    content = mall_csv(
        *(
            f"I{n},{customer},Female,30,Toys,{quantity},{amount},Cash,{day.day}/{day.month}/{day.year},Kanyon"
            for n, (customer, quantity, amount, day) in enumerate(rows)
        )
    ).encode()
    before = TransactionLine.objects.count()

    batch = import_bytes(content, skip_invalid=False)

    valid_rows = [row for row in rows if row[0].strip() and readable_year(row[3].year)]
    if len(valid_rows) == len(rows):
        assert batch.status == ImportBatch.Status.SUCCEEDED, batch.message
        assert batch.imported + batch.duplicates == len(rows)
    else:
        assert batch.status == ImportBatch.Status.FAILED
        assert TransactionLine.objects.count() == before
