import math
import multiprocessing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from similarity.engine import Market, PatternError, finder, period, search, search_stretched

from . import naive
from .conftest import random_walks


def assert_same_matches(got, expected, series, pattern, allow_ties=False):
    """Same matches in the same order, distances within 1e-6 relative.

    Real closes contain windows of exactly the same shape; when ``allow_ties`` a different window
    is accepted at a position only if its reference distance equals the expected one.
    """
    assert len(got) == len(expected)
    for g, (dist, s, i) in zip(got, expected, strict=True):
        assert math.isclose(g.distance, dist, rel_tol=1e-6, abs_tol=1e-7)
        assert math.isclose(g.correlation, 1 - g.distance**2 / (2 * len(pattern)), abs_tol=1e-12)
        assert g.stop - g.start == len(pattern)
        if (g.series, g.start) != (s, i):
            assert allow_ties, f"got {(g.series, g.start)}, expected {(s, i)}"
            own = naive.distances(series[g.series], pattern)[g.start]
            assert math.isclose(own, dist, rel_tol=1e-9, abs_tol=1e-9)


def make_pattern(kind: str, source: np.ndarray, start: int, m: int, rng) -> np.ndarray:
    window = source[start : start + m]
    if kind == "cut":
        return window.copy()
    if kind == "noised":
        return window + rng.normal(0, 0.05 * window.std(), m)
    if kind == "reversed":
        return window[::-1].copy()
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.02, m)))


# --- the grid of the issue: markets x m x k x mode x exclude x pattern kind -----------------------

PATTERN_KINDS = ("cut", "noised", "reversed", "random")


@pytest.mark.parametrize("kind", PATTERN_KINDS)
@pytest.mark.parametrize("use_exclude", [False, True])
@pytest.mark.parametrize("mode", ["history", "latest"])
@pytest.mark.parametrize("k", [1, 10, 100])
@pytest.mark.parametrize("m", [5, 20, 60, 250])
def test_search_matches_reference_on_random_walks(
    walk_series, walk_market, m, k, mode, use_exclude, kind
):
    rng = np.random.default_rng(m * 1000 + k)
    source = 0  # a 600-close series
    start = int(rng.integers(0, len(walk_series[source]) - m))
    pattern = make_pattern(kind, walk_series[source], start, m, rng)
    exclude = [(walk_market.ids[source], start, start + m)] if use_exclude else None

    got = search(walk_market, pattern, k=k, mode=mode, exclude=exclude)

    expected = naive.search(walk_series, walk_market.ids, pattern, k, mode, exclude)
    assert_same_matches(got, expected, walk_series, pattern)


@pytest.mark.parametrize("kind", PATTERN_KINDS)
@pytest.mark.parametrize("use_exclude", [False, True])
@pytest.mark.parametrize("mode", ["history", "latest"])
@pytest.mark.parametrize("k", [1, 10, 100])
@pytest.mark.parametrize("m", [5, 20, 60, 250])
def test_search_matches_reference_on_real_closes(jp_market, m, k, mode, use_exclude, kind):
    rng = np.random.default_rng(m * 1000 + k + 7)
    series = [np.asarray(jp_market.series_closes(s)) for s in range(len(jp_market))]
    source = int(rng.integers(0, len(series)))
    start = int(rng.integers(0, len(series[source]) - m))
    pattern = make_pattern(kind, series[source], start, m, rng)
    if np.ptp(pattern) == 0:
        pytest.skip("the cut landed on a trading halt")
    exclude = [(jp_market.ids[source], start, start + m)] if use_exclude else None

    got = search(jp_market, pattern, k=k, mode=mode, exclude=exclude)

    expected = naive.search(series, jp_market.ids, pattern, k, mode, exclude)
    assert_same_matches(got, expected, series, pattern, allow_ties=True)


@pytest.mark.parametrize("level", [1e-4, 1.0, 1e9])
@pytest.mark.parametrize("m", [300, 499, 500])
def test_long_patterns_match_reference_at_every_price_level(walk_series, m, level):
    """The exact stage bounds every window from direct float32 dot products, up to the longest
    pattern allowed and whatever the prices' magnitude."""
    series = [s * level for s in walk_series]
    market = Market.from_series(series, [f"W{i:02d}" for i in range(len(series))])
    rng = np.random.default_rng(m)
    source = 0  # a 600-close series
    start = int(rng.integers(0, len(series[source]) - m))
    pattern = make_pattern("noised", series[source], start, m, rng)

    got = search(market, pattern, k=10)

    expected = naive.search(series, market.ids, pattern, 10, "history", None)
    assert_same_matches(got, expected, series, pattern)


# --- contract details ----------------------------------------------------------------------------


def test_match_fields_describe_the_window(walk_market, walk_series):
    pattern = walk_series[2][100:130]

    best = search(walk_market, pattern, k=1)[0]

    assert (best.series, best.series_id, best.start, best.stop) == (2, "W02", 100, 130)
    assert best.distance == pytest.approx(0, abs=1e-6)
    assert best.correlation == pytest.approx(1)


def test_results_are_sorted_by_distance(walk_market, walk_series):
    matches = search(walk_market, walk_series[0][:40], k=50)

    distances = [x.distance for x in matches]
    assert distances == sorted(distances)


def test_greedy_exclusion_zone_within_a_series(walk_market, walk_series):
    m = 21
    matches = search(walk_market, walk_series[0][200 : 200 + m], k=100)

    for a in matches:
        for b in matches:
            if a is not b and a.series == b.series:
                assert abs(a.start - b.start) > math.ceil(m / 2)


def test_exact_ties_are_broken_by_series_then_start():
    x = np.concatenate([np.linspace(1, 2, 10), np.linspace(2, 1, 10)] * 3)
    market = Market.from_series([x, x.copy(), x.copy()], ["A", "B", "C"])

    matches = search(market, np.linspace(5, 9, 10), k=6)

    assert [(mt.series, mt.start) for mt in matches] == [
        (0, 0),
        (0, 20),
        (0, 40),
        (1, 0),
        (1, 20),
        (1, 40),
    ]
    assert len({mt.distance for mt in matches}) == 1


def test_latest_mode_only_uses_the_last_window(walk_market, walk_series):
    matches = search(walk_market, walk_series[3][:30], k=100, mode="latest")

    assert matches
    for mt in matches:
        assert mt.stop == len(walk_series[mt.series])


def test_exclude_skips_every_overlapping_window(walk_market, walk_series):
    m = 30
    pattern = walk_series[4][50 : 50 + m]

    matches = search(walk_market, pattern, k=100, exclude=[("W04", 50, 80)])

    for mt in matches:
        if mt.series == 4:
            assert mt.stop <= 50 or mt.start >= 80


@pytest.mark.parametrize("k", [10, 100])
@pytest.mark.parametrize("m", [20, 60])
def test_exclude_period_skips_every_series_window_touching_it(jp_market, m, k):
    series = [np.asarray(jp_market.series_closes(s)) for s in range(len(jp_market))]
    pattern = series[2][500 : 500 + m]
    days = jp_market.series_dates(2)
    period = (days[500], days[500 + m - 1])
    exclude = []
    for s in range(len(jp_market)):
        d = np.asarray(jp_market.series_dates(s))
        inside = np.flatnonzero((d >= period[0]) & (d <= period[1]))
        if inside.size:
            exclude.append((jp_market.ids[s], int(inside[0]), int(inside[-1]) + 1))

    got = search(jp_market, pattern, k=k, exclude_period=period)

    assert len(exclude) >= 2  # the slices overlap in time in part
    expected = naive.search(series, jp_market.ids, pattern, k, "history", exclude)
    assert_same_matches(got, expected, series, pattern, allow_ties=True)
    for match in got:
        match_days = jp_market.series_dates(match.series)[match.start : match.stop]
        assert match_days[-1] < period[0] or match_days[0] > period[1]


# --- only_period: the windows overlapping the pattern's own days, for context --------------------


def overlapping_starts(market: Market, m: int, period):
    """``starts`` for naive.search: windows [first, last] with first <= period's last day
    and last >= its first, holding a close on one of its days (the same unless the series did
    not trade at all in the period)."""

    def starts(s, count):
        days = np.asarray(market.series_dates(s))
        first, last = days[:count], days[m - 1 : m - 1 + count]
        inside = (days >= period[0]) & (days <= period[1])
        holds = np.convolve(inside, np.ones(m, dtype=int), mode="valid")[:count] > 0
        return (first <= period[1]) & (last >= period[0]) & holds

    return starts


@pytest.fixture(scope="module")
def dated_walks() -> tuple[list[np.ndarray], Market]:
    """Random walks on business days ending on one day, as a snapshot's stocks do."""
    series = random_walks(777, [900, 40, 700, 880, 300, 900, 650, 120, 900, 510])
    days = np.busday_offset("2024-12-30", -np.arange(900)[::-1], "backward")
    dates = [days[days.size - len(x) :] for x in series]
    return series, Market.from_series(series, [f"D{i}" for i in range(len(series))], dates=dates)


@pytest.mark.parametrize("path", ["narrow", "screen"])
@pytest.mark.parametrize("k", [1, 10, 100])
@pytest.mark.parametrize("m", [5, 20, 60, 250])
def test_only_period_finds_the_best_windows_overlapping_the_period(
    dated_walks, m, k, path, monkeypatch
):
    # Both ways of searching the period's windows: short spans on their own, or the screen.
    monkeypatch.setattr(period, "NARROW_SHARE", 1.0 if path == "narrow" else -1.0)
    series, market = dated_walks
    start = 880 - m - 100
    pattern = series[0][start : start + m]
    days = market.series_dates(0)
    span = (days[start], days[start + m - 1])
    exclude = [("D0", start, start + m)]

    got = search(market, pattern, k=k, exclude=exclude, only_period=span)

    starts = overlapping_starts(market, m, span)
    expected = naive.search(series, market.ids, pattern, k, exclude=exclude, starts=starts)
    assert_same_matches(got, expected, series, pattern)
    assert len(got) == min(k, len(expected)) > 0
    for match in got:
        window = market.series_dates(match.series)[match.start : match.stop]
        assert window[0] <= span[1] and window[-1] >= span[0]
        assert not (match.series == 0 and match.start < start + m and match.stop > start)


@pytest.mark.parametrize("k", [10, 100])
@pytest.mark.parametrize("m", [20, 60])
def test_only_period_on_real_closes_is_the_complement_of_exclude_period(jp_market, m, k):
    series = [np.asarray(jp_market.series_closes(s)) for s in range(len(jp_market))]
    pattern = series[2][500 : 500 + m]
    days = jp_market.series_dates(2)
    span = (days[500], days[500 + m - 1])
    own = [(jp_market.ids[2], 500, 500 + m)]

    inside = search(jp_market, pattern, k=k, exclude=own, only_period=span)
    outside = search(jp_market, pattern, k=k, exclude=own, exclude_period=span)

    starts = overlapping_starts(jp_market, m, span)
    expected = naive.search(series, jp_market.ids, pattern, k, exclude=own, starts=starts)
    assert_same_matches(inside, expected, series, pattern, allow_ties=True)
    assert {(x.series, x.start) for x in inside}.isdisjoint((x.series, x.start) for x in outside)


@pytest.mark.parametrize("path", ["narrow", "screen"])
def test_only_period_breaks_exact_ties_by_series_then_start(path, monkeypatch):
    monkeypatch.setattr(period, "NARROW_SHARE", 1.0 if path == "narrow" else -1.0)
    x = np.concatenate([np.linspace(1, 2, 10), np.linspace(2, 1, 10)] * 3)
    days = np.datetime64("2024-01-01") + np.arange(x.size)
    market = Market.from_series([x, x.copy(), x.copy()], ["A", "B", "C"], dates=[days] * 3)

    matches = search(market, np.linspace(5, 9, 10), k=6, only_period=(days[0], days[-1]))

    assert [(mt.series, mt.start) for mt in matches] == [
        (0, 0),
        (0, 20),
        (0, 40),
        (1, 0),
        (1, 20),
        (1, 40),
    ]


def test_only_period_with_stretch_keeps_every_length_in_the_period(dated_walks):
    series, market = dated_walks
    pattern = series[3][600:640]
    days = market.series_dates(3)
    span = (days[600], days[639])

    got = search(market, pattern, k=20, only_period=span, exclude=[("D3", 600, 640)], stretch=True)

    assert {match.length for match in got} != {40}
    for match in got:
        window = market.series_dates(match.series)[match.start : match.stop]
        assert window[0] <= span[1] and window[-1] >= span[0]


def test_only_period_in_latest_mode_keeps_the_last_windows_that_overlap(dated_walks):
    series, market = dated_walks
    last_day = market.series_dates(0)[-1]

    got = search(market, series[0][-30:], k=20, mode="latest", only_period=(last_day, last_day))

    assert len(got) == sum(len(x) >= 30 for x in series)
    assert all(match.stop == len(series[match.series]) for match in got)


def test_only_period_refuses_exclude_period_too_and_dateless_markets(dated_walks, walk_market):
    _series, market = dated_walks
    span = ("2024-01-04", "2024-02-01")
    with pytest.raises(ValueError, match="not both"):
        search(market, np.arange(10.0), only_period=span, exclude_period=span)
    with pytest.raises(ValueError, match="no dates"):
        search(walk_market, np.arange(10.0), only_period=span)
    with pytest.raises(ValueError, match="only_period must be a date"):
        search(market, np.arange(10.0), only_period=("soon", "later"))


def test_only_period_with_no_trading_day_in_it_finds_nothing(dated_walks):
    _series, market = dated_walks
    saturday = ("2024-06-01", "2024-06-02")

    assert search(market, np.arange(10.0), only_period=saturday) == []


def test_exclude_with_unknown_series_is_rejected(walk_market):
    with pytest.raises(KeyError, match="ZZZ"):
        search(walk_market, np.arange(10.0), exclude=[("ZZZ", 0, 10)])


@pytest.mark.parametrize("as_mask", [False, True])
def test_series_filter_searches_only_the_subset(walk_market, walk_series, as_mask):
    subset = [1, 3, 8]
    chosen = np.isin(np.arange(len(walk_market)), subset) if as_mask else subset
    pattern = walk_series[0][10:50]

    got = search(walk_market, pattern, k=20, series=chosen)

    kept = [x if i in subset else x[:0] for i, x in enumerate(walk_series)]
    assert_same_matches(got, naive.search(kept, walk_market.ids, pattern, 20), kept, pattern)


def test_empty_series_filter_finds_nothing(walk_market):
    assert search(walk_market, np.arange(10.0), series=[]) == []


def test_date_filter_keeps_windows_entirely_inside(jp_market):
    s = 0
    dates = jp_market.series_dates(s)
    date_from, date_to = dates[200], dates[700]
    pattern = np.asarray(jp_market.series_closes(s)[300:340])

    matches = search(jp_market, pattern, k=100, date_from=date_from, date_to=date_to)

    assert matches
    for mt in matches:
        window = jp_market.series_dates(mt.series)[mt.start : mt.stop]
        assert window[0] >= date_from and window[-1] <= date_to


def test_latest_mode_skips_series_whose_last_window_is_outside_the_dates(jp_market):
    dates = jp_market.series_dates(0)
    pattern = np.asarray(jp_market.series_closes(0)[300:340])

    before_end = search(jp_market, pattern, k=10, mode="latest", date_to=dates[-2])
    near_end = search(jp_market, pattern, k=10, mode="latest", date_from=dates[-40])

    assert 0 not in {mt.series for mt in before_end}
    assert 0 in {mt.series for mt in near_end}
    for mt in before_end + near_end:
        assert mt.stop == len(jp_market.series_closes(mt.series))
    assert all(jp_market.series_dates(mt.series)[-1] <= dates[-2] for mt in before_end)
    assert all(jp_market.series_dates(mt.series)[mt.start] >= dates[-40] for mt in near_end)


def test_date_filter_accepts_python_dates(jp_market):
    dates = jp_market.series_dates(0)
    as_numpy = search(jp_market, np.arange(20.0), k=5, date_from=dates[100])

    as_date = search(jp_market, np.arange(20.0), k=5, date_from=dates[100].astype(object))

    assert as_numpy == as_date


def test_date_filter_needs_a_market_with_dates(walk_market):
    with pytest.raises(ValueError, match="no dates"):
        search(walk_market, np.arange(10.0), date_from=np.datetime64("2020-01-01"))


def test_search_works_in_a_forked_child(walk_market, walk_series):
    # Pre-forking web servers fork after the parent may have searched (and started threads).
    pattern = walk_series[0][100:160]
    expected = search(walk_market, pattern, k=5)

    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(search, (walk_market, pattern), {"k": 5}).get(timeout=120)

    assert got == expected


def test_pattern_longer_than_every_series_finds_nothing():
    market = Market.from_series([np.arange(50.0)], ["A"])

    assert search(market, np.arange(60.0)) == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ([1.0, 2.0, 3.0, 4.0], "at least 5"),
        (np.arange(501.0), "at most 500"),
        ([1.0, 2.0, np.nan, 4.0, 5.0], "NaN or infinite"),
        ([1.0, 2.0, np.inf, 4.0, 5.0], "NaN or infinite"),
        ([7.0] * 20, "flat"),
        ([[1.0, 2.0, 3.0, 4.0, 5.0]], "one-dimensional"),
        (["a", "b", "c", "d", "e"], "list of numbers"),
    ],
)
def test_bad_patterns_raise_a_clear_pattern_error(walk_market, pattern, message):
    with pytest.raises(PatternError, match=message):
        search(walk_market, pattern)


@pytest.mark.parametrize("scale", [1e-300, 1e250])
def test_patterns_of_extreme_magnitude_search_like_ordinary_ones(walk_market, walk_series, scale):
    pattern = walk_series[0][100:150]

    scaled = search(walk_market, pattern * scale, k=5)
    plain = search(walk_market, pattern, k=5)

    assert [(x.series, x.start) for x in scaled] == [(x.series, x.start) for x in plain]
    for a, b in zip(scaled, plain, strict=True):
        assert math.isclose(a.distance, b.distance, rel_tol=1e-6, abs_tol=1e-7)


def test_market_rejects_closes_too_large_to_square_safely():
    with pytest.raises(ValueError, match="beyond"):
        Market.from_series([np.full(10, 1e200)], ["A"])


def test_pattern_error_is_a_value_error():
    assert issubclass(PatternError, ValueError)


@pytest.mark.parametrize(("arg", "value"), [("k", 0), ("mode", "future")])
def test_bad_options_raise_value_error(walk_market, arg, value):
    with pytest.raises(ValueError):
        search(walk_market, np.arange(10.0), **{arg: value})


def test_market_rejects_nan_closes():
    with pytest.raises(ValueError, match="NaN"):
        Market.from_series([np.array([1.0, np.nan, 2.0])], ["A"])


def test_market_rejects_mismatched_ids():
    with pytest.raises(ValueError, match="ids"):
        Market.from_series([np.arange(10.0)], ["A", "B"])


# --- stretch search ------------------------------------------------------------------------------


def test_stretch_search_finds_the_shape_played_out_slower(walk_series):
    market = Market.from_series(walk_series, [f"W{i:02d}" for i in range(len(walk_series))])
    window = walk_series[7][100:200]
    # The same move compressed to 80 closes: the original is 1.25 times longer.
    pattern = np.interp(np.linspace(0, 99, 80), np.arange(100), window)

    matches = search(market, pattern, k=5, stretch=True)

    best = matches[0]
    assert (best.series, best.length) == (7, 100)
    assert abs(best.start - 100) <= 2
    assert best.correlation > 0.99


def test_stretch_search_sorts_by_correlation_and_keeps_own_lengths(walk_market, walk_series):
    matches = search_stretched(walk_market, walk_series[0][300:360], k=20)

    correlations = [mt.correlation for mt in matches]
    assert correlations == sorted(correlations, reverse=True)
    assert {mt.length for mt in matches} <= {48, 54, 60, 66, 75}
    for mt in matches:
        assert mt.stop <= len(walk_series[mt.series])


# --- properties ----------------------------------------------------------------------------------

FAST_PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST_PROPERTY
@given(
    scale=st.floats(1e-3, 1e4),
    shift=st.floats(-1e4, 1e4),
    m=st.integers(5, 80),
    start=st.integers(0, 500),
)
def test_scaling_or_shifting_the_pattern_changes_nothing(
    walk_market, walk_series, scale, shift, m, start
):
    pattern = walk_series[0][start : start + m] + np.random.default_rng(m).normal(0, 1, m)

    plain = search(walk_market, pattern, k=10)
    moved = search(walk_market, pattern * scale + shift, k=10)

    assert [(x.series, x.start) for x in moved] == [(x.series, x.start) for x in plain]
    for a, b in zip(moved, plain, strict=True):
        assert math.isclose(a.distance, b.distance, rel_tol=1e-6, abs_tol=1e-7)


@FAST_PROPERTY
@given(
    level=st.floats(1e-2, 1e6),
    halts=st.lists(st.tuples(st.integers(0, 290), st.integers(5, 120)), min_size=1, max_size=4),
    m=st.integers(5, 40),
    seed=st.integers(0, 2**16),
)
def test_trading_halts_never_match(level, halts, m, seed):
    rng = np.random.default_rng(seed)
    series = []
    for x in random_walks(seed, [400, 300, 350]):
        x = x / x.mean() * level
        for start, length in halts:
            x[start : start + length] = x[start]  # the price froze
        series.append(x)
    market = Market.from_series(series, ["A", "B", "C"])
    pattern = np.cumsum(rng.normal(size=m)) + 100

    matches = search(market, pattern, k=100)

    for mt in matches:
        assert np.ptp(series[mt.series][mt.start : mt.stop]) > 0
    expected = naive.search(series, market.ids, pattern, 100)
    assert_same_matches(matches, expected, series, pattern, allow_ties=True)


def test_a_flat_window_at_a_high_price_level_never_matches():
    # Cumulative sums at this level leave a variance of about 1e-9 on the flat stretch.
    rng = np.random.default_rng(5)
    x = 123456.789 + np.cumsum(rng.normal(0, 50, 3000))
    x[1000:1400] = x[1000]
    market = Market.from_series([x], ["A"])

    matches = search(market, rng.normal(size=20), k=500)

    assert matches
    assert all(np.ptp(x[mt.start : mt.stop]) > 0 for mt in matches)


@settings(max_examples=10, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 400), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
    m=st.integers(5, 60),
)
def test_save_and_load_give_identical_results(tmp_path_factory, lengths, seed, m):
    series = random_walks(seed, lengths)
    ids = [f"S{i}" for i in range(len(series))]
    dates = [np.datetime64("2001-01-01") + np.arange(len(x)) for x in series]
    market = Market.from_series(series, ids, dates=dates)
    folder = tmp_path_factory.mktemp("snapshot")

    market.save(folder)
    loaded = Market.load(folder)

    assert loaded.ids == market.ids
    for name in ("closes", "offsets", "dates", "spectra", "spec_offsets", "closes32"):
        assert np.array_equal(getattr(loaded, name), getattr(market, name))
        assert isinstance(getattr(loaded, name), np.memmap)
    pattern = np.cumsum(np.random.default_rng(seed).normal(size=m))
    for mode in ("history", "latest"):
        assert search(loaded, pattern, k=10, mode=mode) == search(market, pattern, k=10, mode=mode)


@pytest.mark.parametrize("m", [5, 60, 250])
def test_latest_mode_split_over_both_threads_matches_reference(jp_market, m, monkeypatch):
    # Large markets split latest mode over the threads; force it on the real closes.
    monkeypatch.setattr(finder, "THREADS", 2)
    monkeypatch.setattr(finder, "_LATEST_SPLIT", 0)
    series = [np.asarray(jp_market.series_closes(s)) for s in range(len(jp_market))]
    tail = series[4][-m:]
    pattern = tail + np.random.default_rng(m).normal(0, 0.05 * tail.std(), m)
    exclude = [(jp_market.ids[3], 0, len(series[3]))]

    got = search(jp_market, pattern, k=10, mode="latest", exclude=exclude)

    expected = naive.search(series, jp_market.ids, pattern, 10, "latest", exclude)
    assert_same_matches(got, expected, series, pattern, allow_ties=True)
    assert len(got) == len(series) - 1
    assert got[0].series == 4


@pytest.mark.parametrize("kind", PATTERN_KINDS)
@pytest.mark.parametrize("k", [1, 10, 100])
@pytest.mark.parametrize("m", [5, 60, 250])
def test_exact_stage_split_over_both_threads_matches_reference(jp_market, m, k, kind, monkeypatch):
    # Large markets leave enough series to evaluate for both threads; force it on real closes.
    monkeypatch.setattr(finder, "THREADS", 2)
    monkeypatch.setattr(finder, "_EXACT_SPLIT", 0)
    rng = np.random.default_rng(m * 100 + k)
    series = [np.asarray(jp_market.series_closes(s)) for s in range(len(jp_market))]
    source = int(rng.integers(0, len(series)))
    start = int(rng.integers(0, len(series[source]) - m))
    pattern = make_pattern(kind, series[source], start, m, rng)
    if np.ptp(pattern) == 0:
        pytest.skip("the cut landed on a trading halt")

    got = search(jp_market, pattern, k=k)

    expected = naive.search(series, jp_market.ids, pattern, k, "history", None)
    assert_same_matches(got, expected, series, pattern, allow_ties=True)
    monkeypatch.setattr(finder, "THREADS", 1)
    assert search(jp_market, pattern, k=k) == got
