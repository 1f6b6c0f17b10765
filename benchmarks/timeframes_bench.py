"""Benchmark of weekly and monthly searches (日足/週足/月足) and of the snapshot build they add.

    python benchmarks/timeframes_bench.py [--series 4000] [--repeat 5] [--database]

Builds the similarity benchmark's market (``similarity_bench.build_series``: fixed seed, 4,000
series of up to 5,000 business days) and prints:

* the snapshot's write with daily closes only (the market, listed flags, base-rate index,
  checksums) and with the weekly and monthly markets and indexes as a build now writes them;
  with ``--database``, also the whole ``snapshot_build`` (the database read included) from the
  configured database, with and without the weekly and monthly part;
* per interval (day, week, month), a history search of the same number of bars (26 and 60) over
  the whole market with its base rate: wall and CPU medians and the cost the plan charges
  (``limits.search_cost_ms``).

Wall-clock medians on a shared machine; nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=4000, help="series of the market")
    parser.add_argument("--repeat", type=int, default=5, help="searches timed per row")
    parser.add_argument(
        "--database", action="store_true", help="also time snapshot_build on the database"
    )
    return parser.parse_args()


def cpu_wall(fn, repeat: int) -> tuple[float, float, object]:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")
    import django

    django.setup()
    import numpy as np

    import benchmarks.similarity_bench as bench
    from similarity import limits, snapshot
    from similarity.engine import Market, base_rate, market_resample, search
    from similarity.snapshot_intervals import index_horizons

    bench.SERIES = args.series
    series = bench.build_series()
    dates = bench.build_dates(series)
    ids = [f"{i:04d}" for i in range(len(series))]
    listed = [True] * len(series)
    print(f"market: {len(series):,} series, {sum(map(len, series)):,} daily closes")

    def write(with_intervals: bool) -> float:
        with tempfile.TemporaryDirectory(prefix="timeframes-bench-") as scratch:
            started = time.perf_counter()
            market = Market.from_series(series, ids, dates)
            if with_intervals:
                snapshot.snapshot_write(Path(scratch) / "s", market=market, listed=listed)
            else:
                with mock.patch.object(snapshot, "intervals_write", lambda folder, market: None):
                    snapshot.snapshot_write(Path(scratch) / "s", market=market, listed=listed)
            return time.perf_counter() - started

    daily_only, with_all = [], []
    for _round in range(2):  # alternated, so that a drifting host skews no ratio
        daily_only.append(write(False))
        with_all.append(write(True))
    before, after = statistics.median(daily_only), statistics.median(with_all)
    print(
        f"snapshot write   daily only {before:7.1f} s   with week+month {after:7.1f} s   "
        f"{after / before - 1:+.0%}"
    )
    if args.database:
        database_build(snapshot)

    market = Market.from_series(series, ids, dates)
    views = {"day": market}
    for interval in ("week", "month"):
        views[interval] = market_resample(market, interval)
    from similarity.engine import BaselineIndex

    indexes = {
        interval: BaselineIndex.build(m, index_horizons(interval))
        if interval != "day"
        else BaselineIndex.build(m)
        for interval, m in views.items()
    }
    print(
        "closes           "
        + "   ".join(f"{interval} {views[interval].size:,}" for interval in limits.INTERVALS)
    )
    print(f"{'search (history, k=10, base rate)':36s} {'wall ms':>9s} {'cpu ms':>9s} {'cost':>7s}")
    for m in (26, 60):
        for interval in limits.INTERVALS:
            view = views[interval]
            s = int(np.argmax(view.lengths))
            closes = np.asarray(view.series_closes(s))
            start = closes.size // 2
            pattern = closes[start : start + m] * (1 + 0.01 * np.sin(np.arange(m)))
            horizons = list(limits.DEFAULT_HORIZONS_BY_INTERVAL[interval])

            def run(view=view, pattern=pattern, interval=interval, horizons=horizons):
                found = search(view, pattern, k=10)
                base_rate(view, len(pattern), horizons, index=indexes[interval])
                return found

            run()  # compiled kernels, page cache
            wall, cpu, found = cpu_wall(run, args.repeat)
            cost = limits.search_cost_ms(
                closes=view.size,
                series=len(view),
                length=m,
                k=10,
                stretch=False,
                mode="history",
                base_rate_indexed=len(horizons),
            )
            print(
                f"  {interval:5s} m={m:<3d} {len(found):2d} matches {'':13s}"
                f"{wall:9.1f} {cpu:9.1f} {cost:7.1f}"
            )


def database_build(snapshot) -> None:
    """The whole build from the configured database, daily only and with week and month."""
    from django.test import override_settings

    times = {False: [], True: []}
    scratch = tempfile.TemporaryDirectory(prefix="timeframes-build-")
    with scratch, override_settings(SIMILARITY_SNAPSHOT_DIR=scratch.name):
        for _round in range(2):
            for with_intervals in (False, True):
                started = time.perf_counter()
                if with_intervals:
                    built = snapshot.snapshot_build()
                else:
                    with mock.patch.object(
                        snapshot, "intervals_write", lambda folder, market: None
                    ):
                        built = snapshot.snapshot_build()
                times[with_intervals].append(time.perf_counter() - started)
    before, after = statistics.median(times[False]), statistics.median(times[True])
    print(
        f"snapshot_build   daily only {before:7.1f} s   with week+month {after:7.1f} s   "
        f"{after / before - 1:+.0%}   ({built.market.size:,} closes from the database)"
    )


if __name__ == "__main__":
    main()
