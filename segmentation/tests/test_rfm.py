import itertools

import numpy as np
import pytest

from segmentation import rfm


@pytest.mark.parametrize("informative", [True, False])
def test_every_one_of_the_125_score_combinations_lands_in_exactly_one_segment(informative: bool) -> None:
    combinations = list(itertools.product(rfm.SCORES, repeat=3))
    assert len(combinations) == 125
    for r, f, m in combinations:
        matches = rfm.matching_rules(r, f, m, frequency_informative=informative)
        assert len(matches) == 1, (r, f, m, matches)
        assert rfm.segment_for_scores(r, f, m, frequency_informative=informative) == matches[0]


def test_the_score_map_uses_all_eleven_segments_and_only_them() -> None:
    assert len(rfm.SEGMENTS) == 11
    assert set(rfm.SEGMENT_MAP.values()) == set(rfm.SEGMENTS)
    assert set(rfm.SEGMENT_MAP_WITHOUT_FREQUENCY.values()) == set(rfm.SEGMENTS)
    assert {rule.segment for rule in rfm.SEGMENT_RULES} == set(rfm.SEGMENTS)


@pytest.mark.parametrize(
    ("scores", "segment"),
    [
        ((5, 5, 5), rfm.CHAMPIONS),
        ((5, 1, 1), rfm.NEW_CUSTOMERS),
        ((4, 1, 1), rfm.PROMISING),
        ((1, 1, 1), rfm.LOST),
        ((2, 1, 1), rfm.HIBERNATING),
        ((1, 5, 5), rfm.CANT_LOSE_THEM),
        ((2, 4, 3), rfm.AT_RISK),
        ((3, 3, 3), rfm.NEED_ATTENTION),
        ((3, 1, 2), rfm.ABOUT_TO_SLEEP),
        ((4, 5, 4), rfm.LOYAL_CUSTOMERS),
        ((5, 2, 3), rfm.POTENTIAL_LOYALISTS),
    ],
)
def test_score_map_names_the_textbook_cases(scores: tuple[int, int, int], segment: str) -> None:
    assert rfm.segment_for_scores(*scores) == segment


def test_without_informative_frequency_the_map_reads_m_alone() -> None:
    # F is constant (3) when everyone bought once; a top spender who bought recently is a Champion.
    assert rfm.segment_for_scores(5, 3, 5, frequency_informative=False) == rfm.CHAMPIONS
    assert rfm.segment_for_scores(5, 3, 1, frequency_informative=False) == rfm.NEW_CUSTOMERS
    assert rfm.segment_for_scores(5, 3, 1, frequency_informative=True) == rfm.POTENTIAL_LOYALISTS


def test_continuous_values_split_into_equal_fifths() -> None:
    result = rfm.quantile_scores(np.arange(100.0))
    assert np.bincount(result.scores, minlength=6)[1:].tolist() == [20, 20, 20, 20, 20]
    assert [(cut.score, cut.min, cut.max) for cut in result.cut_points] == [
        (1, 0, 19),
        (2, 20, 39),
        (3, 40, 59),
        (4, 60, 79),
        (5, 80, 99),
    ]


def test_equal_values_share_a_score_and_every_score_is_used_when_there_are_five_distinct_values() -> None:
    # Typical frequencies: most customers bought once, few often.
    values = np.array([1] * 40 + [2] * 25 + [3] * 15 + [4] * 8 + [5] * 6 + [9] * 6)
    result = rfm.quantile_scores(values)
    for value in np.unique(values):
        assert len(np.unique(result.scores[values == value])) == 1
    assert set(result.scores.tolist()) == {1, 2, 3, 4, 5}
    assert [(cut.score, cut.min, cut.max, cut.customers) for cut in result.cut_points] == [
        (1, 1, 1, 40),
        (2, 2, 2, 25),
        (3, 3, 3, 15),
        (4, 4, 4, 8),
        (5, 5, 9, 12),
    ]


def test_a_huge_tie_still_leaves_every_score_used() -> None:
    values = np.array([1] * 96 + [2, 3, 4, 5])
    result = rfm.quantile_scores(values)
    assert set(result.scores.tolist()) == {1, 2, 3, 4, 5}
    assert set(result.scores[values == 1].tolist()) == {1}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([7, 7, 7], [3, 3, 3]),
        ([1, 1, 1, 2], [1, 1, 1, 5]),
        ([1, 2, 3], [1, 3, 5]),
        ([1, 2, 3, 4], [1, 2, 4, 5]),
    ],
)
def test_fewer_than_five_distinct_values_spread_over_the_scale(values: list[int], expected: list[int]) -> None:
    assert rfm.quantile_scores(values).scores.tolist() == expected


def test_recency_scores_run_the_other_way() -> None:
    days = np.array([1, 10, 100, 200, 400])
    assert rfm.quantile_scores(days, higher_is_better=False).scores.tolist() == [5, 4, 3, 2, 1]


def test_scoring_does_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 30, size=500)
    order = rng.permutation(500)
    straight = rfm.quantile_scores(values).scores
    shuffled = rfm.quantile_scores(values[order]).scores
    assert shuffled.tolist() == straight[order].tolist()


def test_rfm_scores_flag_constant_frequency_and_name_every_customer() -> None:
    recency = np.array([1, 5, 30, 60, 90, 120, 200, 300, 365, 400])
    monetary = np.array([500, 20, 300, 40, 250, 10, 600, 35, 5, 700.0])
    result = rfm.rfm_scores(recency, np.ones(10), monetary)
    assert not result.frequency_informative
    assert set(result.f.scores.tolist()) == {3}
    expected = [
        rfm.segment_for_scores(int(r), 3, int(m), frequency_informative=False)
        for r, m in zip(result.r.scores, result.m.scores, strict=True)
    ]
    assert result.segments.tolist() == expected
    assert result.segments[0] == rfm.CHAMPIONS  # most recent, among the top spenders


def test_score_with_cut_points_reproduces_the_scores_of_the_data_it_came_from() -> None:
    rng = np.random.default_rng(5)
    days = rng.integers(1, 400, size=300)
    result = rfm.quantile_scores(days, higher_is_better=False)
    assert rfm.score_with_cut_points(days, result.cut_points).tolist() == result.scores.tolist()
    assert rfm.score_with_cut_points([0, 10_000], result.cut_points).tolist() == [5, 1]


def test_cut_points_round_trip_through_json_shape() -> None:
    result = rfm.rfm_scores([1, 2, 3, 4, 5, 6], [1, 1, 2, 2, 3, 3], [10, 20, 30, 40, 50, 60])
    as_dict = rfm.cut_points_as_dict(result)
    assert rfm.cut_points_from_dict(as_dict["monetary"]) == result.m.cut_points
