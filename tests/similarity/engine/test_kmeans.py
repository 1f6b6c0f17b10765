"""The scenario clustering's KMeans and silhouette replay scikit-learn's on the same data."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from similarity.engine.kmeans import kmeans_labels, silhouette


def _same_partition(a, b) -> bool:
    forward, backward = {}, {}
    for x, y in zip(np.asarray(a).tolist(), np.asarray(b).tolist(), strict=True):
        if forward.setdefault(x, y) != y or backward.setdefault(y, x) != x:
            return False
    return True


def _paths(rng, case):
    n = int(rng.integers(8, 40))
    h = int(rng.choice([5, 20, 60]))
    paths = np.cumsum(rng.normal(0, 0.02, (n, h)), axis=1)
    if case % 3 == 1:
        paths[: n // 3] += 0.1 * np.linspace(0, 1, h)
    elif case % 3 == 2:
        paths = np.round(paths, 2)  # prices in ticks: ties and duplicates
        paths[1] = paths[0]
    return paths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_labels_partition_as_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    for case in range(40):
        paths = _paths(rng, case)
        for groups in (2, 3, 4):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = KMeans(n_clusters=groups, n_init=10, random_state=0).fit_predict(paths)
            assert _same_partition(kmeans_labels(paths, groups, 0), expected)


def test_silhouette_equals_scikit_learn():
    rng = np.random.default_rng(5)
    for case in range(30):
        paths = _paths(rng, case)
        labels = rng.integers(0, 3, paths.shape[0])
        labels[:3] = [0, 1, 2]
        assert silhouette(paths, labels) == pytest.approx(
            silhouette_score(paths, labels), rel=1e-12, abs=1e-12
        )
