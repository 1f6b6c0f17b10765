"""The equal-weighted buy-and-hold benchmark of ordinary shares, the base rate's excess sample,
and delisted matches booked at their last close, against brute force on a small market."""

from types import SimpleNamespace

import numpy as np
import pytest

from similarity.engine import Market
from similarity.engine.buy_and_hold import (
    BuyAndHoldBenchmark,
    ExcessSample,
    booked_returns,
    sorted_median,
)

DAYS = np.datetime64("2020-01-06") + np.arange(40)
# Per series: the calendar positions it traded on. B stops trading early (delisted), C skips
# days, E is an ETF left out of the benchmark.
TRADED = {
    "A": np.arange(40),
    "B": np.arange(5, 22),
    "C": np.array([0, 1, 3, 5, 8, 9, 12, 15, 16, 20, 24, 25, 27, 30, 33, 36, 39]),
    "E": np.arange(40),
}
ORDINARY = np.array([True, True, True, False])


@pytest.fixture(scope="module")
def market() -> Market:
    rng = np.random.default_rng(21)
    series = [100 * np.exp(np.cumsum(rng.normal(0, 0.03, p.size))) for p in TRADED.values()]
    return Market.from_series(series, list(TRADED), dates=[DAYS[p] for p in TRADED.values()])


def brute_force_return(market, start, end) -> float:
    ratios = []
    for s in np.flatnonzero(ORDINARY):
        dates, closes = market.series_dates(s), market.series_closes(s)
        if dates[0] > start or dates[-1] < start:
            continue  # not yet listed, or stopped before the start
        at_start = closes[np.searchsorted(dates, start, side="right") - 1]
        at_end = closes[np.searchsorted(dates, end, side="right") - 1]
        ratios.append(at_end / at_start)
    return float(np.mean(ratios) - 1)


def test_buy_and_hold_is_the_mean_of_the_held_shares_ratios(market):
    benchmark = BuyAndHoldBenchmark.build(market, ORDINARY)
    pairs = [(a, b) for a in range(0, 40, 3) for b in range(a, 40, 4)]

    found = benchmark.returns([DAYS[a] for a, _ in pairs], [DAYS[b] for _, b in pairs])

    expected = [brute_force_return(market, DAYS[a], DAYS[b]) for a, b in pairs]
    assert found == pytest.approx(expected, abs=1e-6)  # levels are float32


def test_the_etf_is_not_held(market):
    with_etf = BuyAndHoldBenchmark.build(market, None)
    without = BuyAndHoldBenchmark.build(market, ORDINARY)

    assert with_etf.levels.shape[1] == 4 and without.levels.shape[1] == 3


def brute_force_median(market, benchmark, m, h, **scope) -> float:
    values = []
    lo, hi = scope.get("exclude_period", (None, None))
    for s in range(len(market)):
        dates, closes = market.series_dates(s), market.series_closes(s)
        if scope.get("series") is not None and not scope["series"][s]:
            continue
        for t in range(m - 1, dates.size - h):
            first, last, outcome = dates[t - m + 1], dates[t], dates[t + h]
            if scope.get("date_from") is not None and first < scope["date_from"]:
                continue
            if scope.get("date_to") is not None and last > scope["date_to"]:
                continue
            if lo is not None and not (last < lo or first > hi):
                continue
            if scope.get("outcome_before") is not None and outcome >= scope["outcome_before"]:
                continue
            market_return = benchmark.returns(np.array([last]), np.array([outcome]))[0]
            values.append(closes[t + h] / closes[t] - 1 - market_return)
    return float(np.median(values))


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"date_from": DAYS[4], "date_to": DAYS[30]},
        {"exclude_period": (DAYS[10], DAYS[14])},
        {"series": np.array([True, False, True, True])},
        {"outcome_before": DAYS[25]},
    ],
)
def test_the_base_excess_median_counts_the_windows_a_search_could_return(market, scope):
    benchmark = BuyAndHoldBenchmark.build(market, ORDINARY)
    sample = ExcessSample.build(market, benchmark, size=market.size)  # every close

    found = sample.medians(5, [3, 7], **scope)

    expected = [brute_force_median(market, benchmark, 5, h, **scope) for h in (3, 7)]
    assert found == pytest.approx(expected)


def test_a_delisted_match_is_booked_at_its_last_close_once_the_horizon_has_passed(market):
    delisted = SimpleNamespace(series=1, stop=13)  # B's close on DAYS[17]; B stops on DAYS[21]
    trading = SimpleNamespace(series=0, stop=38)  # A's close on DAYS[37]

    returns, booked = booked_returns(market, [delisted, trading], [2, 10, 30])

    b = market.series_closes(1)
    a = market.series_closes(0)
    assert returns[0, 0] == pytest.approx(b[14] / b[12] - 1) and not booked[0, 0]
    assert returns[0, 1] == pytest.approx(b[-1] / b[12] - 1) and booked[0, 1]
    assert np.isnan(returns[0, 2]) and not booked[0, 2]  # DAYS[17 + 30] is not in the data
    assert returns[1, 0] == pytest.approx(a[39] / a[37] - 1)
    assert np.isnan(returns[1, 1]) and not booked[1, 1]  # still trading: no outcome yet


def test_the_median_of_chosen_values_read_in_sorted_order_is_np_median_to_the_bit():
    rng = np.random.default_rng(4)
    for _ in range(2000):
        n = int(rng.integers(1, 200))
        values = rng.normal(size=n)
        if rng.random() < 0.3:
            values = np.round(values)  # ties and -0.0
        values[rng.random(n) < 0.1] = np.nan
        chosen = (rng.random(n) < rng.random()) & ~np.isnan(values)
        got = sorted_median(values, np.argsort(values, kind="stable"), chosen)
        if not chosen.any():
            assert got is None
        else:
            assert np.float64(got).tobytes() == np.float64(np.median(values[chosen])).tobytes()
