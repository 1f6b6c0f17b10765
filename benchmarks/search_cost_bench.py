"""What a search is charged against the CPU it takes, case by case.

    .venv/bin/python benchmarks/search_cost_bench.py [--repeat 3]

On the benchmark market of similarity_bench.py (4,000 series, 18.5 M closes, its base-rate index
built as a snapshot builds it), each case runs what the search service runs for it (the engine's
search, the same-period search when it applies, the base rate at its horizons) and prints the
median process CPU beside what `similarity.services.search_cost_estimate` charges the user's
per-minute budget for it (`similarity.limits`). The last case is a base rate the index could
not give though the charge foresaw it would (a quantile in an open-ended bin of the histogram, on
a market of a quarter of the series made to rise 30% a day five days in six): charged before the
search as indexed and after it, by `similarity.services.search_cost_unforeseen`, as exact. Each
ratio should lie within 0.5..2. Not a test: the figures depend on the machine and on what else
runs on it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

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
    DEFAULT_HORIZONS,
    BaselineIndex,
    Market,
    base_rate,
    base_rate_counted,
    search,
)
from similarity.services import search_cost_estimate, search_cost_unforeseen  # noqa: E402

M = 60
CASES = [
    # name, options, horizons, share of the series (a segment or sector), same period
    ("history k=10, indexed base rate", {"k": 10}, DEFAULT_HORIZONS, 1.0, False),
    ("history k=100", {"k": 100}, DEFAULT_HORIZONS, 1.0, False),
    ("history k=10, stretch", {"k": 10, "stretch": True}, DEFAULT_HORIZONS, 1.0, False),
    ("history k=100, stretch", {"k": 100, "stretch": True}, DEFAULT_HORIZONS, 1.0, False),
    ("horizons outside the index (exact)", {"k": 10}, (1, 2, 3, 4, 249), 1.0, False),
    ("a segment: 40% of the series (exact)", {"k": 10}, DEFAULT_HORIZONS, 0.4, False),
    ("a sector: 5% of the series (exact)", {"k": 10}, DEFAULT_HORIZONS, 0.05, False),
    ("same period", {"k": 10, "same_period": True}, DEFAULT_HORIZONS, 1.0, True),
    ("latest mode k=10", {"k": 10, "mode": "latest"}, DEFAULT_HORIZONS, 1.0, False),
]


def run_case(market, index, query, period, options, horizons, mask, same_period):
    history = options["mode"] == "history"
    scope = {"series": mask, "exclude_period": period if history else None}
    search(market, query, k=options["k"], mode=options["mode"], stretch=options["stretch"], **scope)
    if same_period:
        search(
            market, query, k=options["k"], series=mask, only_period=period,
            stretch=options["stretch"],
        )  # fmt: skip
    if history:
        base_rate(market, M, horizons, index=index, **scope)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    series = build_series()
    market = Market.from_series(series, [f"S{i:04d}" for i in range(SERIES)], build_dates(series))
    index = BaselineIndex.build(market)
    snapshot = SimpleNamespace(market=market, baseline=index)
    query, period = make_query(series, M), query_period(market, M)
    rng = np.random.default_rng(7)
    print(f"{len(market):,} series, {market.offsets[-1]:,} closes, pattern of {M} closes")
    print(f"{'case':<40} {'charged ms':>11} {'CPU ms':>9} {'charged/CPU':>12}")
    run_case(market, index, query, period, _options({"k": 10}), DEFAULT_HORIZONS, None, False)
    for name, given, horizons, share, same_period in CASES:
        options = _options(given)
        mask = None if share == 1.0 else rng.random(len(market)) < share
        measure(args, name, snapshot, query, period, options, horizons, mask, same_period)
    series = [s * 1.3 ** (np.arange(s.size) % 6) for s in series[: SERIES // 4]]
    market = Market.from_series(
        series, [f"S{i:04d}" for i in range(len(series))], build_dates(series)
    )
    snapshot = SimpleNamespace(market=market, baseline=BaselineIndex.build(market))
    query, period = make_query(series, M), query_period(market, M)
    name = "index fell back to exact (open bin)"
    measure(args, name, snapshot, query, period, _options({"k": 10}), DEFAULT_HORIZONS, None, False)


def measure(args, name, snapshot, query, period, options, horizons, mask, same_period) -> None:
    """Print a case's charge, before and after the search, beside its median process CPU."""
    market, index = snapshot.market, snapshot.baseline
    charged = search_cost_estimate(
        snapshot=snapshot,
        mask=mask,
        k=options["k"],
        horizons=list(horizons),
        options=options,
        length=M,
        same_period=same_period,
    )
    if options["mode"] == "history":
        scope = {"series": mask, "exclude_period": period}
        counted = base_rate_counted(market, M, horizons, index=index, **scope)
        charged += search_cost_unforeseen(
            snapshot=snapshot, mask=mask, horizons=horizons, exact_horizons=counted.exact_horizons
        )
    cpus = []
    for _ in range(args.repeat):
        started = time.process_time()
        run_case(market, index, query, period, options, horizons, mask, same_period)
        cpus.append((time.process_time() - started) * 1e3)
    cpu = statistics.median(cpus)
    print(f"{name:<40} {charged:11.0f} {cpu:9.0f} {charged / cpu:12.2f}")


def _options(given: dict) -> dict:
    return {"mode": "history", "stretch": False, "same_period": False, **given}


if __name__ == "__main__":
    main()
