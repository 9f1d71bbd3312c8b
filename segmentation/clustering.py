"""K-Means segments on R, F and M: pure computation on arrays, no database.

Features: log1p of recency (days), frequency (purchases) and monetary (net amount, negatives counted
as 0), standardised. A feature with a single value (frequency when everyone bought once) carries no
information and is left out; the clusters then come from the others.

k: fixed by the caller (2..8), or the k in 3..8 with the best silhouette (two segments are rarely useful
to a marketer), each candidate fitted and scored on the same seeded sample of customers (ties go to the
smaller k). The final model is fitted on every customer. KMeans has a fixed random_state, so the same
data gives the same clusters.

Names (stable across refits because they depend on where a centroid sits, not on KMeans's labels):
1. each centroid is taken back to original units (days, purchases, money);
2. it is "active" when its recency is short both relative to the customers (at most their median
   recency) and in absolute terms (at most their typical gap between purchases, when the caller gives
   it, and never over 365 days), else "lapsed"; a median alone would call customers who last bought
   6,000 days ago active when most customers are that old (the 1997 CDNOW log next to 2021-2023 data).
   It is "high value" when its monetary value is at least the customers' median, else "low value";
3. clusters are numbered 0, 1, ... by value score (the centroid's monetary value, highest first;
   ties by recency, then frequency), and within each of the four groups take that group's names in
   that order; a group with more clusters than names repeats its last name with a number ("Dormant 2").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline

# scikit-learn and pandas are imported where a fit runs: the web processes import this module for its
# constants (NAMING_RULE, K_CANDIDATES) and would otherwise carry ~150 MB of libraries they never use.

RANDOM_STATE = 42
K_CANDIDATES = tuple(range(2, 9))  # the k a caller may ask for
DEFAULT_K_CANDIDATES = tuple(range(3, 9))  # the k the silhouette chooses among when none is asked for
MAX_ACTIVE_RECENCY_DAYS = 365
SILHOUETTE_SAMPLE = 3_000
N_INIT = 4
MIN_CUSTOMERS = 10
FEATURES = ("recency", "frequency", "monetary")

ACTIVE_HIGH_VALUE = ("VIP", "Big Spenders", "Regulars")
ACTIVE_LOW_VALUE = ("Newcomers", "Light Buyers", "Occasional Buyers")
LAPSED_HIGH_VALUE = ("Slipping Big Spenders", "Fading Regulars")
LAPSED_LOW_VALUE = ("Dormant", "Inactive")
# Every name a cluster can get (before numbering), best first. None of them is an RFM segment name.
CLUSTER_NAMES = ACTIVE_HIGH_VALUE + ACTIVE_LOW_VALUE + LAPSED_HIGH_VALUE + LAPSED_LOW_VALUE

NAMING_RULE = (
    "Each K-Means centroid is taken back to days, purchases and money. It is active when its recency is at "
    "most the customers' median recency and, in absolute terms, at most the customers' typical gap between "
    "purchases (the median days between a repeat customer's purchases) and never over 365 days (else "
    "lapsed), and high value when its net amount is at least the customers' median (else low value). "
    "Clusters are numbered by value (centroid net amount, highest first) and take the names of their group "
    "in that order: active and high value: VIP, Big Spenders, Regulars; active and low value: Newcomers, "
    "Light Buyers, Occasional Buyers; lapsed and high value: Slipping Big Spenders, Fading Regulars; lapsed "
    "and low value: Dormant, Inactive. A group with more clusters than names numbers its last name (Dormant 2)."
)


class ClusteringError(ValueError):
    """The data cannot be clustered (too few customers, no information); the message says why."""


def log1p_nonnegative(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Net amounts can be negative (returns exceed purchases): they count as no spend.
    return np.log1p(np.clip(values, 0, None))


@dataclass(frozen=True)
class ClusterProfile:
    """A cluster's centroid in original units, where it sits, and its name."""

    cluster: int
    name: str
    customers: int
    recency_days: float
    frequency: float
    monetary: float
    active: bool
    high_value: bool


@dataclass(frozen=True)
class FittedSegmenter:
    """What a run keeps to score new customers: the pipeline and how its labels map to named clusters."""

    pipeline: Pipeline
    features: tuple[str, ...]
    cluster_of_label: tuple[int, ...]  # KMeans label -> cluster number
    names: tuple[str, ...]  # cluster number -> name

    def predict(
        self, recency_days: npt.ArrayLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.object_]]:
        matrix = _feature_matrix(recency_days, frequency, monetary, self.features)
        labels = self.pipeline.predict(matrix)
        clusters = np.asarray(self.cluster_of_label, dtype=np.int16)[labels]
        return clusters, np.asarray(self.names, dtype=object)[clusters]


@dataclass(frozen=True)
class ClusteringResult:
    clusters: npt.NDArray[np.int16]  # per customer, numbered by value (0 = highest)
    names: npt.NDArray[np.object_]  # per customer
    k: int
    silhouette: float | None
    inertia: float
    silhouette_by_k: dict[int, float]
    features: tuple[str, ...]
    frequency_informative: bool
    profiles: tuple[ClusterProfile, ...]
    segmenter: FittedSegmenter
    parameters: dict[str, Any] = field(default_factory=dict)


def _feature_matrix(
    recency_days: npt.ArrayLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike, features: Sequence[str]
) -> npt.NDArray[np.float64]:
    columns = {
        "recency": np.asarray(recency_days, dtype=np.float64),
        "frequency": np.asarray(frequency, dtype=np.float64),
        "monetary": np.asarray(monetary, dtype=np.float64),
    }
    return np.column_stack([columns[name] for name in features])


def _distinct_rows(matrix: npt.NDArray[np.float64]) -> int:
    import pandas as pd

    return int((~pd.DataFrame(matrix).duplicated()).sum())


def load_libraries() -> None:
    """Import what a fit uses (pandas, scikit-learn's KMeans, pipeline and scaler, SciPy's distances;
    about a second of CPU the first time in a process, nothing after)."""
    import pandas  # noqa: F401 (loaded for the fits that follow)
    from scipy.spatial import distance  # noqa: F401
    from sklearn import cluster, pipeline, preprocessing  # noqa: F401


def _new_pipeline(k: int) -> Pipeline:
    from sklearn.cluster import KMeans
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return Pipeline(
        [
            ("log1p", FunctionTransformer(log1p_nonnegative)),
            ("scale", StandardScaler()),
            ("kmeans", KMeans(n_clusters=k, n_init=N_INIT, random_state=RANDOM_STATE)),
        ]
    )


def pairwise_distances(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Euclidean distances between all points (a few dimensions, a few thousand points): SciPy's one
    pass in C, twice as fast as a matrix product and its five passes over the n x n matrix."""
    from scipy.spatial.distance import cdist

    return cdist(points, points)


def silhouette_from_distances(distances: npt.NDArray[np.float64], labels: npt.ArrayLike) -> float | None:
    """Mean silhouette coefficient, as sklearn's silhouette_score (singletons score 0), from a distance
    matrix: one matrix product gives every point's summed distance to every cluster. None when it is
    undefined (fewer than two clusters, or every point its own cluster)."""
    return silhouettes_from_distances(distances, [labels])[0]


def silhouettes_from_distances(
    distances: npt.NDArray[np.float64], labelings: Sequence[npt.ArrayLike]
) -> list[float | None]:
    """silhouette_from_distances of several labelings of the same points. One matrix product serves them
    all: it reads the n x n distances once (the product is bound by that read, not by its arithmetic)."""
    points = len(distances)
    rows = np.arange(points)
    encoded = [np.unique(np.asarray(labels), return_inverse=True) for labels in labelings]
    one_hot = np.zeros((points, sum(len(clusters) for clusters, _ in encoded)))
    offsets = np.cumsum([0, *(len(clusters) for clusters, _ in encoded)])
    for (_, codes), offset in zip(encoded, offsets[:-1], strict=True):
        one_hot[rows, offset + codes] = 1.0
    all_sums = distances @ one_hot
    scores: list[float | None] = []
    for (clusters, codes), offset in zip(encoded, offsets[:-1], strict=True):
        if not 2 <= len(clusters) < points:
            scores.append(None)
            continue
        sums = all_sums[:, offset : offset + len(clusters)]
        sizes = one_hot[:, offset : offset + len(clusters)].sum(axis=0)
        own_size = sizes[codes]
        within = np.divide(sums[rows, codes], own_size - 1, out=np.zeros(points), where=own_size > 1)
        means = sums / sizes
        means[rows, codes] = np.inf
        nearest = means.min(axis=1)
        denominator = np.maximum(within, nearest)
        each = np.divide(nearest - within, denominator, out=np.zeros(points), where=denominator > 0)
        each[own_size == 1] = 0.0
        scores.append(float(each.mean()))
    return scores


def silhouette(points: npt.NDArray[np.float64], labels: npt.ArrayLike) -> float | None:
    return silhouette_from_distances(pairwise_distances(points), labels)


def active_recency_limit(median_recency: float, typical_gap_days: float | None) -> float:
    """The longest centroid recency (days) a cluster may have and still be called active."""
    limit = min(median_recency, MAX_ACTIVE_RECENCY_DAYS)
    return limit if typical_gap_days is None else min(limit, typical_gap_days)


def _name_clusters(
    centroids: npt.NDArray[np.float64], medians: tuple[float, float], *, typical_gap_days: float | None = None
) -> tuple[list[int], list[str], list[tuple[bool, bool]]]:
    """Order the clusters by value and name them (see the module docstring). Returns, per KMeans label,
    the cluster number, and per cluster number its name and (active, high value)."""
    median_recency, median_monetary = medians
    recency_limit = active_recency_limit(median_recency, typical_gap_days)
    labels = list(range(len(centroids)))
    # centroids columns: recency, frequency, monetary (original units)
    order = sorted(labels, key=lambda i: (-centroids[i, 2], centroids[i, 0], -centroids[i, 1], i))
    cluster_of_label = [0] * len(labels)
    names: list[str] = []
    positions: list[tuple[bool, bool]] = []
    used = {True: {True: 0, False: 0}, False: {True: 0, False: 0}}
    groups = {
        (True, True): ACTIVE_HIGH_VALUE,
        (True, False): ACTIVE_LOW_VALUE,
        (False, True): LAPSED_HIGH_VALUE,
        (False, False): LAPSED_LOW_VALUE,
    }
    for number, label in enumerate(order):
        cluster_of_label[label] = number
        active = bool(centroids[label, 0] <= recency_limit)
        high_value = bool(centroids[label, 2] >= median_monetary)
        group = groups[(active, high_value)]
        index = used[active][high_value]
        used[active][high_value] += 1
        name = group[index] if index < len(group) else f"{group[-1]} {index - len(group) + 2}"
        names.append(name)
        positions.append((active, high_value))
    return cluster_of_label, names, positions


def fit_clusters(
    recency_days: npt.ArrayLike,
    frequency: npt.ArrayLike,
    monetary: npt.ArrayLike,
    *,
    k: int | None = None,
    typical_gap_days: float | None = None,
    sample_size: int = SILHOUETTE_SAMPLE,
    random_state: int = RANDOM_STATE,
    threads: int = 1,
) -> ClusteringResult:
    """Fit the segments. Raises ClusteringError with a readable reason when the data cannot be clustered.

    `typical_gap_days`: the customers' typical gap between purchases, in days, computed by the caller (the
    median over customers with two or more purchases of (last purchase - first purchase) / (purchases - 1)).
    A cluster is named active only when its centroid recency is within it (and within 365 days and the
    median recency); None when unknown (no repeat customers), and then the 365-day cap alone applies.

    KMeans's thread pools are capped (one thread by default): OpenMP threads that spin while other
    processes hold the cores make a fit many times slower than a single thread."""
    from threadpoolctl import threadpool_limits

    # threadpoolctl caps only the runtimes already loaded: scikit-learn brings its OpenMP (and SciPy's
    # BLAS) with it, so import it first. Imported inside the block, the fits ran on uncapped OpenMP
    # threads: 3 s of CPU instead of 0.4 s at 120,000 customers, and 5-15 s of wall clock under load.
    load_libraries()
    with threadpool_limits(limits=threads):
        return _fit(
            np.asarray(recency_days, dtype=np.float64),
            np.asarray(frequency, dtype=np.float64),
            np.asarray(monetary, dtype=np.float64),
            k=k,
            typical_gap_days=typical_gap_days,
            sample_size=sample_size,
            random_state=random_state,
        )


def _fit(
    recency: npt.NDArray[np.float64],
    freq: npt.NDArray[np.float64],
    money: npt.NDArray[np.float64],
    *,
    k: int | None,
    typical_gap_days: float | None,
    sample_size: int,
    random_state: int,
) -> ClusteringResult:
    customers = len(recency)
    if k is not None and k not in K_CANDIDATES:
        raise ClusteringError(f"k must be between {K_CANDIDATES[0]} and {K_CANDIDATES[-1]}; got {k}.")
    if typical_gap_days is not None and not typical_gap_days > 0:
        raise ClusteringError(
            f"The typical gap between purchases must be a positive number of days; got {typical_gap_days}."
        )
    needed = max(MIN_CUSTOMERS, (k or DEFAULT_K_CANDIDATES[0]) + 1)
    if customers < needed:
        raise ClusteringError(
            f"Segmentation needs at least {needed} customers with a purchase; the data has {customers}. "
            "Import more transactions, then refit."
        )

    frequency_informative = bool(freq.min() != freq.max())
    features = tuple(
        name for name, values in zip(FEATURES, (recency, freq, money), strict=True) if values.min() != values.max()
    )
    if not features:
        raise ClusteringError("Every customer has the same recency, frequency and monetary value: nothing to cluster.")
    matrix = _feature_matrix(recency, freq, money, features)
    distinct_points = _distinct_rows(matrix)
    if k is not None and distinct_points < k:
        raise ClusteringError(
            f"k = {k} needs at least {k} customers with different R, F, M values; the data has {distinct_points}."
        )
    if distinct_points < 2:
        raise ClusteringError("All customers have the same R, F, M values: nothing to cluster.")

    rng = np.random.default_rng(random_state)
    if customers > sample_size:
        sample = np.sort(rng.choice(customers, size=sample_size, replace=False))
    else:
        sample = np.arange(customers)
    sample_matrix = matrix[sample]

    silhouette_by_k: dict[int, float] = {}
    if k is None:
        candidates = [c for c in DEFAULT_K_CANDIDATES if c < _distinct_rows(sample_matrix)]
        # Every candidate scales the same sample the same way, so one distance matrix serves them all.
        distances = pairwise_distances(_new_pipeline(2)[:-1].fit_transform(sample_matrix))
        labelings = [_new_pipeline(candidate).fit(sample_matrix)[-1].labels_ for candidate in candidates]
        for candidate, score in zip(candidates, silhouettes_from_distances(distances, labelings), strict=True):
            if score is not None:
                silhouette_by_k[candidate] = round(score, 6)
        if not silhouette_by_k:
            raise ClusteringError(
                "The customers are too alike to form three or more segments; choose k explicitly or import more data."
            )
        del distances
        best = max(silhouette_by_k.values())
        chosen_k = min(c for c, score in silhouette_by_k.items() if score == best)
    else:
        chosen_k = k

    pipeline = _new_pipeline(chosen_k).fit(matrix)
    kmeans: KMeans = pipeline[-1]
    labels = kmeans.labels_
    distances = pairwise_distances(pipeline[:-1].transform(sample_matrix))
    final_silhouette = silhouette_from_distances(distances, labels[sample])
    del distances

    centres_original = np.expm1(pipeline.named_steps["scale"].inverse_transform(kmeans.cluster_centers_))
    centroids = np.column_stack(
        [
            centres_original[:, features.index(name)] if name in features else np.full(chosen_k, values[0])
            for name, values in zip(FEATURES, (recency, freq, money), strict=True)
        ]
    )
    medians = (float(np.median(recency)), float(np.median(np.clip(money, 0, None))))
    cluster_of_label, names, positions = _name_clusters(centroids, medians, typical_gap_days=typical_gap_days)

    clusters = np.asarray(cluster_of_label, dtype=np.int16)[labels]
    counts = np.bincount(clusters, minlength=chosen_k)
    label_of_cluster = {number: label for label, number in enumerate(cluster_of_label)}
    profiles = tuple(
        ClusterProfile(
            cluster=number,
            name=names[number],
            customers=int(counts[number]),
            recency_days=round(float(centroids[label_of_cluster[number], 0]), 2),
            frequency=round(float(centroids[label_of_cluster[number], 1]), 2),
            monetary=round(float(centroids[label_of_cluster[number], 2]), 2),
            active=positions[number][0],
            high_value=positions[number][1],
        )
        for number in range(chosen_k)
    )
    segmenter = FittedSegmenter(
        pipeline=pipeline, features=features, cluster_of_label=tuple(cluster_of_label), names=tuple(names)
    )
    return ClusteringResult(
        clusters=clusters,
        names=np.asarray(names, dtype=object)[clusters],
        k=chosen_k,
        silhouette=None if final_silhouette is None else round(final_silhouette, 6),
        inertia=float(kmeans.inertia_),
        silhouette_by_k=silhouette_by_k,
        features=features,
        frequency_informative=frequency_informative,
        profiles=profiles,
        segmenter=segmenter,
        parameters={
            "k_requested": k,
            "k_candidates": list(DEFAULT_K_CANDIDATES) if k is None else [k],
            "random_state": random_state,
            "n_init": N_INIT,
            "silhouette_sample": len(sample),
            "features": list(features),
            "transform": "log1p (negatives as 0), then StandardScaler",
            "silhouette_by_k": {str(c): s for c, s in silhouette_by_k.items()},
            "median_recency_days": medians[0],
            "typical_gap_days": typical_gap_days,
            "active_recency_limit_days": round(active_recency_limit(medians[0], typical_gap_days), 2),
            "median_monetary": round(medians[1], 2),
        },
    )
