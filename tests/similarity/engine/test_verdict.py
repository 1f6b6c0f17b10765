"""The verdict: a sign test per horizon with Holm's correction, against reference code, and its
firing rate on matches that say nothing."""

import numpy as np
import pytest
from scipy.stats import binomtest

from similarity.engine.verdict import (
    MIN_VERDICT_EPISODES,
    VERDICT_ALPHA,
    holm,
    sign_test,
    verdicts,
)


def reference_holm(p_values, alpha):
    """Holm through adjusted p-values: the running maximum of (m - rank) * p, capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return [value <= alpha for value in adjusted]


@pytest.mark.parametrize("above, below", [(0, 12), (3, 10), (6, 6), (20, 5), (1, 0)])
def test_the_sign_test_is_the_exact_binomial_test(above, below):
    values = np.r_[np.full(above, 0.02), np.full(below, -0.01), [0.0, 0.0]]  # ties dropped

    assert sign_test(values, 0.0) == pytest.approx(binomtest(above, above + below).pvalue)


def test_holm_agrees_with_adjusted_p_values():
    rng = np.random.default_rng(8)
    for _ in range(500):
        p_values = rng.uniform(0, 0.2, int(rng.integers(1, 6))).tolist()
        assert holm(p_values, 0.05) == reference_holm(p_values, 0.05)


def test_too_few_episodes_is_insufficient_and_the_side_follows_the_median():
    few = np.linspace(0.01, 0.05, MIN_VERDICT_EPISODES - 1)
    many_above = np.linspace(0.01, 0.05, 30)
    many_below = -many_above

    found = verdicts([few, many_above, many_below], [0.0, 0.0, 0.0])

    assert found == ["insufficient", "above", "below"]


def test_an_unknown_base_excess_is_insufficient():
    assert verdicts([np.linspace(0.01, 0.05, 30)], [None]) == ["insufficient"]


def test_on_a_null_the_verdicts_fire_at_most_alpha_per_horizon_and_together():
    """Episodes drawn from a skewed distribution whose median is the base rate's: a verdict is
    then always wrong, and must fire for at most VERDICT_ALPHA of patterns (plus three
    standard errors of the simulation)."""
    rng = np.random.default_rng(9)
    patterns, horizons = 4000, 3
    fired = np.zeros((patterns, horizons), dtype=bool)
    median = np.exp(0.0) - 1.0  # the median of exp(N(0, s)) - 1
    for t in range(patterns):
        episode_excess = [
            np.exp(rng.normal(0, 0.1 * (j + 1), int(rng.integers(10, 40)))) - 1
            for j in range(horizons)
        ]
        fired[t] = [v != "indistinguishable" for v in verdicts(episode_excess, [median] * 3)]
    margin = 3 * np.sqrt(VERDICT_ALPHA * (1 - VERDICT_ALPHA) / patterns)

    assert fired.mean(axis=0).max() <= VERDICT_ALPHA + margin
    assert fired.any(axis=1).mean() <= VERDICT_ALPHA + margin
