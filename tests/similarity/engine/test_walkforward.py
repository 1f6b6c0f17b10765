"""Walk-forward calibration never reads what followed the pattern's first day: not in the
search, the base rate, the returns or the control, nor in the parameters a fold is forecast
with."""

import dataclasses
import types

import numpy as np
import pytest

from similarity.engine import (
    BuyAndHoldBenchmark,
    ExcessSample,
    ForecastParams,
    Market,
    calibration_draws,
    calibration_table,
    draw_samples,
    forecast_fit,
    market_calendar,
    pattern_rows,
    samples_of,
    scored,
    search,
    walk_forward_predict,
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


def rows_of(market, s, end, m, horizons=(5, 20, 60), k=30, seed=0):
    """The walk-forward record of one pattern, with the market's own benchmark and sample."""
    benchmark = BuyAndHoldBenchmark.build(market)
    return pattern_rows(
        market,
        s,
        end,
        m,
        horizons,
        k=k,
        calendar=market_calendar(market),
        benchmark=benchmark,
        excess=ExcessSample.build(market, benchmark),
        rng=np.random.default_rng(seed),
    )


# What followed the pattern: the market's move after it (in the excess) may differ.
OUTCOME_FIELDS = {"realised_excess"}


def same(a, b) -> bool:
    """Rows equal field by field but the outcome's, NaN equal to NaN."""
    for field in dataclasses.fields(a):
        if field.name in OUTCOME_FIELDS:
            continue
        x, y = np.asarray(getattr(a, field.name)), np.asarray(getattr(b, field.name))
        numeric = x.dtype.kind == "f"
        if not np.array_equal(x, y, equal_nan=numeric):
            return False
    return True


def test_a_planted_future_signal_is_not_used(walks):
    honest = dated_market(walks)
    planted = dated_market(planted_future(walks))
    pattern = walks[SAMPLE_SERIES][SAMPLE_END - M + 1 : SAMPLE_END + 1]
    # Searched with look-ahead, the planted copy is the best match there is.
    best = search(planted, pattern, k=1, exclude=[("S0", SAMPLE_END - M + 1, SAMPLE_END + 1)])[0]
    assert (best.series, best.start) == (3, 1100)
    assert best.correlation == pytest.approx(1.0)

    got = rows_of(planted, SAMPLE_SERIES, SAMPLE_END, M)
    expected = rows_of(honest, SAMPLE_SERIES, SAMPLE_END, M)

    assert all(same(a, b) for a, b in zip(got, expected, strict=True))
    assert all(row.raw_count >= 5 and row.raw[4] < 4 for row in got)


def test_matches_and_outcomes_lie_before_the_pattern(walks):
    market = dated_market(walks)
    calendar = market_calendar(market)
    for s, end, m in draw_samples(market, 12, (20, 60), longest=60, seed=3):
        first_day = market.series_dates(s)[end - m + 1]
        (row,) = rows_of(market, s, end, m, horizons=(60,))
        assert row.raw_count > 0
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


def test_calibration_table_counts_what_fell_inside(walks):
    market = dated_market(walks)
    rows = []
    for s, end, m in draw_samples(market, 20, (40,), longest=20, seed=1):
        rows += rows_of(market, s, end, m, horizons=(20,), k=20)
    quantiles = np.array([row.raw for row in rows])  # any quantiles: the matches' own

    table = calibration_table(rows, quantiles, ForecastParams.neutral((40,), (20,)))

    cell = next(c for c in table["cells"] if c["length"] == 40 and c["third"] is None)
    realised = np.array([row.realised for row in rows])
    inside = (quantiles[:, 0] <= realised) & (realised <= quantiles[:, 4])
    assert cell["count"] == len(rows)
    assert cell["inside_80"] == pytest.approx(inside.mean(), abs=1e-4)
    assert cell["inside_80_interval"][0] <= cell["inside_80"] <= cell["inside_80_interval"][1]
    # per horizon x volatility third over every length too
    params = forecast_fit(samples_of(rows), (40,), (20,))
    by_third = calibration_table(rows, quantiles, params)["cells"]
    thirds = {c["third"]: c for c in by_third if c["length"] is None and c["third"] is not None}
    assert set(thirds) == {0, 1, 2}
    assert sum(c["count"] for c in thirds.values()) == len(rows)
    third = np.array([params.third(row.volatility) for row in rows])
    for t, c in thirds.items():
        assert c["inside_80"] == pytest.approx(inside[third == t].mean(), abs=1e-4)


@pytest.mark.parametrize("folds", [4, None])  # None: one fold per calendar quarter
def test_a_fold_is_forecast_only_from_outcomes_known_before_it_began(walks, folds):
    market = dated_market(walks)
    rows = []
    for s, end, m in draw_samples(market, 60, (40,), longest=20, seed=2):
        rows += rows_of(market, s, end, m, horizons=(20,), k=20)
    first_days = np.array([row.first_day for row in rows])
    earliest_later = np.sort(first_days)[len(rows) // 2]
    # What followed the later half of the patterns, changed beyond recognition.
    changed = [
        dataclasses.replace(row, realised=row.realised * 50 + 3)
        if row.first_day >= earliest_later
        else row
        for row in rows
    ]

    honest, _ = walk_forward_predict(rows, (40,), (20,), folds=folds)
    planted, _ = walk_forward_predict(changed, (40,), (20,), folds=folds)

    earlier = first_days < earliest_later
    assert np.array_equal(honest[earlier], planted[earlier])
    assert not np.array_equal(honest[~earlier], planted[~earlier])


def test_the_control_keeps_each_matchs_days(walks):
    market = dated_market(walks)
    (row,) = rows_of(market, SAMPLE_SERIES, SAMPLE_END, M, horizons=(20,))

    assert row.control_verdict in ("above", "below", "indistinguishable", "insufficient")
    assert row.episodes >= 1


def test_the_earliest_tenth_of_each_lengths_patterns_is_learned_from_and_not_scored():
    rng = np.random.default_rng(4)
    rows = []
    for i in range(300):
        length = (20, 60, 120)[i % 3]
        first = np.datetime64("1990-01-01") + int(rng.integers(0, 10_000))
        for h in (5, 20, 60):  # one row per horizon, all of a pattern kept or dropped together
            rows.append(
                types.SimpleNamespace(series=i, end=500, length=length, horizon=h, first_day=first)
            )

    keep = scored(rows, burn_in=0.1)

    for m in (20, 60, 120):
        mine = [i for i, r in enumerate(rows) if r.length == m]
        days = sorted({rows[i].first_day for i in mine})
        dropped = [i for i in mine if not keep[i]]
        assert len(dropped) == 3 * 10  # ten of its hundred patterns, at every horizon
        assert max(rows[i].first_day for i in dropped) < min(
            rows[i].first_day for i in mine if keep[i]
        )
        assert {rows[i].first_day for i in dropped} == set(days[:10])
    assert calibration_draws(3000) == 3334  # 1,000 scored per length after the burn-in
