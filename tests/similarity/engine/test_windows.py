"""The allowed window starts of a date-filtered search against a per-series reference."""

import datetime as dt

import numpy as np
import pytest

from similarity.engine import BaselineIndex, Market
from similarity.engine.windows import selected_series, window_ranges


def reference_ranges(market, rows, m, date_from, date_to):
    """One series at a time: the first close on or after ``date_from``, and the last start
    whose window ends on or before ``date_to``."""
    lo = np.zeros(rows.size, dtype=np.int64)
    hi = market.lengths[rows] - m
    for t, s in enumerate(rows):
        days = market.series_dates(int(s))
        if date_from is not None:
            lo[t] = np.searchsorted(days, np.datetime64(date_from, "D"), side="left")
        if date_to is not None:
            hi[t] = min(hi[t], np.searchsorted(days, np.datetime64(date_to, "D"), side="right") - m)
    return lo, hi


@pytest.fixture(scope="module")
def gappy_market():
    """Series starting and stopping on different days, half of them skipping days of their own
    (the others trade every day of the market from their first to their last)."""
    rng = np.random.default_rng(8)
    calendar = np.datetime64("2001-01-01") + np.arange(3000)
    series, dates = [], []
    for i in range(60):
        start = int(rng.integers(0, 1500))
        stop = int(rng.integers(start + 200, 3001))
        skip = 0.1 if i % 2 else 0.0
        days = calendar[start:stop][rng.random(stop - start) >= skip]
        dates.append(days)
        series.append(100 * np.exp(np.cumsum(rng.normal(0, 0.02, days.size))))
    return Market.from_series(series, [f"S{i}" for i in range(60)], dates=dates)


@pytest.mark.parametrize("m", [5, 20, 120])
@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (None, "2004-06-30"),
        ("2003-02-01", None),
        ("2002-03-03", dt.date(2006, 12, 31)),
        ("1990-01-01", "1991-01-01"),  # before every series: no window
        ("2010-01-01", "2020-01-01"),  # after every series
        (dt.datetime(2004, 1, 1, 15, 30), "2004-01-20"),  # too short a stretch for most m
    ],
)
@pytest.mark.parametrize("with_calendar", [False, True])
def test_window_ranges_match_a_per_series_search(
    gappy_market, m, date_from, date_to, with_calendar
):
    rows = selected_series(gappy_market, None)[::2]
    calendar = BaselineIndex.build(gappy_market) if with_calendar else None

    lo, hi = window_ranges(gappy_market, rows, m, date_from, date_to, calendar)

    want_lo, want_hi = reference_ranges(gappy_market, rows, m, date_from, date_to)
    assert np.array_equal(lo, want_lo)
    assert np.array_equal(hi, want_hi)


def test_window_ranges_refuse_a_date_that_is_not_one(gappy_market):
    rows = selected_series(gappy_market, None)
    with pytest.raises(ValueError, match="date_to must be a date"):
        window_ranges(gappy_market, rows, 20, None, "not a day")
