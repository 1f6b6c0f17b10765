"""Walk-forward calibration never reads what followed the pattern's first day."""

import numpy as np
import pytest

from similarity.engine import (
    Market,
    calibration_table,
    draw_samples,
    market_calendar,
    sample_outcomes,
    search,
)

from .conftest import random_walks

DAYS = 1500
SERIES = 8
SAMPLE_SERIES, SAMPLE_END, M = 0, 1000, 40


def dated_market(series):
    start = np.datetime64("2010-01-04")
    dates = [start + np.arange(DAYS - len(s), DAYS) for s in series]
    return Market.from_series(series, [f"S{i}" for i in range(len(series))], dates=dates)


@pytest.fixture(scope="module")
def walks():
    return random_walks(77, [DAYS] * SERIES)


def planted_future(walks):
    """Everything on or after the pattern's first day changed, except the sample's own future
    (its realised outcome): another series replays the pattern exactly, then jumps fivefold."""
    first = SAMPLE_END - M + 1
    rng = np.random.default_rng(5)
    changed = []
    for s, closes in enumerate(walks):
        closes = closes.copy()
        if s != SAMPLE_SERIES:
            closes[first:] *= np.exp(np.cumsum(rng.normal(0, 0.02, DAYS - first)))
        changed.append(closes)
    copy = walks[SAMPLE_SERIES][first : SAMPLE_END + 1]
    changed[3][1100 : 1100 + M] = copy * 2
    changed[3][1100 + M :] = changed[3][1100 + M - 1] * 5
    return changed


def test_a_planted_future_signal_is_not_used(walks):
    honest = dated_market(walks)
    planted = dated_market(planted_future(walks))
    pattern = walks[SAMPLE_SERIES][SAMPLE_END - M + 1 : SAMPLE_END + 1]
    # Searched with look-ahead, the planted copy is the best match there is.
    best = search(planted, pattern, k=1, exclude=[("S0", SAMPLE_END - M + 1, SAMPLE_END + 1)])[0]
    assert (best.series, best.start) == (3, 1100)
    assert best.correlation == pytest.approx(1.0)

    got = sample_outcomes(planted, SAMPLE_SERIES, SAMPLE_END, M, horizons=(5, 20, 60))
    expected = sample_outcomes(honest, SAMPLE_SERIES, SAMPLE_END, M, horizons=(5, 20, 60))

    assert got == expected
    assert all(o.matches >= 5 and o.p90 < 4 for o in got)


def test_matches_and_outcomes_lie_before_the_pattern(walks):
    market = dated_market(walks)
    calendar = market_calendar(market)
    for s, end, m in draw_samples(market, 12, (20, 60), longest=60, seed=3):
        first_day = market.series_dates(s)[end - m + 1]
        outcomes = sample_outcomes(market, s, end, m, horizons=(60,), calendar=calendar)
        assert outcomes[0].matches > 0
        position = int(np.searchsorted(calendar, first_day))
        found = search(
            market,
            market.series_closes(s)[end - m + 1 : end + 1],
            k=30,
            date_to=calendar[position - 61],
        )
        for match in found:
            assert market.series_dates(match.series)[match.stop - 1 + 60] < first_day


def test_draw_samples_is_reproducible_and_respects_the_history(walks):
    market = dated_market(walks)
    drawn = draw_samples(market, 30, (20, 60, 120), longest=60, seed=9)
    assert drawn == draw_samples(market, 30, (20, 60, 120), longest=60, seed=9)
    assert [m for _s, _e, m in drawn[:6]] == [20, 60, 120, 20, 60, 120]
    for s, end, m in drawn:
        assert end - m + 1 >= 500 - (DAYS - market.lengths[s])
        assert end + 60 < market.lengths[s]


def test_calibration_table_counts_hits(walks):
    market = dated_market(walks)
    outcomes = []
    for s, end, m in draw_samples(market, 20, (40,), longest=20, seed=1):
        outcomes += sample_outcomes(market, s, end, m, horizons=(20,), k=20)
    (row,) = calibration_table(outcomes)
    usable = [o for o in outcomes if o.matches >= 5]
    assert (row.length, row.horizon, row.count) == (40, 20, len(usable))
    inside = np.mean([o.p10 <= o.realised <= o.p90 for o in usable])
    assert row.inside_80 == pytest.approx(inside)
    assert 0 <= row.inside_50 <= row.inside_80 <= 1
