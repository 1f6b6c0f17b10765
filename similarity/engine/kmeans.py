"""The scenario clustering's KMeans and silhouette, without scikit-learn's per-call overhead.

``kmeans_labels(X, groups, seed)`` is ``sklearn.cluster.KMeans(n_clusters=groups, n_init=10,
random_state=seed).fit_predict(X)`` for dense float64 data, step by step as scikit-learn 1.9
runs it (Lloyd's algorithm, k-means++ seeding with the same draws from the same
``RandomState``, the same tolerance, convergence tests and choice among the runs), and
``silhouette(X, labels)`` is ``sklearn.metrics.silhouette_score(X, labels)``. A search clusters
a few dozen paths at most, where scikit-learn spends about 15 ms a search in validation and
dispatch and these take well under one. The two agree on the groups (tests compare them on
random and real paths); where an exact replay would need scikit-learn's handling of an empty
cluster, or its chunked sums over more than ``_CHUNK`` paths, scikit-learn itself runs.
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import njit

# scikit-learn's Lloyd iterations sum the paths in chunks of this many (one chunk below it).
_CHUNK = 256
_MAX_ITER = 300
_TOL = 1e-4
# Relative difference of two distances, or of a run's figure and a threshold, below which the
# float rounding of another summation order could decide: scikit-learn then runs itself.
_TIE = 1e-9


def kmeans_labels(features: np.ndarray, groups: int, seed: int, n_init: int = 10) -> np.ndarray:
    """KMeans labels of the rows of ``features`` (see the module's docstring)."""
    X = np.array(features, dtype=np.float64, order="C")
    n = X.shape[0]
    if n > _CHUNK or groups > n:
        return _sklearn_labels(features, groups, seed, n_init)
    tol = float(np.mean(np.var(X, axis=0))) * _TOL
    random_state = np.random.RandomState(seed)
    X -= X.mean(axis=0)
    squared_norms = np.einsum("ij,ij->i", X, X)
    weights = np.ones(n)
    best_labels = None
    best_inertia = 0.0
    for _ in range(n_init):
        centers = _kmeans_plusplus(X, groups, squared_norms, weights, random_state)
        labels, inertia, replayed = _lloyd(X, centers, tol, _MAX_ITER)
        if not replayed:
            return _sklearn_labels(features, groups, seed, n_init)
        near = best_labels is not None and abs(inertia - best_inertia) <= _TIE * best_inertia
        if near and not _same_clustering(labels, best_labels, groups):
            return _sklearn_labels(features, groups, seed, n_init)
        if best_labels is None or (
            inertia < best_inertia and not _same_clustering(labels, best_labels, groups)
        ):
            best_labels, best_inertia = labels, inertia
    return best_labels.astype(np.int64)


def silhouette(features: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette of the clustering (Euclidean distances), as scikit-learn's
    ``silhouette_score``; at least 2 and at most n - 1 distinct labels."""
    X = np.asarray(features, dtype=np.float64)
    _, labels = np.unique(labels, return_inverse=True)
    freqs = np.bincount(labels)
    squared = np.einsum("ij,ij->i", X, X)
    distances = -2 * (X @ X.T)
    distances += squared[:, None]
    distances += squared[None, :]
    np.maximum(distances, 0, out=distances)
    np.fill_diagonal(distances, 0)
    np.sqrt(distances, out=distances)
    n = X.shape[0]
    cluster = np.zeros((n, freqs.size))
    for i in range(n):
        cluster[i] += np.bincount(labels, weights=distances[i], minlength=freqs.size)
    own = (np.arange(n), labels)
    intra = cluster[own]
    cluster[own] = np.inf
    cluster /= freqs
    inter = cluster.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        intra /= (freqs - 1).take(labels, mode="clip")
        samples = inter - intra
        samples /= np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(samples)))


def _sklearn_labels(features, groups: int, seed: int, n_init: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = KMeans(n_clusters=groups, n_init=n_init, random_state=seed)
        return model.fit_predict(features).astype(np.int64)


def _squared_distances(a: np.ndarray, X: np.ndarray, squared_norms: np.ndarray) -> np.ndarray:
    """Squared distances of the rows of ``a`` to those of ``X``, as scikit-learn computes them."""
    distances = -2 * (a @ X.T)
    distances += np.einsum("ij,ij->i", a, a)[:, None]
    distances += squared_norms[None, :]
    np.maximum(distances, 0, out=distances)
    return distances


def _kmeans_plusplus(X, groups, squared_norms, weights, random_state) -> np.ndarray:
    """Greedy k-means++ seeding with 2 + log(groups) trials a centre."""
    n = X.shape[0]
    trials = 2 + int(np.log(groups))
    centers = np.empty((groups, X.shape[1]))
    first = random_state.choice(n, p=weights / weights.sum())
    centers[0] = X[first]
    closest = _squared_distances(centers[0, np.newaxis], X, squared_norms)
    potential = closest @ weights
    for c in range(1, groups):
        draws = random_state.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(weights * closest), draws)
        np.clip(candidates, None, closest.size - 1, out=candidates)
        distances = _squared_distances(X[candidates], X, squared_norms)
        np.minimum(closest, distances, out=distances)
        potentials = distances @ weights.reshape(-1, 1)
        best = np.argmin(potentials)
        potential = potentials[best]
        closest = distances[best]
        centers[c] = X[candidates[best]]
    return centers


def _same_clustering(a: np.ndarray, b: np.ndarray, groups: int) -> bool:
    mapping = np.full(groups, -1)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if mapping[x] == -1:
            mapping[x] = y
        elif mapping[x] != y:
            return False
    return True


@njit(cache=True, nogil=True)
def _squared_distance(X, i, centers, j):
    """scikit-learn's _euclidean_dense_dense (squared): sums of four terms, then the rest."""
    f = X.shape[1]
    result = 0.0
    k = 0
    for _ in range(f // 4):
        d0 = X[i, k] - centers[j, k]
        d1 = X[i, k + 1] - centers[j, k + 1]
        d2 = X[i, k + 2] - centers[j, k + 2]
        d3 = X[i, k + 3] - centers[j, k + 3]
        result += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3
        k += 4
    for r in range(f % 4):
        d = X[i, k + r] - centers[j, k + r]
        result += d * d
    return result


@njit(cache=True, nogil=True)
def _lloyd_step(X, centers, centers_new, weight, labels, shift, update):
    """One assignment (and, with ``update``, centre update) of Lloyd's algorithm; False when a
    cluster is left empty (scikit-learn then relocates it, which is not replayed here)."""
    n, f = X.shape
    k = centers.shape[0]
    norms = np.zeros(k)
    for j in range(k):
        s = 0.0
        for t in range(f):
            s += centers[j, t] * centers[j, t]
        norms[j] = s
    if update:
        centers_new[:, :] = 0.0
        weight[:] = 0.0
    scale = 0.0
    for j in range(k):
        scale = max(scale, norms[j])
    for i in range(n):
        best = 0
        best_d = 0.0
        second_d = np.inf
        own = 0.0
        for t in range(f):
            own += X[i, t] * X[i, t]
        for j in range(k):
            dot = 0.0
            for t in range(f):
                dot += X[i, t] * centers[j, t]
            d = norms[j] + -2.0 * dot
            if j == 0 or d < best_d:
                second_d = best_d if j > 0 else np.inf
                best, best_d = j, d
            elif d < second_d:
                second_d = d
        # scikit-learn sums the dot products in another order (BLAS): a path about as near to
        # two centres as that rounding is not replayed.
        if second_d - best_d <= _TIE * (own + scale):
            return False
        labels[i] = best
        if update:
            weight[best] += 1.0
            for t in range(f):
                centers_new[best, t] += X[i, t]
    if not update:
        return True
    for j in range(k):
        if weight[j] == 0.0:
            return False
    for j in range(k):
        alpha = 1.0 / weight[j]
        for t in range(f):
            centers_new[j, t] *= alpha
    for j in range(k):
        shift[j] = np.sqrt(_squared_distance(centers_new, j, centers, j))
    return True


@njit(cache=True, nogil=True)
def _lloyd(X, centers_init, tol, max_iter):
    """Lloyd's algorithm from ``centers_init``: the labels, the inertia, and whether the run
    was replayed exactly (no cluster ever empty)."""
    n = X.shape[0]
    k = centers_init.shape[0]
    centers = centers_init.copy()
    centers_new = np.zeros_like(centers)
    labels = np.full(n, -1, dtype=np.int64)
    old = labels.copy()
    weight = np.zeros(k)
    shift = np.zeros(k)
    strict = False
    for _ in range(max_iter):
        if not _lloyd_step(X, centers, centers_new, weight, labels, shift, True):
            return labels, 0.0, False
        centers, centers_new = centers_new, centers
        same = True
        for i in range(n):
            if labels[i] != old[i]:
                same = False
                break
        if same:
            strict = True
            break
        total = 0.0
        for j in range(k):
            total += shift[j] * shift[j]
        if abs(total - tol) <= _TIE * tol:
            return labels, 0.0, False
        if total <= tol:
            break
        old[:] = labels
    if not strict and not _lloyd_step(X, centers, centers, weight, labels, shift, False):
        return labels, 0.0, False
    inertia = 0.0
    for i in range(n):
        inertia += _squared_distance(X, i, centers, labels[i])
    return labels, inertia, True
