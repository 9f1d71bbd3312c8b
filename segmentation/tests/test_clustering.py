import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from segmentation import clustering


def _three_groups(seed: int = 0, per_group: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recent big spenders who buy often, recent small one-off buyers, and lapsed small buyers."""
    rng = np.random.default_rng(seed)
    recency = np.concatenate(
        [rng.integers(1, 10, per_group), rng.integers(1, 10, per_group), rng.integers(300, 400, per_group)]
    )
    frequency = np.concatenate(
        [rng.integers(15, 25, per_group), rng.integers(1, 2, per_group), rng.integers(1, 3, per_group)]
    )
    monetary = np.concatenate(
        [rng.uniform(2000, 3000, per_group), rng.uniform(5, 15, per_group), rng.uniform(5, 20, per_group)]
    )
    return recency, frequency, monetary.round(2)


def test_silhouette_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(size=(400, 3))
    labels = rng.integers(0, 4, size=400)
    labels[0] = 9  # a singleton cluster
    assert clustering.silhouette(points, labels) == pytest.approx(silhouette_score(points, labels), abs=1e-9)
    assert clustering.silhouette(points, np.zeros(400)) is None


def test_silhouettes_of_several_labelings_at_once_match_scikit_learn_one_by_one() -> None:
    rng = np.random.default_rng(2)
    points = rng.normal(size=(300, 3))
    labelings = [rng.integers(0, k, size=300) for k in (2, 5, 8)]
    labelings.insert(1, np.full(300, 4))  # a single cluster: undefined
    scores = clustering.silhouettes_from_distances(clustering.pairwise_distances(points), labelings)
    assert scores[1] is None
    for labels, score in zip(labelings, scores, strict=True):
        if score is not None:
            assert score == pytest.approx(silhouette_score(points, labels), abs=1e-9)
    assert sum(score is not None for score in scores) == 3


def test_k_is_chosen_by_silhouette_and_the_obvious_groups_are_found() -> None:
    recency, frequency, monetary = _three_groups()
    result = clustering.fit_clusters(recency, frequency, monetary)
    assert result.k == 3
    assert set(result.silhouette_by_k) == set(clustering.DEFAULT_K_CANDIDATES) == {3, 4, 5, 6, 7, 8}
    assert result.silhouette_by_k[3] == max(result.silhouette_by_k.values())
    # Each hand-built group is exactly one cluster.
    groups = np.repeat([0, 1, 2], 40)
    for group in range(3):
        assert len(np.unique(result.clusters[groups == group])) == 1
    assert len(np.unique(result.clusters)) == 3


def test_clusters_are_numbered_by_value_and_named_by_where_their_centroid_sits() -> None:
    recency, frequency, monetary = _three_groups()
    result = clustering.fit_clusters(recency, frequency, monetary)
    by_name = {profile.name: profile for profile in result.profiles}
    # Two thirds of the customers bought within ten days, so only the lapsed group is past the median.
    assert result.profiles[0].name == "VIP"
    assert result.profiles[0].monetary > 2000
    assert [profile.cluster for profile in result.profiles] == [0, 1, 2]
    monetary_order = [profile.monetary for profile in result.profiles]
    assert monetary_order == sorted(monetary_order, reverse=True)
    lapsed = [profile for profile in result.profiles if not profile.active]
    assert len(lapsed) == 1 and lapsed[0].recency_days > 250
    assert lapsed[0].name in clustering.LAPSED_HIGH_VALUE + clustering.LAPSED_LOW_VALUE
    assert set(by_name) <= set(clustering.CLUSTER_NAMES)
    assert result.names.tolist() == [result.profiles[c].name for c in result.clusters]


def test_the_same_data_gives_the_same_clusters_and_names() -> None:
    recency, frequency, monetary = _three_groups(seed=4, per_group=300)
    first = clustering.fit_clusters(recency, frequency, monetary, sample_size=200)
    second = clustering.fit_clusters(recency, frequency, monetary, sample_size=200)
    assert first.clusters.tolist() == second.clusters.tolist()
    assert first.names.tolist() == second.names.tolist()
    assert first.silhouette_by_k == second.silhouette_by_k
    assert first.silhouette_by_k and first.parameters["silhouette_sample"] == 200


def test_fixed_k_is_used_as_given() -> None:
    recency, frequency, monetary = _three_groups()
    result = clustering.fit_clusters(recency, frequency, monetary, k=5)
    assert result.k == 5
    assert result.silhouette_by_k == {}
    assert len(result.profiles) == 5
    assert sum(profile.customers for profile in result.profiles) == 120


def test_names_are_disambiguated_when_a_group_has_more_clusters_than_names() -> None:
    rng = np.random.default_rng(2)
    # Everyone lapsed-ish and alike: eight clusters must share few groups.
    recency = rng.integers(1, 1000, 500)
    monetary = rng.uniform(1, 100, 500)
    result = clustering.fit_clusters(recency, np.ones(500), monetary, k=8)
    names = [profile.name for profile in result.profiles]
    assert len(set(names)) == 8
    assert any(name[-1].isdigit() for name in names)


def test_constant_frequency_is_left_out_and_reported() -> None:
    recency, _, monetary = _three_groups()
    result = clustering.fit_clusters(recency, np.ones(len(recency)), monetary)
    assert not result.frequency_informative
    assert result.features == ("recency", "monetary")
    assert result.k >= 2
    assert all(profile.frequency == 1 for profile in result.profiles)


def test_a_stored_segmenter_scores_new_customers_like_the_fit() -> None:
    recency, frequency, monetary = _three_groups()
    result = clustering.fit_clusters(recency, frequency, monetary)
    clusters, names = result.segmenter.predict(recency, frequency, monetary)
    assert clusters.tolist() == result.clusters.tolist()
    assert names.tolist() == result.names.tolist()
    _, new_names = result.segmenter.predict([2], [20], [2500.0])
    assert new_names.tolist() == ["VIP"]


def test_negative_net_amounts_count_as_no_spend() -> None:
    recency, frequency, monetary = _three_groups()
    monetary[-1] = -50.0
    result = clustering.fit_clusters(recency, frequency, monetary)
    assert np.isfinite(result.inertia)


@pytest.mark.parametrize("customers", [0, 3, 9])
def test_too_few_customers_is_refused_with_a_clear_reason(customers: int) -> None:
    with pytest.raises(clustering.ClusteringError, match=rf"at least 10 customers .* has {customers}\."):
        clustering.fit_clusters(np.arange(customers), np.ones(customers), np.arange(customers) * 10.0)


def test_identical_customers_cannot_be_clustered() -> None:
    with pytest.raises(clustering.ClusteringError, match="same recency, frequency and monetary"):
        clustering.fit_clusters(np.full(20, 5), np.ones(20), np.full(20, 10.0))


def test_two_segments_are_not_chosen_by_default_but_can_be_asked_for() -> None:
    # Two obvious groups: silhouette would pick k = 2 from 2..8; the default search starts at 3.
    rng = np.random.default_rng(3)
    recency = np.concatenate([rng.integers(1, 10, 60), rng.integers(200, 260, 60)])
    frequency = np.concatenate([rng.integers(10, 14, 60), rng.integers(1, 3, 60)])
    monetary = np.concatenate([rng.uniform(900, 1000, 60), rng.uniform(10, 20, 60)])
    assert clustering.fit_clusters(recency, frequency, monetary).k >= 3
    assert clustering.fit_clusters(recency, frequency, monetary, k=2).k == 2


@pytest.mark.parametrize(
    ("centroid_recency", "median_recency", "typical_gap", "active"),
    [
        (30.0, 100.0, 45.0, True),  # recent, within the gap
        (60.0, 100.0, 45.0, False),  # before the median, but past the typical gap: lapsed
        (200.0, 300.0, None, True),  # no gap known: the median and the 365-day cap
        (400.0, 500.0, None, False),  # never over 365 days
        (400.0, 500.0, 800.0, False),  # not even when customers buy every 800 days
        (120.0, 100.0, 200.0, False),  # past the median: lapsed, as before
    ],
)
def test_active_needs_a_recency_short_in_absolute_terms_too(
    centroid_recency: float, median_recency: float, typical_gap: float | None, active: bool
) -> None:
    centroids = np.array([[centroid_recency, 3.0, 500.0], [median_recency * 3 + 1000, 1.0, 10.0]])
    _, names, positions = clustering._name_clusters(centroids, (median_recency, 100.0), typical_gap_days=typical_gap)
    assert positions[0] == (active, True)
    assert names[0] == ("VIP" if active else "Slipping Big Spenders")


def _two_eras(seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 1997-1998 log beside 2021-2023 customers, as of 2023, the old era the majority (as CDNOW's 23,570
    customers beside a smaller shop): its one-time buyers last bought ~6,300 days ago, its repeat buyers
    ~5,900, so the median recency falls among the one-time buyers and the repeaters' centroid is below it."""
    rng = np.random.default_rng(seed)
    groups = [  # customers, recency range (days), frequency choices, monetary (gamma shape, scale)
        (2_000, (6_200, 6_450), [1], (2.0, 15.0)),
        (600, (5_880, 6_000), [2, 3, 4, 5, 6], (3.0, 40.0)),
        (400, (1, 40), list(range(8, 25)), (4.0, 600.0)),
        (300, (100, 700), [1, 2, 3, 4, 5, 6], (2.0, 300.0)),
    ]
    recency = np.concatenate([rng.integers(low, high, size) for size, (low, high), _, _ in groups])
    frequency = np.concatenate([rng.choice(choices, size) for size, _, choices, _ in groups])
    monetary = np.concatenate([rng.gamma(shape, scale, size) for size, _, _, (shape, scale) in groups])
    return recency, frequency, monetary.round(2)


@pytest.mark.parametrize("typical_gap", [None, 60.0])
def test_customers_from_another_era_are_never_called_active(typical_gap: float | None) -> None:
    recency, frequency, monetary = _two_eras()
    result = clustering.fit_clusters(recency, frequency, monetary, typical_gap_days=typical_gap)
    assert np.median(recency) > 5_000  # the old rule's bar: these centroids passed it
    lapsed_names = clustering.LAPSED_HIGH_VALUE + clustering.LAPSED_LOW_VALUE
    for profile in result.profiles:
        if profile.recency_days > min(365, typical_gap or 365):
            assert not profile.active
            assert profile.name.rstrip(" 0123456789") in lapsed_names, profile
    old_customers = recency > 5_000
    for cluster in np.unique(result.clusters[old_customers]):
        profile = result.profiles[cluster]
        if profile.recency_days > 5_000:
            assert profile.name.rstrip(" 0123456789") in lapsed_names
    assert any(profile.recency_days > 5_000 for profile in result.profiles)
    assert any(profile.active for profile in result.profiles)  # the recent ones still are
    limit = result.parameters["active_recency_limit_days"]
    assert limit == (365 if typical_gap is None else typical_gap)
    assert result.parameters["typical_gap_days"] == typical_gap


def test_the_typical_gap_must_be_a_positive_number_of_days() -> None:
    recency, frequency, monetary = _three_groups()
    with pytest.raises(clustering.ClusteringError, match="positive number of days"):
        clustering.fit_clusters(recency, frequency, monetary, typical_gap_days=0.0)


def test_k_outside_the_range_is_refused() -> None:
    recency, frequency, monetary = _three_groups()
    with pytest.raises(clustering.ClusteringError, match="between 2 and 8"):
        clustering.fit_clusters(recency, frequency, monetary, k=12)


# Run in a fresh interpreter: the thread caps only reach the runtimes loaded before they are set, so the
# check needs a process where scikit-learn (and its OpenMP) is not loaded yet.
_THREADS_DURING_FITS = """
import json
import numpy as np
import threadpoolctl
from segmentation import clustering

seen = []
new_pipeline = clustering._new_pipeline

def spy(k):
    pipeline = new_pipeline(k)
    seen.append([(pool["internal_api"], pool["num_threads"]) for pool in threadpoolctl.threadpool_info()])
    return pipeline

clustering._new_pipeline = spy
rng = np.random.default_rng(0)
clustering.fit_clusters(rng.integers(1, 400, 300), rng.integers(1, 9, 300), rng.uniform(5, 900, 300))
print(json.dumps(seen))
"""


def test_every_fit_runs_on_one_thread_even_in_a_process_that_had_not_loaded_scikit_learn() -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    # Four threads unless capped, whatever the machine's cores: an uncapped pool cannot pass for a capped one.
    env = {**os.environ, "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "4"}
    root = Path(clustering.__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-c", _THREADS_DURING_FITS], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout
    pools_per_fit = json.loads(output.strip().splitlines()[-1])
    assert len(pools_per_fit) == len(clustering.DEFAULT_K_CANDIDATES) + 2  # the sample's scaler, each k, the final fit
    assert all("openmp" in {api for api, _ in pools} for pools in pools_per_fit)
    assert {threads for pools in pools_per_fit for _, threads in pools} == {1}
