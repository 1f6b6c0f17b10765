import numpy as np
import pytest

from similarity.engine import Market, PatternError, latest_hits, search

from . import naive
from .conftest import random_walks


@pytest.fixture(scope="module")
def market() -> Market:
    series = random_walks(7, [300] * 120 + [30] * 5 + [4])
    series[3][-60:] = 7.0  # flat at the end: skipped, never NaN
    return Market.from_series(series, [f"S{i:03d}" for i in range(len(series))])


def _patterns(market: Market, lengths, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for m in lengths:
        closes = market.series_closes(int(rng.integers(100)))
        out.append(closes[-m:] + rng.normal(0, 0.3 * closes[-m:].std(), m))
    return out


def _by_pattern(hits, p):
    chosen = hits.pattern == p
    return dict(zip(hits.series[chosen].tolist(), hits.correlation[chosen].tolist(), strict=True))


def test_every_series_above_threshold_is_the_latest_search_s_answer(market):
    patterns = _patterns(market, (20, 20, 35, 60, 60, 250))
    thresholds = np.array([0.5, 0.8, 0.0, 0.6, 0.9, 0.3])
    hits = latest_hits(market, patterns, thresholds)
    for p, pattern in enumerate(patterns):
        reference = {
            match.series: match.correlation
            for match in search(market, pattern, k=len(market), mode="latest")
            if match.correlation >= thresholds[p]
        }
        got = _by_pattern(hits, p)
        assert set(got) == set(reference)
        for s, r in got.items():
            assert r == pytest.approx(reference[s], abs=1e-12)
    # Series 3 is flat over its last 60 closes: skipped, never NaN.
    assert all(3 not in _by_pattern(hits, p) for p in range(5))
    assert 3 in _by_pattern(hits, 5) or thresholds[5] > naive.latest_correlation(
        market, patterns[5], 3
    )


def test_windows_start_where_the_last_window_starts(market):
    [pattern] = _patterns(market, (40,))
    hits = latest_hits(market, [pattern], [-1.0])
    assert np.array_equal(hits.start, market.lengths[hits.series] - 40)


def test_masks_filter_series_per_pattern(market):
    patterns = _patterns(market, (30, 30))
    mask = np.zeros(len(market), dtype=bool)
    mask[:10] = True
    hits = latest_hits(market, patterns, [-1.0, -1.0], masks=[mask], mask_of=[0, -1])
    assert set(_by_pattern(hits, 0)) <= set(range(10))
    assert len(_by_pattern(hits, 1)) > 10


def test_a_pattern_does_not_match_its_own_window(market):
    closes = market.series_closes(5)
    m = 50
    n = closes.size
    pattern = closes[-m:]
    hits = latest_hits(market, [pattern], [0.99])
    assert _by_pattern(hits, 0)[5] == pytest.approx(1.0)
    hits = latest_hits(market, [pattern], [0.99], exclude=[(0, 5, n - m, n)])
    assert 5 not in _by_pattern(hits, 0)
    # A range that ends before the last window starts does not exclude it.
    hits = latest_hits(market, [pattern], [0.99], exclude=[(0, 5, 0, n - m)])
    assert 5 in _by_pattern(hits, 0)


def test_a_bad_pattern_is_refused(market):
    with pytest.raises(PatternError):
        latest_hits(market, [np.ones(20)], [0.9])


def test_no_patterns_no_hits(market):
    assert len(latest_hits(market, [], [])) == 0
