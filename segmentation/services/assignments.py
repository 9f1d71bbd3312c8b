"""The refit's customer assignments written with one binary COPY stream, encoded by numpy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from django.db import connection

from retail_platform.binary_copy import SIGNATURE, TRAILER, numeric_template, numeric_write
from segmentation import rfm
from segmentation.models import CustomerSegment

if TYPE_CHECKING:
    import pandas as pd

    from segmentation import clustering

# The COPY's columns, text last: every row is then a fixed-width record followed by the two names.
_COPY_COLUMNS = (
    "run_id",
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "cluster",
    "rfm_segment",
    "segment",
)
# PostgreSQL's binary COPY row up to the names: field count, then each field's length and value. The
# monetary value is a numeric of five base-10,000 digits (four before the point, numeric(16, 2) holds
# fewer than 10^14, and the cents times 100): PostgreSQL strips the zero digits as it reads them.
_NUMERIC_DIGITS = 5
_FIXED_RECORD = np.dtype(
    [
        ("fields", ">i2"),
        ("run_id_length", ">i4"),
        ("run_id", ">i8"),
        ("customer_id_length", ">i4"),
        ("customer_id", ">i8"),
        ("recency_days_length", ">i4"),
        ("recency_days", ">i4"),
        ("frequency_length", ">i4"),
        ("frequency", ">i4"),
        ("monetary_length", ">i4"),
        ("monetary", ">i2", (4 + _NUMERIC_DIGITS,)),
        ("r_score_length", ">i4"),
        ("r_score", ">i2"),
        ("f_score_length", ">i4"),
        ("f_score", ">i2"),
        ("m_score_length", ">i4"),
        ("m_score", ">i2"),
        ("cluster_length", ">i4"),
        ("cluster", ">i2"),
    ]
)


def assignments_copy(
    run_id: int, frame: pd.DataFrame, scores: rfm.RfmScores, fitted: clustering.ClusteringResult
) -> None:
    """COPY the run's assignments in binary, encoded by numpy: no Python object per customer (a row at a
    time through psycopg took three times as long)."""
    statement = f"COPY {CustomerSegment._meta.db_table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    data = assignment_copy_data(
        run_id=run_id,
        customer_ids=frame["customer_id"].to_numpy(np.int64),
        recency_days=frame["recency_days"].to_numpy(np.int64),
        frequency=frame["frequency"].to_numpy(np.int64),
        monetary_cents=frame["monetary_cents"].to_numpy(np.int64),
        r_scores=scores.r.scores,
        f_scores=scores.f.scores,
        m_scores=scores.m.scores,
        clusters=fitted.clusters,
        rfm_segments=scores.segments,
        segments=fitted.names,
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(data)


def assignment_copy_data(
    *,
    run_id: int,
    customer_ids: npt.NDArray[np.int64],
    recency_days: npt.NDArray[np.int64],
    frequency: npt.NDArray[np.int64],
    monetary_cents: npt.NDArray[np.int64],
    r_scores: npt.ArrayLike,
    f_scores: npt.ArrayLike,
    m_scores: npt.ArrayLike,
    clusters: npt.ArrayLike,
    rfm_segments: npt.ArrayLike,
    segments: npt.ArrayLike,
) -> bytes:
    """The whole binary COPY stream (signature, one row per customer in the given order, trailer) of the
    columns `_COPY_COLUMNS`. Pure: arrays in, bytes out."""
    import pandas as pd

    rows = len(customer_ids)
    fixed = np.zeros(rows, dtype=_FIXED_RECORD)
    fixed["fields"] = len(_COPY_COLUMNS)
    for name, width, values in (
        ("run_id", 8, run_id),
        ("customer_id", 8, customer_ids),
        ("recency_days", 4, recency_days),
        ("frequency", 4, frequency),
        ("r_score", 2, r_scores),
        ("f_score", 2, f_scores),
        ("m_score", 2, m_scores),
        ("cluster", 2, clusters),
    ):
        fixed[f"{name}_length"] = width
        fixed[name] = values
    fixed["monetary_length"] = 8 + 2 * _NUMERIC_DIGITS
    numeric_template(fixed["monetary"], scale=2)
    numeric_write(fixed["monetary"], np.asarray(monetary_cents, dtype=np.int64), scale=2)

    # Each row: the fixed record, then the two names (length and UTF-8 bytes), laid out in a padded
    # matrix, one row per customer, whose padding is then dropped. pandas hashes the names (numpy's
    # unique would sort 120,000 Python strings, ten times slower).
    rfm_codes, rfm_names = pd.factorize(np.asarray(rfm_segments, dtype=object))
    segment_codes, segment_names = pd.factorize(np.asarray(segments, dtype=object))
    rfm_fields = [_text_field(name) for name in rfm_names]
    segment_fields = [_text_field(name) for name in segment_names]
    rfm_widths = np.array([len(field) for field in rfm_fields], dtype=np.int64)
    segment_widths = np.array([len(field) for field in segment_fields], dtype=np.int64)
    width = _FIXED_RECORD.itemsize + int(rfm_widths.max(initial=0)) + int(segment_widths.max(initial=0))
    matrix = np.zeros((rows, width), dtype=np.uint8)
    matrix[:, : _FIXED_RECORD.itemsize] = fixed.view(np.uint8).reshape(rows, _FIXED_RECORD.itemsize)
    start = _FIXED_RECORD.itemsize
    for rfm_code, rfm_field in enumerate(rfm_fields):
        with_rfm = rfm_codes == rfm_code
        matrix[with_rfm, start : start + len(rfm_field)] = np.frombuffer(rfm_field, dtype=np.uint8)
        for segment_code, segment_field in enumerate(segment_fields):
            both = with_rfm & (segment_codes == segment_code)
            after = start + len(rfm_field)
            matrix[both, after : after + len(segment_field)] = np.frombuffer(segment_field, dtype=np.uint8)
    row_widths = _FIXED_RECORD.itemsize + rfm_widths[rfm_codes] + segment_widths[segment_codes]
    used = np.arange(width) < row_widths[:, None]
    return SIGNATURE + matrix[used].tobytes() + TRAILER


def _text_field(text: str) -> bytes:
    encoded = text.encode()
    return len(encoded).to_bytes(4, "big") + encoded
