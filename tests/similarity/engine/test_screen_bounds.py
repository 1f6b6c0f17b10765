"""The screen's bounds hold window by window: a search is exact only if no series whose best
window could enter the top k is screened out, so the float32 screen must never promise less than
the truth (``upper``) nor more than an allowed window gives (``lower``).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from similarity.engine import Market, normalize_pattern
from similarity.engine.screen import screen

from . import naive


def make_series(rng, count, level, lengths):
    series = []
    for _ in range(count):
        n = int(rng.choice(lengths))
        walk = level * np.exp(
            np.clip(np.cumsum(rng.standard_t(4, n) * rng.uniform(0.002, 0.03)), -20, 5)
        )
        kind = rng.integers(4)
        if kind == 1:
            # A trading halt: the same close for a stretch.
            a = int(rng.integers(0, n - 30))
            walk[a : a + int(rng.integers(5, 30))] = walk[a]
        elif kind == 2:
            # A stretch that barely moves at a price far from the series' mean.
            a = int(rng.integers(0, n - 40))
            walk[a : a + 40] = walk[a] * (1 + 1e-9 * np.arange(40))
        series.append(walk)
    return series


def check_bounds(series, pattern, k=None):
    market = Market.from_series(series, [f"s{i}" for i in range(len(series))])
    qn = normalize_pattern(pattern)
    m = len(qn)
    rows = np.flatnonzero(market.lengths >= m)
    lo = np.zeros(rows.size, dtype=np.int64)
    hi = market.lengths[rows] - m
    none = np.zeros(0, dtype=np.int64)
    no_exclusions = (np.zeros(rows.size + 1, np.int64), none, none)
    upper, lower = screen(market, rows, lo, hi, *no_exclusions, qn, k)
    truth = naive.best_correlations([series[s] for s in rows], qn)
    assert np.all(upper >= truth - 1e-12), (upper - truth).min()
    assert np.all(lower <= truth + 1e-12), (truth - lower).min()
    return upper, lower, truth


@pytest.mark.parametrize("level", [1e-4, 1.0, 300.0, 1e6, 1e9])
@pytest.mark.parametrize("m", [5, 15, 20, 29, 40, 41, 52, 53, 60, 250])
def test_screen_bounds_hold_at_every_price_level(level, m):
    # 15 and 29 take every pass of the direct products (eight, four and one terms); 52 and 53 lie
    # either side of screen.DIRECT_MAX_LENGTH.
    rng = np.random.default_rng(int(m * 1000 + np.log10(level) * 7 + 50))
    # Lengths whose FFTs are batched together, including powers of two.
    series = make_series(rng, 24, level, [300, 512, 1024, 1500, 3072])
    source = series[3]
    start = int(rng.integers(0, len(source) - m))
    pattern = source[start : start + m] + rng.normal(0, 0.05 * source[start : start + m].std(), m)
    upper, lower, truth = check_bounds(series, pattern)
    # The bounds are useful, not just valid: finite and close for most series.
    finite = np.isfinite(upper) & np.isfinite(lower)
    assert finite.mean() > 0.5
    assert np.median((upper - lower)[finite]) < 1e-3


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(5, 120),
    level=st.sampled_from([1e-3, 5.0, 2e4, 1e9]),
)
def test_screen_bounds_hold_for_random_patterns(seed, m, level):
    rng = np.random.default_rng(seed)
    series = make_series(rng, 8, level, [200, 333, 700])
    pattern = np.cumsum(rng.normal(size=m)) + rng.normal(0, 0.5, m)
    if np.ptp(pattern) == 0:
        pattern[0] += 1
    check_bounds(series, pattern)


@pytest.mark.parametrize("m", [5, 20, 60, 250])
def test_screen_bounds_hold_when_series_below_the_k_th_lower_bound_are_passed_over(m):
    rng = np.random.default_rng(m)
    series = make_series(rng, 200, 300.0, [300, 700, 1500])
    source = series[5]
    start = int(rng.integers(0, len(source) - m))
    pattern = source[start : start + m] + rng.normal(0, 0.05 * source[start : start + m].std(), m)
    upper, lower, truth = check_bounds(series, pattern, k=3)
    # Most series cannot reach the third best lower bound, and their windows were passed over.
    floor = np.sort(lower)[-3]
    assert np.mean(upper < floor) > 0.5


@pytest.mark.parametrize("m", [20, 60, 400])
def test_an_error_in_a_screen_task_reaches_the_caller_once_no_thread_runs_one(monkeypatch, m):
    # Both threads take the screen's tasks from one queue; a task that fails stops the others
    # from starting and is raised only once the pool's thread is idle again (m: the direct, the
    # block-sum and the FFT screen).
    from similarity.engine import screen as screen_module

    rng = np.random.default_rng(m)
    series = make_series(rng, 400, 100.0, [700, 900])
    market = Market.from_series(series, [f"s{i}" for i in range(len(series))])
    qn = normalize_pattern(series[3][100 : 100 + m])
    rows = np.arange(len(series))
    lo = np.zeros(rows.size, dtype=np.int64)
    hi = market.lengths[rows] - m
    none = np.zeros(0, dtype=np.int64)
    no_exclusions = (np.zeros(rows.size + 1, np.int64), none, none)
    started = []
    finished = []
    original = screen_module._screen_block

    def failing(plan, buffers, length, pos, floor):
        started.append(pos.size)
        if len(started) == 3:
            raise RuntimeError("task 3 failed")
        original(plan, buffers, length, pos, floor)
        finished.append(pos.size)

    monkeypatch.setattr(screen_module, "THREADS", 2)
    monkeypatch.setattr(screen_module, "_screen_block", failing)
    with pytest.raises(RuntimeError, match="task 3 failed"):
        screen(market, rows, lo, hi, *no_exclusions, qn, 10)
    # Every task that started has ended (none is left running behind the caller's back)...
    assert len(finished) == len(started) - 1
    # ... and at least one task was never started.
    assert sum(started) < rows.size
    monkeypatch.setattr(screen_module, "_screen_block", original)
    upper, lower = screen(market, rows, lo, hi, *no_exclusions, qn, 10)
    assert np.all(upper >= lower)
