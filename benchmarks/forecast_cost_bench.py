"""What the forecast adds to a history search, as a ratio of CPU time (the goal: at most +10%).

    .venv/bin/python benchmarks/forecast_cost_bench.py [--repeat 7]

On the benchmark market of similarity_bench.py (4,000 series, 18.5 M closes, its base-rate index
and buy-and-hold benchmark built once as a snapshot build does), for pattern lengths 20, 60, 120
and 250 (k=30, its own days left out), the engine's part of a history search as the search
service runs it: the search, the base rate, the base rate's excess medians and the statistics of
the matches (episodes, booked returns, excess returns, verdicts). Timed twice: without a
forecast, and with the forecast applied (the pattern's trailing volatility and the forecast per
horizon from learned parameters). Prints the median process CPU of each (and wall clock, which
on a shared host swings by more than the forecast costs) and the ratio. Not a test: the figures
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

import django  # noqa: E402

django.setup()

from benchmarks.similarity_bench import (  # noqa: E402
    SERIES,
    build_dates,
    build_series,
    make_query,
    query_period,
)
from similarity.engine import (  # noqa: E402
    CALIBRATION_LENGTHS,
    DEFAULT_HORIZONS,
    BaselineIndex,
    BuyAndHoldBenchmark,
    ExcessSample,
    ForecastParams,
    Market,
    Samples,
    base_rate,
    forecast_fit,
    search,
    trailing_volatility,
)
from similarity.results.statistics import ForecastInput, history_statistics  # noqa: E402

LENGTHS = (20, 60, 120, 250)
K = 30


def learned_params(seed: int = 3) -> ForecastParams:
    """Parameters learned as calibrate learns them (the cost of applying them does not depend on
    their values): on synthetic samples with a volatility and matches' quantiles."""
    rng = np.random.default_rng(seed)
    rows = 9000
    length = rng.choice(CALIBRATION_LENGTHS, rows)
    horizon = rng.choice(DEFAULT_HORIZONS, rows)
    volatility = np.exp(rng.normal(np.log(0.02), 0.4, rows))
    z = np.array([-1.28, -0.67, 0.0, 0.67, 1.28])
    base = np.outer(0.02 * np.sqrt(horizon), z)
    matches = base + rng.normal(0, 0.01, (rows, 5))
    realised = volatility * np.sqrt(horizon) * rng.standard_normal(rows)
    samples = Samples(length, horizon, base, np.sort(matches, axis=1), volatility, realised)
    return forecast_fit(samples, CALIBRATION_LENGTHS, DEFAULT_HORIZONS)


def history_search(
    market, index, benchmark, excess, calendar, params, query, period, m, with_forecast: bool
) -> None:
    """The engine's part of a history search, the forecast applied or not."""
    found = search(market, query, k=K, exclude_period=period)
    baselines = base_rate(market, m, DEFAULT_HORIZONS, index=index, exclude_period=period)
    centres = excess.medians(m, DEFAULT_HORIZONS, exclude_period=period)
    forecast = None
    if with_forecast:
        forecast = ForecastInput(
            params=params, length=m, volatility=trailing_volatility(query), model={}
        )
    history_statistics(
        market,
        found,
        DEFAULT_HORIZONS,
        baselines=baselines,
        benchmark=benchmark,
        base_excess=centres,
        forecast=forecast,
        calendar=calendar,
    )


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median process CPU and wall clock of ``fn`` in ms, after a warm-up call."""
    fn()
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"forecast cost: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at start")
    series = build_series()
    market = Market.from_series(series, [f"S{i:04d}" for i in range(SERIES)], build_dates(series))
    index = BaselineIndex.build(market)
    benchmark = BuyAndHoldBenchmark.build(market, calendar=index.calendar)
    excess = ExcessSample.build(market, benchmark)
    calendar = np.asarray(index.calendar).astype("datetime64[D]")
    params = learned_params()
    print("| m | without the forecast: CPU, wall | with it: CPU, wall | CPU ratio |")
    print("|---|---|---|---|")
    ratios = []
    for m in LENGTHS:
        query, period = make_query(series, m), query_period(market, m)

        case = (market, index, benchmark, excess, calendar, params, query, period, m)
        # alternate the two, so that a drifting host skews neither
        plain_cpu, plain_wall, with_cpu, with_wall = [], [], [], []
        for _round in range(3):
            cpu, wall = timed(functools.partial(history_search, *case, False), args.repeat)
            plain_cpu.append(cpu)
            plain_wall.append(wall)
            cpu, wall = timed(functools.partial(history_search, *case, True), args.repeat)
            with_cpu.append(cpu)
            with_wall.append(wall)
        plain, applied = statistics.median(plain_cpu), statistics.median(with_cpu)
        ratios.append(applied / plain)
        print(
            f"| {m} | {plain:.1f} ms, {statistics.median(plain_wall):.1f} ms "
            f"| {applied:.1f} ms, {statistics.median(with_wall):.1f} ms "
            f"| {applied / plain - 1:+.1%} |"
        )
    print(f"largest CPU ratio: {max(ratios) - 1:+.1%} (goal: at most +10%)")
    print(f"load average now: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
