"""The block-sum screen (patterns of ``DIRECT_MAX_LENGTH + 1`` to ``BLOCK_SUM_MAX_LENGTH`` closes):
its bound of every window's dot product never falls below the true one, and searches through it
return the brute force's matches, exclusions and date filters included.
"""

import numpy as np
import pytest

from similarity.engine import Market, kernels, normalize_pattern, search
from similarity.engine import screen as screen_module

from . import naive
from .test_screen_bounds import check_bounds, make_series
from .test_search import assert_same_matches, make_pattern

SWITCHES = (
    screen_module.DIRECT_MAX_LENGTH + 1,
    screen_module.DIRECT_MAX_LENGTH + 2,
    60,
    61,
    62,
    63,
    120,
    screen_module.BLOCK_SUM_MAX_LENGTH,
    screen_module.BLOCK_SUM_MAX_LENGTH + 1,
)


def dot_product_bounds(market: Market, s: int, qn: np.ndarray) -> np.ndarray:
    """The block-sum screen's bound of the dot product of every start of series ``s``."""
    m = qn.shape[0]
    shape = screen_module.block_taps(qn)
    n = int(market.lengths[s])
    sums = np.empty(n // 4 + shape[0].shape[1] + 4, np.float32)
    phase = np.empty((5, n // 4 + 2), np.float32)
    base = int(market.offsets[s])
    first = int(market.prefix_offsets[s])
    args = (market.closes32, base, n, m, market.prefix1, market.ssd_prefix, first, shape)
    ahead = (market.prefix2, market.ssd_prefix)
    kernels._block_sum_bounds(*args, float(market.max_dev[s]), sums, phase, ahead)
    count = n - m + 1
    starts = np.arange(count)
    return phase[starts % 4, starts // 4].astype(np.float64) + phase[4, starts // 4]


def true_dot_products(market: Market, s: int, qn: np.ndarray) -> np.ndarray:
    x = np.asarray(market.closes32[market.offsets[s] : market.offsets[s + 1]], dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(x, qn.shape[0])
    return windows @ qn


@pytest.mark.parametrize("level", [1e-3, 1.0, 300.0, 1e6, 1e9])
@pytest.mark.parametrize("m", [45, 53, 60, 61, 62, 63, 120, 250, 320])
def test_block_sum_bound_is_never_below_the_dot_product(level, m):
    rng = np.random.default_rng(int(m * 100 + np.log10(level) * 3 + 30))
    # Lengths of every remainder mod 4, halts and near-flat stretches (make_series).
    series = make_series(rng, 12, level, [301, 302, 303, 512, 777])
    series.append(np.full(400, level))  # a flat series
    market = Market.from_series(series, [f"s{i}" for i in range(len(series))])
    cut = max(series, key=len)[40 : 40 + m]
    for pattern in (
        cut + rng.normal(0, 0.05 * cut.std(), m),
        np.cumsum(rng.normal(size=m)),
        rng.normal(size=m),
    ):
        qn = normalize_pattern(pattern)
        for s in range(len(series)):
            if market.lengths[s] < m:
                continue
            bound = dot_product_bounds(market, s, qn)
            truth = true_dot_products(market, s, qn)
            slack = 1e-12 * float(market.max_dev[s]) * m
            assert np.all(bound >= truth - slack), (s, (bound - truth).min())
            # ... and useful: within the closes' spread of the truth.
            spread = float(market.max_dev[s]) * m
            assert np.all(bound - truth <= spread + 1e-30)


@pytest.mark.parametrize("level", [1e-3, 1.0, 1e9])
@pytest.mark.parametrize("m", SWITCHES)
def test_screen_bounds_hold_either_side_of_the_switches(level, m):
    rng = np.random.default_rng(m + int(np.log10(level)) * 11 + 7)
    series = make_series(rng, 30, level, [300, 513, 1001, 1502])
    source = max(series, key=len)
    start = int(rng.integers(0, len(source) - m))
    pattern = source[start : start + m] + rng.normal(0, 0.05 * source[start : start + m].std(), m)
    upper, lower, _ = check_bounds(series, pattern)
    finite = np.isfinite(upper) & np.isfinite(lower)
    assert finite.mean() > 0.5
    # With k, series that cannot reach the k-th lower bound are passed over.
    check_bounds(series, pattern, k=3)


@pytest.mark.parametrize("kind", ["noised", "random"])
@pytest.mark.parametrize("use_exclude", [False, True])
@pytest.mark.parametrize("k", [1, 10])
@pytest.mark.parametrize("m", SWITCHES)
def test_search_through_the_block_sums_matches_the_brute_force(
    walk_series, walk_market, m, k, use_exclude, kind
):
    rng = np.random.default_rng(m * 10 + k)
    start = int(rng.integers(0, len(walk_series[0]) - m))
    pattern = make_pattern(kind, walk_series[0], start, m, rng)
    exclude = [(walk_market.ids[0], start, start + m)] if use_exclude else None

    got = search(walk_market, pattern, k=k, exclude=exclude)

    expected = naive.search(walk_series, walk_market.ids, pattern, k, "history", exclude)
    assert_same_matches(got, expected, walk_series, pattern)


@pytest.mark.parametrize("m", [53, 120, 250])
def test_block_sum_search_on_real_closes_honours_exclusions_and_dates(jp_market, m):
    series = [np.asarray(jp_market.series_closes(s)) for s in range(len(jp_market))]
    pattern = series[2][500 : 500 + m]
    exclude = [(jp_market.ids[2], 500, 500 + m)]

    got = search(jp_market, pattern, k=10, exclude=exclude)

    expected = naive.search(series, jp_market.ids, pattern, 10, "history", exclude)
    assert_same_matches(got, expected, series, pattern, allow_ties=True)
    dates = jp_market.series_dates(0)
    date_from, date_to = dates[100], dates[900]
    for match in search(jp_market, pattern, k=20, date_from=date_from, date_to=date_to):
        window = jp_market.series_dates(match.series)[match.start : match.stop]
        assert window[0] >= date_from and window[-1] <= date_to


def test_old_snapshots_without_block_deviations_still_load(tmp_path):
    rng = np.random.default_rng(5)
    series = make_series(rng, 6, 50.0, [301, 402])
    market = Market.from_series(series, [f"s{i}" for i in range(6)])
    market.save(tmp_path)
    (tmp_path / "ssd_prefix.npy").unlink()

    loaded = Market.load(tmp_path)

    assert np.array_equal(loaded.ssd_prefix, market.ssd_prefix)


@pytest.mark.parametrize("m", [5, 7, 8, 12, 15, 16, 17, 20, 24, 31, 32, 33, 40, 48, 52])
@pytest.mark.parametrize("level", [1e-3, 300.0, 1e9])
def test_direct_products_stay_within_their_bound(m, level):
    # The direct path's float32 products (sixteen, eight, four then one pattern term a pass)
    # stay within screen's strict bound direct_coef * max_dev of the exact ones.
    rng = np.random.default_rng(m * 7 + int(np.log10(level) + 3))
    series = make_series(rng, 6, level, [m + 40, m + 45, 301, 302, 303])
    market = Market.from_series(series, [f"s{i}" for i in range(len(series))])
    qn = normalize_pattern(series[2][5 : 5 + m] + rng.normal(0, 1e-3 * level, m))
    q32 = qn.astype(np.float32)
    coef = kernels.EPS32 * (m + 2) * float(np.abs(q32.astype(np.float64)).sum())
    for s in range(len(series)):
        n = int(market.lengths[s])
        row = np.full(n + 16, np.nan, np.float32)
        kernels._sliding_dot(market.closes32, int(market.offsets[s]), n - m + 1, q32, row)
        exact = true_dot_products(market, s, q32.astype(np.float64))
        error = np.abs(row[: n - m + 1].astype(np.float64) - exact)
        assert np.all(error <= coef * float(market.max_dev[s]))
        assert np.isnan(row[n - m + 1 :]).all()
