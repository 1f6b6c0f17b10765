"""Base rates against a brute force that enumerates every window of a small real market."""

import datetime as dt

import numpy as np
import pytest

from similarity.engine import BaselineIndex, Market, base_rate

from . import naive

HORIZONS = (5, 20, 60, 7)


def assert_close(stat, values, exact):
    assert stat.count == values.size
    if values.size == 0:
        assert stat.median is None
        return
    tolerance = 1e-9 if exact else 0.001
    p10, q25, median, q75, p90 = np.percentile(values, (10, 25, 50, 75, 90))
    assert abs(stat.p10 - p10) <= tolerance
    assert abs(stat.p90 - p90) <= tolerance
    assert stat.mean == pytest.approx(values.mean(), abs=1e-9)
    assert stat.share_positive == pytest.approx(np.mean(values > 0), abs=1e-12)
    assert abs(stat.median - median) <= tolerance
    assert abs(stat.q25 - q25) <= tolerance
    assert abs(stat.q75 - q75) <= tolerance


@pytest.fixture(scope="module")
def gappy_market(jp_series):
    """The real series, cut so that they start and end on different days, one with a gap."""
    codes = list(jp_series)
    series, dates = [], []
    for j, code in enumerate(codes):
        closes, days = jp_series[code]
        cut = slice(37 * j, len(closes) - 23 * (len(codes) - j))
        closes, days = closes[cut], days[cut]
        if j == 2:  # a trading halt of 30 days
            closes = np.concatenate([closes[:400], closes[430:]])
            days = np.concatenate([days[:400], days[430:]])
        series.append(closes)
        dates.append(days)
    return Market.from_series(series, codes, dates=dates)


CASES = [
    {"m": 20},
    {"m": 60, "date_from": "2000-01-01"},
    {"m": 5, "date_to": "2004-06-30"},
    {"m": 30, "period": ("2002-03-01", "2002-05-15")},
    {
        "m": 120,
        "date_from": "1999-02-01",
        "date_to": "2005-12-31",
        "period": ("2003-01-06", "2003-02-28"),
    },
    {"m": 20, "series": [True, False, True, True, False, True]},
    {"m": 40, "before": "2003-07-01"},
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fixture", ["jp_market", "gappy_market"])
def test_base_rate_matches_every_window_enumerated(request, fixture, case):
    market = request.getfixturevalue(fixture)
    index = BaselineIndex.build(market)
    case = dict(case)
    m = case.pop("m")
    mask = np.asarray(case.pop("series")) if "series" in case else None
    period = case.pop("period", None)
    before = case.pop("before", None)
    for use_index in (None, index):
        stats = base_rate(
            market,
            m,
            HORIZONS,
            index=use_index,
            series=mask,
            exclude_period=period,
            outcome_before=before,
            **case,
        )
        for stat, h in zip(stats, HORIZONS, strict=True):
            values = naive.base_rate_returns(
                market, m, h, series=mask, period=period, before=before, **case
            )
            assert stat.horizon == h
            assert_close(stat, values, exact=use_index is None)


def test_index_survives_save_and_load(jp_market, tmp_path):
    index = BaselineIndex.build(jp_market)
    index.save(tmp_path)
    loaded = BaselineIndex.load(tmp_path)
    assert np.array_equal(loaded.cum_hist, index.cum_hist)
    assert BaselineIndex.load(tmp_path / "missing") is None
    assert base_rate(jp_market, 20, (20,), index=loaded) == base_rate(
        jp_market, 20, (20,), index=index
    )


def test_flat_windows_are_left_out():
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + 300)
    closes = np.linspace(100, 130, 300)
    closes[100:180] = 111.0  # a long halt at one price
    market = Market.from_series([closes], ["F"], dates=[days])
    index = BaselineIndex.build(market)
    for use_index in (None, index):
        (stat,) = base_rate(market, 20, (5,), index=use_index)
        values = naive.base_rate_returns(market, 20, 5)
        assert stat.count == values.size < 300 - 20 - 5
        assert_close(stat, values, exact=use_index is None)


@pytest.mark.parametrize("m", [5, 12, 13, 40])
@pytest.mark.parametrize("fixture", ["jp_market", "gappy_market"])
def test_an_index_for_short_patterns_counts_longer_ones_too(request, fixture, m, monkeypatch):
    """An index whose lead table stops at 12 closes (as the weekly and monthly ones stop at
    their longest pattern) counts a longer pattern's windows from the index all the same."""
    from similarity.engine import baseline

    market = request.getfixturevalue(fixture)
    short = BaselineIndex.build(market, max_length=12)
    assert short.lead_hist.shape[1] == 13
    assert BaselineIndex.build(market).lead_hist.shape[1] == 501
    monkeypatch.setattr(baseline, "_exact", lambda *a: pytest.fail("counted exactly"))

    stats = base_rate(market, m, (5, 20), index=short)

    for stat, h in zip(stats, (5, 20), strict=True):
        assert_close(stat, naive.base_rate_returns(market, m, h), exact=False)


def test_the_index_is_used_for_the_whole_market(jp_market, monkeypatch):
    from similarity.engine import baseline

    index = BaselineIndex.build(jp_market)
    monkeypatch.setattr(baseline, "_exact", lambda *a: pytest.fail("counted exactly"))
    (stat,) = base_rate(
        jp_market, 20, (20,), index=index, exclude_period=(dt.date(2002, 1, 4), dt.date(2002, 2, 1))
    )
    assert stat.count > 1000


# Lengths whose first ends fall either side of the lead table's steps, and excluded periods
# whose ends fall either side of the index's calendar blocks, next to a series' first day, and
# after the date range's end (every path of the corrections).
EDGE_CASES = [
    {"m": 6, "date_to": "2004-06-30"},
    {"m": 9, "date_to": "2004-06-30", "period": ("2004-06-01", "2004-07-20")},
    {"m": 13, "period": ("1998-01-05", "1998-02-10")},
    {"m": 23, "period": ("2003-01-06", "2003-01-07")},
    {"m": 33, "period": ("2001-03-01", "2001-09-28")},
    {"m": 57, "date_to": "2005-06-30", "period": ("2002-10-01", "2002-11-15")},
]


@pytest.mark.parametrize("case", EDGE_CASES)
@pytest.mark.parametrize("fixture", ["jp_market", "gappy_market"])
def test_index_paths_match_every_window_enumerated(request, fixture, case):
    market = request.getfixturevalue(fixture)
    index = BaselineIndex.build(market)
    case = dict(case)
    m = case.pop("m")
    period = case.pop("period", None)
    stats = base_rate(market, m, (5, 20), index=index, exclude_period=period, **case)
    for stat, h in zip(stats, (5, 20), strict=True):
        assert_close(
            stat, naive.base_rate_returns(market, m, h, period=period, **case), exact=False
        )


@pytest.mark.parametrize("fixture", ["jp_market", "gappy_market"])
def test_index_agrees_with_the_exact_count_over_many_periods(request, fixture):
    market = request.getfixturevalue(fixture)
    index = BaselineIndex.build(market)
    days = np.unique(np.asarray(market.dates))
    rng = np.random.default_rng(14)
    for _ in range(25):
        m = int(rng.integers(5, 130))
        first = int(rng.integers(0, days.size - 1))
        last = min(first + int(rng.integers(0, 90)), days.size - 1)
        period = (days[first], days[last])
        date_to = days[int(rng.integers(days.size // 2, days.size))] if rng.random() < 0.3 else None
        indexed = base_rate(
            market, m, (5, 20, 60), index=index, exclude_period=period, date_to=date_to
        )
        exact = base_rate(market, m, (5, 20, 60), exclude_period=period, date_to=date_to)
        for a, b in zip(indexed, exact, strict=True):
            assert (a.count, a.share_positive) == (b.count, b.share_positive)
            assert a.mean == pytest.approx(b.mean, abs=1e-9)
            for name in ("p10", "q25", "median", "q75", "p90"):
                assert abs(getattr(a, name) - getattr(b, name)) <= 0.001
