"""The verdict per horizon: do the matches' excess returns differ from the base rate's?

Judged on excess returns (the market's move over the same days taken out), one value per
episode, against the median excess of every window that could have been a match. A two-sided
sign test per horizon (exact binomial, no assumption about the distribution's shape; ties with
the base rate's median dropped), with Holm's step-down correction over the horizons judged, so
that on matches that say nothing the verdicts fire for at most ``VERDICT_ALPHA`` of patterns
across all horizons together. Fewer than ``MIN_VERDICT_EPISODES`` episodes: ``insufficient``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VERDICTS = ("above", "below", "indistinguishable", "insufficient")
VERDICT_ALPHA = 0.05
MIN_VERDICT_EPISODES = 10


def sign_test(values: np.ndarray, center: float) -> float:
    """Two-sided exact p-value that ``values`` (NaN dropped) have median ``center``; 1.0 when
    every value ties with it."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    above = int(np.count_nonzero(values > center))
    below = int(np.count_nonzero(values < center))
    if above + below == 0:
        return 1.0
    n = above + below
    # scipy.stats takes 0.9 s to import: only a process that judges results pays for it (the
    # web process does at start, in similarity.snapshot's warm-up), not every command.
    from scipy.stats import binom

    # The binomial(n, 1/2) is symmetric: twice the smaller tail, at most 1.
    tail = binom.cdf(min(above, below), n, 0.5)
    return float(min(1.0, 2.0 * tail))


def holm(p_values: Sequence[float], alpha: float = VERDICT_ALPHA) -> list[bool]:
    """Holm's step-down test: which hypotheses are rejected at family-wise level ``alpha``."""
    p = np.asarray(p_values, dtype=np.float64)
    rejected = np.zeros(p.size, dtype=bool)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (p.size - rank):
            break
        rejected[i] = True
    return rejected.tolist()


def verdicts(
    episode_excess: Sequence[np.ndarray],
    base_excess_medians: Sequence[float | None],
    alpha: float = VERDICT_ALPHA,
    min_episodes: int = MIN_VERDICT_EPISODES,
) -> list[str]:
    """One verdict per horizon.

    Parameters
    ----------
    episode_excess : sequence of array of float
        Per horizon, the matches' excess returns, one per episode (NaN: none).
    base_excess_medians : sequence of float or None
        Per horizon, the base rate's median excess return (None: unknown).
    alpha : float
        Family-wise level over the horizons judged.
    min_episodes : int
        Fewer episodes with an excess return than this and the horizon is ``insufficient``.

    Returns
    -------
    list of str
        ``above``/``below`` (the episodes' median excess is above/below the base rate's, Holm
        rejected equality), ``indistinguishable``, or ``insufficient``.
    """
    out = ["insufficient"] * len(episode_excess)
    judged, p_values = [], []
    for j, (values, center) in enumerate(zip(episode_excess, base_excess_medians, strict=True)):
        values = np.asarray(values, dtype=np.float64)
        values = values[~np.isnan(values)]
        if center is None or values.size < min_episodes:
            continue
        judged.append((j, float(np.median(values)) - center))
        p_values.append(sign_test(values, center))
    for (j, difference), rejected in zip(judged, holm(p_values, alpha), strict=True):
        if rejected and difference != 0:
            out[j] = "above" if difference > 0 else "below"
        else:
            out[j] = "indistinguishable"
    return out
