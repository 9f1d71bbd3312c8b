"""RFM scores and the named RFM segments: pure computation on arrays, no database.

Scoring. Each of R, F and M is scored 1-5 by quantiles of the customers' values, in a way that keeps
equal values together (two customers who bought the same number of times get the same F score) while
using every score when the data allows it:

- with at least five distinct values, the four boundaries between scores are placed between distinct
  values, each as near as possible to its quintile (20 %, 40 %, 60 %, 80 % of customers), then pushed
  apart so that no score is empty;
- with two to four distinct values, the values are spread over the scale (two values score 1 and 5,
  three score 1, 3 and 5, four score 1, 2, 4 and 5);
- with a single value (everyone bought once, say) everyone scores 3: the dimension says nothing.

Higher is better: 5 is the most recent (fewest days since the last purchase), the most frequent and
the highest spending fifth.

Segments. The map reads R and a combined FM score, the mean of F and M rounded half up; when
frequency carries no information (every customer has the same number of purchases) FM is the M score
alone. Every (R, F, M) combination lands in exactly one of the eleven segments (see SEGMENT_RULES).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SCORES = (1, 2, 3, 4, 5)

DEFINITIONS: dict[str, str] = {
    "as_of": (
        "As-of date: the day after the last transaction in the data, unless a date is chosen for the run; "
        "only lines dated before it count."
    ),
    "recency": "Recency: days from the customer's last purchase (returns are not purchases) to the as-of date.",
    "frequency": "Frequency: number of distinct purchases (invoices) by the customer; returns are not purchases.",
    "monetary": "Monetary: the customer's total net amount, after discounts and minus returns.",
    "scores": (
        "R, F and M scores: 1 to 5 by quantiles of the customers' values (5 = most recent, most frequent, "
        "highest spending); equal values share a score."
    ),
    "segments": (
        "RFM segment: named from the R score and the mean of the F and M scores (rounded half up); "
        "when every customer bought equally often, from R and M alone."
    ),
}

CHAMPIONS = "Champions"
LOYAL_CUSTOMERS = "Loyal Customers"
POTENTIAL_LOYALISTS = "Potential Loyalists"
NEW_CUSTOMERS = "New Customers"
PROMISING = "Promising"
NEED_ATTENTION = "Need Attention"
ABOUT_TO_SLEEP = "About To Sleep"
AT_RISK = "At Risk"
CANT_LOSE_THEM = "Can't Lose Them"
HIBERNATING = "Hibernating"
LOST = "Lost"

# From the best customers to the ones gone: the order lists and charts use.
SEGMENTS: tuple[str, ...] = (
    CHAMPIONS,
    LOYAL_CUSTOMERS,
    POTENTIAL_LOYALISTS,
    NEW_CUSTOMERS,
    PROMISING,
    NEED_ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANT_LOSE_THEM,
    HIBERNATING,
    LOST,
)


@dataclass(frozen=True)
class SegmentRule:
    segment: str
    description: str
    cells: frozenset[tuple[int, int]]  # the (R, FM) score pairs the segment covers

    def matches(self, r: int, fm: int) -> bool:
        return (r, fm) in self.cells


def _rule(
    segment: str, description: str, recency: Sequence[int], fm: Sequence[int], *, minus: Sequence[tuple[int, int]] = ()
) -> SegmentRule:
    cells = frozenset((r, score) for r in recency for score in fm) - frozenset(minus)
    return SegmentRule(segment, description, cells)


# The score map on (R, FM), a 5 x 5 grid that the rules tile without gaps or overlaps.
SEGMENT_RULES: tuple[SegmentRule, ...] = (
    _rule(CHAMPIONS, "Bought very recently, buy often and spend the most.", [5], [4, 5]),
    _rule(LOYAL_CUSTOMERS, "Buy often and spend well; bought fairly recently.", [3, 4], [4, 5]),
    _rule(POTENTIAL_LOYALISTS, "Recent customers with average frequency and spend.", [4, 5], [2, 3]),
    _rule(NEW_CUSTOMERS, "Bought most recently, but little so far.", [5], [1]),
    _rule(PROMISING, "Recent shoppers who have not spent much yet.", [4], [1]),
    _rule(NEED_ATTENTION, "Average recency, frequency and spend.", [3], [3]),
    _rule(ABOUT_TO_SLEEP, "Below average recency, frequency and spend.", [3], [1, 2]),
    _rule(AT_RISK, "Bought often and spent well, but a long time ago.", [1, 2], [3, 4]),
    _rule(CANT_LOSE_THEM, "Were among the best customers; have not come back for a long time.", [1, 2], [5]),
    _rule(HIBERNATING, "Low spend and few purchases, long ago.", [1, 2], [1, 2], minus=[(1, 1)]),
    _rule(LOST, "The lowest recency, frequency and spend.", [1], [1]),
)


def combined_fm_score(f: int, m: int, *, frequency_informative: bool = True) -> int:
    """The FM score the segment map reads: mean of F and M rounded half up, or M alone."""
    if not frequency_informative:
        return m
    return (f + m + 1) // 2


def matching_rules(r: int, f: int, m: int, *, frequency_informative: bool = True) -> list[str]:
    """Every segment whose rule claims this score combination (the map is sound when exactly one)."""
    fm = combined_fm_score(f, m, frequency_informative=frequency_informative)
    return [rule.segment for rule in SEGMENT_RULES if rule.matches(r, fm)]


def _segment_for(r: int, fm: int) -> str:
    names = [rule.segment for rule in SEGMENT_RULES if rule.matches(r, fm)]
    if len(names) != 1:
        raise ValueError(f"R={r}, FM={fm} matches {names}: the segment rules must tile the grid")
    return names[0]


# The complete map: every (R, F, M) triple, with and without an informative frequency.
SEGMENT_MAP: dict[tuple[int, int, int], str] = {
    (r, f, m): _segment_for(r, combined_fm_score(f, m)) for r in SCORES for f in SCORES for m in SCORES
}
SEGMENT_MAP_WITHOUT_FREQUENCY: dict[tuple[int, int, int], str] = {
    (r, f, m): _segment_for(r, combined_fm_score(f, m, frequency_informative=False))
    for r in SCORES
    for f in SCORES
    for m in SCORES
}


def segment_for_scores(r: int, f: int, m: int, *, frequency_informative: bool = True) -> str:
    table = SEGMENT_MAP if frequency_informative else SEGMENT_MAP_WITHOUT_FREQUENCY
    return table[(r, f, m)]


@dataclass(frozen=True)
class CutPoint:
    """The values a score covers, as found in the data: min and max inclusive."""

    score: int
    min: float
    max: float
    customers: int


@dataclass(frozen=True)
class DimensionScores:
    scores: npt.NDArray[np.int8]
    cut_points: tuple[CutPoint, ...]  # ordered by score
    distinct_values: int


@dataclass(frozen=True)
class RfmScores:
    r: DimensionScores
    f: DimensionScores
    m: DimensionScores
    frequency_informative: bool
    segments: npt.NDArray[np.object_]


def _quintile_splits(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Indices j (into the sorted distinct values) after which a new score starts; four of them."""
    distinct = len(counts)
    cumulative = np.cumsum(counts)[:-1]  # customers at or below each possible split
    total = int(counts.sum())
    splits = [int(np.argmin(np.abs(cumulative - total * k / 5))) for k in range(1, 5)]
    for k in range(1, 4):
        splits[k] = max(splits[k], splits[k - 1] + 1)
    splits[3] = min(splits[3], distinct - 2)
    for k in range(2, -1, -1):
        splits[k] = min(splits[k], splits[k + 1] - 1)
    return np.array(splits, dtype=np.int64)


def _spread_scores(distinct: int) -> npt.NDArray[np.int64]:
    if distinct == 1:
        return np.array([3], dtype=np.int64)
    return np.array([1 + round(4 * i / (distinct - 1)) for i in range(distinct)], dtype=np.int64)


def quantile_scores(values: npt.ArrayLike, *, higher_is_better: bool = True) -> DimensionScores:
    """Score values 1-5 by quantiles, equal values sharing a score (see the module docstring)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return DimensionScores(np.zeros(0, dtype=np.int8), (), 0)
    if np.isnan(array).any():
        raise ValueError("values must not contain NaN")
    distinct_values, inverse, counts = np.unique(array, return_inverse=True, return_counts=True)
    distinct = len(distinct_values)
    if distinct >= 5:
        splits = _quintile_splits(counts)
        ascending = np.searchsorted(splits, np.arange(distinct), side="left") + 1
    else:
        ascending = _spread_scores(distinct)
    score_of_distinct = ascending if higher_is_better else 6 - ascending
    scores = score_of_distinct[inverse].astype(np.int8)

    cut_points = []
    for score in sorted(set(score_of_distinct.tolist())):
        members = score_of_distinct == score
        cut_points.append(
            CutPoint(
                score=int(score),
                min=float(distinct_values[members].min()),
                max=float(distinct_values[members].max()),
                customers=int(counts[members].sum()),
            )
        )
    return DimensionScores(scores=scores, cut_points=tuple(cut_points), distinct_values=distinct)


def score_with_cut_points(values: npt.ArrayLike, cut_points: Sequence[CutPoint]) -> npt.NDArray[np.int8]:
    """Score new values with cut points found earlier: the score whose range holds the value, a value
    between two ranges taking the score of the higher range, and values beyond either end the end's."""
    array = np.asarray(values, dtype=np.float64)
    by_value = sorted(cut_points, key=lambda cut: cut.max)
    upper_bounds = np.array([cut.max for cut in by_value])
    positions = np.minimum(np.searchsorted(upper_bounds, array, side="left"), len(by_value) - 1)
    return np.array([cut.score for cut in by_value], dtype=np.int8)[positions]


def _segments(
    r: npt.NDArray[np.int8], f: npt.NDArray[np.int8], m: npt.NDArray[np.int8], informative: bool
) -> npt.NDArray[np.object_]:
    table = SEGMENT_MAP if informative else SEGMENT_MAP_WITHOUT_FREQUENCY
    lookup = np.empty((6, 6, 6), dtype=object)
    for (ri, fi, mi), name in table.items():
        lookup[ri, fi, mi] = name
    return lookup[r.astype(np.intp), f.astype(np.intp), m.astype(np.intp)]


def rfm_scores(recency_days: npt.ArrayLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> RfmScores:
    """Score every customer and name their RFM segment. Arrays are aligned, one entry per customer."""
    r = quantile_scores(recency_days, higher_is_better=False)
    f = quantile_scores(frequency)
    m = quantile_scores(monetary)
    informative = f.distinct_values > 1
    return RfmScores(
        r=r, f=f, m=m, frequency_informative=informative, segments=_segments(r.scores, f.scores, m.scores, informative)
    )


def cut_points_as_dict(scores: RfmScores) -> dict[str, list[dict[str, float | int]]]:
    """The cut points in a JSON-ready shape, one list per dimension, ordered by score."""

    def rows(dimension: DimensionScores) -> list[dict[str, float | int]]:
        return [
            {"score": cut.score, "min": cut.min, "max": cut.max, "customers": cut.customers}
            for cut in dimension.cut_points
        ]

    return {"recency": rows(scores.r), "frequency": rows(scores.f), "monetary": rows(scores.m)}


def cut_points_from_dict(rows: Sequence[dict[str, float | int]]) -> tuple[CutPoint, ...]:
    return tuple(
        CutPoint(score=int(row["score"]), min=float(row["min"]), max=float(row["max"]), customers=int(row["customers"]))
        for row in rows
    )
