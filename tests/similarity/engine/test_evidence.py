"""Market-relative returns by hand, episodes and bootstrap intervals (the verdict: test_verdict)."""

import numpy as np
import pytest

from similarity.engine import (
    Benchmark,
    BuyAndHoldBenchmark,
    Market,
    Match,
    bootstrap_intervals,
    collapse,
    episodes,
    excess_returns,
    forward_returns,
)

DAYS = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-09"))  # 8 days


@pytest.fixture
def tiny():
    a = np.array([100, 110, 121, 110, 100, 120, 130, 140.0])
    b = np.array([50, 50, 55, 60, 66, 60.0])  # from day 2
    return Market.from_series([a, b], ["A", "B"], dates=[DAYS, DAYS[2:]])


def test_excess_returns_by_hand(tiny):
    days = DAYS[[0, 2, 4, 6, 7]]
    topix = Benchmark("TOPIX", days, np.array([1000, 1010, 1030, 1060, 1070.0]))
    matches = [Match(0, "A", 0, 3, 0.0, 1.0), Match(1, "B", 0, 2, 0.0, 1.0)]
    horizons = [2, 4, 5]
    returns = forward_returns(tiny, matches, horizons)
    excess = excess_returns(tiny, matches, horizons, returns, topix)
    values = excess.values
    # A ends on day 2 (121): +2 -> day 4 (100), +4 -> day 6 (130), +5 -> day 7 (140).
    assert values[0, 0] == pytest.approx((100 / 121 - 1) - (1030 / 1010 - 1))
    assert values[0, 1] == pytest.approx((130 / 121 - 1) - (1060 / 1010 - 1))
    assert values[0, 2] == pytest.approx((140 / 121 - 1) - (1070 / 1010 - 1))
    # B ends on its close 1 (calendar day 3, TOPIX as of day 2: 1010); +2 is day 5 (as of 4).
    assert values[1, 0] == pytest.approx((60 / 50 - 1) - (1030 / 1010 - 1))
    assert values[1, 1] == pytest.approx((60 / 50 - 1) - (1070 / 1010 - 1))
    assert np.isnan(values[1, 2])  # B has no close 5 bars later
    assert excess.sources == ["TOPIX", "TOPIX"]
    assert excess.benchmark_name(default="TOPIX") == "TOPIX"


def test_excess_returns_fall_back_where_topix_is_not_stored(tiny):
    equal = BuyAndHoldBenchmark.build(tiny)
    matches = [Match(0, "A", 0, 3, 0.0, 1.0), Match(1, "B", 0, 2, 0.0, 1.0)]
    horizons = [2, 4]
    returns = forward_returns(tiny, matches, horizons)
    # TOPIX stored from day 3 only: A's last day (2) predates it, B's (3) does not.
    late = Benchmark("TOPIX", DAYS[3:], 1000.0 + np.arange(5), fallback=equal)

    excess = excess_returns(tiny, matches, horizons, returns, late)

    assert excess.sources == ["equal_weighted", "TOPIX"]
    assert excess.benchmark_name(default="TOPIX") == "mixed"
    a_market = equal.returns(DAYS[2], DAYS[6])  # day 2 -> day 6, one benchmark throughout
    assert excess.values[0, 1] == pytest.approx((130 / 121 - 1) - a_market)
    assert excess.values[1, 1] == pytest.approx((60 / 50 - 1) - (1004 / 1000 - 1))
    # Without a fallback, A is not measured at all.
    alone = excess_returns(
        tiny, matches, horizons, returns, Benchmark("TOPIX", late.dates, late.levels)
    )
    assert alone.sources == [None, "TOPIX"] and np.isnan(alone.values[0]).all()


def test_a_stale_index_does_not_stand_in_for_later_days(tiny):
    equal = BuyAndHoldBenchmark.build(tiny)
    matches = [Match(0, "A", 0, 3, 0.0, 1.0)]
    returns = forward_returns(tiny, matches, [2, 4])
    # TOPIX's sync stopped on day 5: A's 4-day horizon ends on day 6, past its last level.
    stale = Benchmark("TOPIX", DAYS[:6], 1000.0 + np.arange(6), fallback=equal)

    excess = excess_returns(tiny, matches, [2, 4], returns, stale)

    assert excess.sources == ["equal_weighted"]
    assert excess.values[0, 0] == pytest.approx((100 / 121 - 1) - equal.returns(DAYS[2], DAYS[4]))
    assert np.isnan(stale.returns(DAYS[2], DAYS[6]))
    assert stale.covers(DAYS[0], DAYS[5]) and not stale.covers(DAYS[0], DAYS[6])


def test_episodes_group_overlapping_windows():
    day = np.datetime64("2020-01-01")
    first = [day, day + 5, day + 100, day + 103, day + 300, day + 305]
    last = [day + 20, day + 25, day + 120, day + 108, day + 320, day + 325]
    series = [0, 1, 2, 3, 4, 4]
    labels = episodes(series, first, last, twins=None)
    # 0/1 overlap 16 of 21 days; 2/3 overlap 6 of the shorter 6 days; 4's two windows overlap.
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]
    apart = episodes([0, 1], [day, day + 15], [day + 20, day + 35])
    assert apart.tolist() == [0, 1]  # 6 of 21 days: not more than half
    twins = episodes([0, 1], [day, day + 15], [day + 20, day + 35], twins=np.array([7, 7]))
    assert twins.tolist() == [0, 0]


def test_collapse_counts_an_episode_once():
    values = np.array([0.1, 0.3, np.nan, -0.2, 0.05])
    labels = np.array([0, 0, 1, 2, 2])
    assert collapse(values, labels).tolist() == pytest.approx([0.2, -0.075])


def test_bootstrap_is_reproducible():
    values = np.random.default_rng(3).normal(0.01, 0.05, 25)
    assert bootstrap_intervals(values) == bootstrap_intervals(values)
    assert bootstrap_intervals(values[:1]) == {"median": None, "share_positive": None}


def test_bootstrap_covers_the_true_median_at_about_the_nominal_rate():
    rng = np.random.default_rng(11)
    trials, hits_median, hits_share = 300, 0, 0
    for trial in range(trials):
        values = rng.normal(0.02, 0.06, 40)  # true median 0.02, true share positive 0.6306
        interval = bootstrap_intervals(values, resamples=1000, seed=trial)
        low, high = interval["median"]
        hits_median += low <= 0.02 <= high
        low, high = interval["share_positive"]
        hits_share += low <= 0.630559 <= high
    assert 0.83 <= hits_median / trials <= 0.96
    assert 0.80 <= hits_share / trials <= 0.96


def test_collapse_gives_np_median_of_each_episode_to_the_bit():
    rng = np.random.default_rng(8)
    for _ in range(2000):
        n = int(rng.integers(0, 30))
        values = rng.normal(size=n) * rng.choice([1e-3, 1.0, 1e3])
        if rng.random() < 0.3:
            values = np.round(values)  # ties and -0.0
        values[rng.random(n) < 0.2] = np.nan
        first = {}
        labels = np.array(
            [first.setdefault(x, len(first)) for x in rng.integers(0, max(n, 1), n)],
            dtype=np.int64,
        )
        expected = [
            float(np.median(values[(labels == label) & ~np.isnan(values)]))
            for label in range(labels.max() + 1 if n else 0)
            if ((labels == label) & ~np.isnan(values)).any()
        ]
        assert collapse(values, labels).tobytes() == np.array(expected, dtype=float).tobytes()
