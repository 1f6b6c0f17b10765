"""The peers of the similarity benchmark: STUMPY's MASS joined over the market, its match per
series, and a float64 brute force, each with the same greedy top-k and exclusion zone as ours."""

from __future__ import annotations

import numpy as np


def greedy_topk(candidates, m: int, k: int):
    """Global top-k of (distance, series, start) with the per-series exclusion zone."""
    zone = (m + 1) // 2
    taken: dict[int, list[int]] = {}
    out = []
    for d, s, i in sorted(candidates):
        if len(out) == k:
            break
        if all(abs(i - j) > zone for j in taken.get(s, [])):
            taken.setdefault(s, []).append(i)
            out.append((float(d), int(s), int(i)))
    return out


# --- peers -----------------------------------------------------------------------------------


class JoinedMass:
    """One stumpy.mass call over all series joined by NaN, statistics precomputed."""

    def __init__(self, series, m):
        import stumpy

        self.stumpy = stumpy
        self.m = m
        pieces = []
        starts = []
        pos = 0
        for x in series:
            starts.append(pos)
            pieces += [x, [np.nan]]
            pos += len(x) + 1
        self.T = np.concatenate(pieces)
        self.starts = np.asarray(starts)
        self.lengths = np.array([len(x) for x in series])
        self.M_T, self.Σ_T = stumpy.core.compute_mean_std(self.T, m)
        self.isconstant = stumpy.core.rolling_isconstant(self.T, m)

    def profile(self, q):
        return self.stumpy.mass(
            q, self.T, M_T=self.M_T, Σ_T=self.Σ_T, T_subseq_isconstant=self.isconstant
        )

    def topk(self, q, k):
        d = self.profile(q)
        count = 4096
        while True:
            idx = np.argpartition(d, count)[:count]
            s = np.searchsorted(self.starts, idx, side="right") - 1
            i = idx - self.starts[s]
            ok = np.isfinite(d[idx]) & (i + self.m <= self.lengths[s])
            found = greedy_topk(zip(d[idx][ok], s[ok], i[ok], strict=True), self.m, k)
            if len(found) == k or count * 4 >= d.size:
                return found
            count *= 4


class MatchPerSeries:
    """stumpy.match on every series, statistics precomputed."""

    def __init__(self, series, m):
        import stumpy

        stumpy.config.STUMPY_EXCL_ZONE_DENOM = 2  # the product's exclusion zone, ceil(m/2)
        self.stumpy = stumpy
        self.series = series
        self.stats = [
            (*stumpy.core.compute_mean_std(x, m), stumpy.core.rolling_isconstant(x, m))
            for x in series
        ]

    def topk(self, q, k, subset=None):
        found = []
        for s in range(len(self.series)) if subset is None else subset:
            M_T, Σ_T, isconstant = self.stats[s]
            hits = self.stumpy.match(
                q,
                self.series[s],
                M_T=M_T,
                Σ_T=Σ_T,
                max_distance=np.inf,
                max_matches=k,
                T_subseq_isconstant=isconstant,
            )
            found += [(float(d), s, int(i)) for d, i in hits]
        found.sort()
        return found[:k]


def brute_force(series, q, k):
    """The definition, in float64 and without shortcuts: every window's mean, its population
    standard deviation (two passes) and its correlation with the z-normalised pattern."""
    m = len(q)
    qn = (q - q.mean()) / q.std()
    found = []
    for s, x in enumerate(series):
        count = len(x) - m + 1
        if count <= 0:
            continue
        mean = np.zeros(count)
        for j in range(m):
            mean += x[j : j + count]
        mean /= m
        ssd = np.zeros(count)
        dot = np.zeros(count)
        for j in range(m):
            dev = x[j : j + count] - mean
            ssd += dev * dev
            dot += qn[j] * dev
        sd = np.sqrt(ssd / m)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.sqrt(np.maximum(2 * m * (1 - dot / (m * sd)), 0))
        d[sd <= 0] = np.inf
        best = np.argsort(d, kind="stable")[: 4 * k * (m // 2 + 2)]
        found += [(float(d[i]), s, int(i)) for i in best]
    return greedy_topk(found, m, k)


def agree(a, b) -> bool:
    if [(s, i) for _, s, i in a] != [(s, i) for _, s, i in b]:
        return False
    return all(
        abs(x[0] - y[0]) <= 1e-6 * max(abs(y[0]), 1e-9) + 1e-9 for x, y in zip(a, b, strict=True)
    )


def as_triples(matches):
    return [(mt.distance, mt.series, mt.start) for mt in matches]
