"""Weekly and monthly closes against the one-date-at-a-time reference (naive.py)."""

import datetime as dt

import numpy as np
import pytest

from similarity.engine import INTERVALS, Market, market_resample, period_ends, search

from . import naive
from .conftest import random_walks


def trading_days(rng, start: str, count: int) -> np.ndarray:
    """Weekdays from ``start`` with random holidays and, now and then, whole weeks missing."""
    days = np.arange(np.datetime64(start), np.datetime64(start) + count * 3 + 60)
    weekday = (days.astype(np.int64) + 3) % 7  # Monday 0
    keep = (weekday < 5) & (rng.random(days.size) > 0.08)
    if count > 50:
        gap = rng.integers(0, days.size // 2)
        keep[gap : gap + 12] = False  # a halt across a week end
    return days[keep][:count]


@pytest.fixture(scope="module")
def dated_market():
    rng = np.random.default_rng(7)
    lengths = [700, 40, 3, 1, 260, 520]
    series = random_walks(77, lengths)
    starts = ["2019-12-27", "2020-02-28", "2021-12-31", "2022-01-02", "2015-06-01", "2018-12-24"]
    dates = [trading_days(rng, s, n) for s, n in zip(starts, lengths, strict=True)]
    ids = [f"S{i}" for i in range(len(series))]
    return Market.from_series(series, ids, dates), series, dates


@pytest.mark.parametrize("interval", INTERVALS)
def test_period_ends_match_the_calendar(dated_market, interval):
    _market, _series, dates = dated_market
    for days in dates:
        assert period_ends(days, interval).tolist() == naive.period_ends(days, interval)


def test_weeks_run_monday_to_sunday_and_months_are_calendar_months():
    days = np.array(
        ["2026-11-27", "2026-11-30", "2026-12-04", "2026-12-06", "2026-12-07", "2027-01-04"],
        dtype="datetime64[D]",
    )  # Fri, Mon, Fri, Sun, Mon, Mon
    assert period_ends(days, "week").tolist() == [0, 3, 4, 5]
    assert period_ends(days, "month").tolist() == [1, 4, 5]
    with pytest.raises(ValueError, match="interval"):
        period_ends(days, "year")


@pytest.mark.parametrize("interval", ("week", "month"))
def test_market_resample_matches_the_reference(dated_market, interval):
    market, series, dates = dated_market
    resampled = market_resample(market, interval)
    assert resampled.ids == market.ids
    expected = naive.resample(series, dates, interval)
    for s, (closes, days) in enumerate(expected):
        np.testing.assert_array_equal(resampled.series_closes(s), closes)
        np.testing.assert_array_equal(resampled.series_dates(s), days)
    assert resampled.size == sum(len(c) for c, _d in expected)
    assert resampled.size < market.size


def test_day_is_the_market_itself_and_dates_are_needed(dated_market):
    market = dated_market[0]
    assert market_resample(market, "day") is market
    with pytest.raises(ValueError, match="dates"):
        market_resample(Market.from_series([np.arange(1.0, 20.0)], ["X"]), "week")
    with pytest.raises(ValueError, match="interval"):
        market_resample(market, "quarter")


def test_a_weekly_search_finds_weekly_windows_dated_by_their_last_trading_day(dated_market):
    market, series, dates = dated_market
    weekly = market_resample(market, "week")
    closes, days = naive.resample(series, dates, "week")[0]
    pattern = closes[30:50]
    found = search(weekly, pattern, k=3)
    brute = naive.search(
        [c for c, _d in naive.resample(series, dates, "week")], weekly.ids, pattern, 3
    )
    assert [(m.series, m.start) for m in found] == [(s, i) for _d, s, i in brute]
    best = found[0]
    assert (best.series, best.start) == (0, 30)
    window = weekly.series_dates(0)[best.start : best.start + 20]
    assert window[0] == days[30] and window[-1] == days[49]
    assert all(np.datetime64(d, "D").item().weekday() < 5 for d in window)
    assert dt.date(2019, 12, 27) <= window[0].item()


def test_saved_with_a_prefix_beside_the_daily_market(tmp_path, dated_market):
    market = dated_market[0]
    weekly = market_resample(market, "week")
    market.save(tmp_path)
    weekly.save(tmp_path, prefix="week.")
    back = Market.load(tmp_path, prefix="week.")
    np.testing.assert_array_equal(back.closes, weekly.closes)
    np.testing.assert_array_equal(back.dates, weekly.dates)
    assert Market.load(tmp_path).size == market.size


def test_an_empty_market_stays_empty():
    empty = Market.from_series([], [], [])
    assert len(market_resample(empty, "month")) == 0
