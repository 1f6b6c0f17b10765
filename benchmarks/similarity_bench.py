"""Benchmark of the similarity engine against STUMPY and a float64 brute force.

Builds the market the peers were measured on (fixed seed): 4,000 series, 80% with 5,000 closes
and 20% with a length drawn uniformly from 1,000 to 5,000, each a geometric random walk with
Student-t(4) log returns, daily volatility U(1%, 3%), start price U(5, 500). The query is the
window of series 123 from close 2,500 with Gaussian noise of 5% of its standard deviation.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/similarity_bench.py``); ``--quick``
skips the slow peers. Timings are wall-clock medians on whatever else the machine is doing; our
search is timed in three rounds between the peers, so that a drifting host skews no ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.similarity_peers import (  # noqa: E402
    JoinedMass,
    MatchPerSeries,
    agree,
    as_triples,
    brute_force,
)
from similarity.engine import (  # noqa: E402
    CALIBRATION_LENGTHS,
    DEFAULT_HORIZONS,
    BaselineIndex,
    BuyAndHoldBenchmark,
    ExcessSample,
    ForecastParams,
    Market,
    base_rate,
    booked_returns,
    forecast_apply,
    search,
    trailing_volatility,
    verdicts,
)

SEED = 20240601
SERIES = 4000
QUERY_SERIES = 123
QUERY_START = 2500
LENGTHS = (20, 60, 120, 250)
K = 10


def build_series(seed: int = SEED) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = np.where(rng.random(SERIES) < 0.8, 5000, rng.integers(1000, 5001, SERIES))
    series = []
    for n in lengths:
        vol = rng.uniform(0.01, 0.03)
        start = rng.uniform(5, 500)
        series.append(start * np.exp(np.cumsum(rng.standard_t(4, int(n)) * vol)))
    return series


def build_dates(series: list[np.ndarray]) -> list[np.ndarray]:
    """Business days ending on one common day, so that the base rate has a calendar."""
    days = np.busday_offset("2026-11-27", -np.arange(max(len(s) for s in series))[::-1], "backward")
    return [days[days.size - len(s) :] for s in series]


def query_period(market: Market, m: int) -> tuple[np.datetime64, np.datetime64]:
    """The query's own days, which a stock pattern's search leaves out in every series."""
    dates = market.series_dates(QUERY_SERIES)
    return dates[QUERY_START], dates[QUERY_START + m - 1]


def make_query(series: list[np.ndarray], m: int, seed: int = SEED) -> np.ndarray:
    window = series[QUERY_SERIES][QUERY_START : QUERY_START + m]
    noise = np.random.default_rng(seed + m).normal(0, 0.05 * window.std(), m)
    return window + noise


def timed(fn, repeat: int) -> tuple[float, object]:
    return timed_cpu(fn, repeat)[::2]


def timed_cpu(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall-clock and process CPU milliseconds (all threads) of ``fn``, and its result."""
    samples = Samples(fn)
    samples.run(repeat)
    return samples.wall_ms, samples.cpu_ms, samples.result


class Samples:
    """Timings of ``fn`` gathered over several rounds, so that runs spread across a benchmark
    (between the peers' runs) see the same machine as the peers on a host whose speed drifts."""

    def __init__(self, fn):
        self.fn = fn
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.result = None

    def run(self, repeat: int) -> None:
        for _ in range(repeat):
            cpu = time.process_time()
            start = time.perf_counter()
            self.result = self.fn()
            self.walls.append(time.perf_counter() - start)
            self.cpus.append(time.process_time() - cpu)

    @property
    def wall_ms(self) -> float:
        return statistics.median(self.walls) * 1e3

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpus) * 1e3


def peak_alloc_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- second process --------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from similarity.engine import Market, search

    def private_kb():
        total = 0
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean", "Private_Dirty")):
                    total += int(line.split()[1])
        return total

    # Warm the compiled kernels on a tiny market so their memory counts in the baseline.
    tiny = Market.from_series([np.cumsum(np.random.default_rng(0).normal(size=3000)) + 100], ["x"])
    search(tiny, np.arange(20.0))
    before = private_kb()
    market = Market.load({folder!r})
    q = np.asarray(market.series_closes(123)[2500:2560]) * 1.01
    search(market, q, k=10)
    search(market, q, k=10, mode="latest")
    after = private_kb()
    print(before, after)
    """
)


def second_process_private(folder: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), folder=folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    before, after = (int(v) / 1024 for v in out[-2:])
    return before, after - before


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip STUMPY and the brute force")
    parser.add_argument("--repeat", type=int, default=15, help="runs per median (ours)")
    parser.add_argument(
        "--match-series",
        type=int,
        default=400,
        help="time stumpy.match on this many series and extrapolate to all (0: run all; the "
        "full run takes minutes on a busy machine)",
    )
    return parser.parse_args()


def measure_length(args, series, market, m: int, read_ms: float) -> dict:
    """Ours at pattern length m, interleaved with the peers' runs (unless --quick)."""
    q = make_query(series, m)
    # Our runs in three rounds: before the joined mass, before stumpy.match, before the brute
    # force (all at once with --quick); the median is over all of them.
    rounds = [args.repeat - 2 * (args.repeat // 3), args.repeat // 3, args.repeat // 3]
    samples = Samples(lambda: search(market, q, k=K))
    samples.run(rounds[0] if not args.quick else args.repeat)
    ours = samples.result
    latest_ms, _ = timed(lambda: search(market, q, k=K, mode="latest"), args.repeat)
    row = {
        "m": m,
        "latest": latest_ms,
        "ours_mb": peak_alloc_mb(lambda: search(market, q, k=K)),
        "read": read_ms,
        "top": ours[0],
        "last_r": ours[-1].correlation,
    }
    if not args.quick:
        row.update(measure_peers(args, series, market, q, as_triples(ours), samples, rounds))
    row["ours"], row["ours_cpu"] = samples.wall_ms, samples.cpu_ms
    return row


def measure_peers(args, series, market, q, ref, samples, rounds) -> dict:
    """The joined stumpy.mass, stumpy.match per series and the brute force, with our rounds
    between them; whether all found the same matches."""
    m = len(q)
    row = {}
    mass = JoinedMass(series, m)
    mass.topk(q, K)  # compile
    row["mass"], mass_top = timed(lambda mass=mass: mass.topk(q, K), 3)
    row["mass_profile"], _ = timed(lambda mass=mass: mass.profile(q), 3)
    row["mass_mb"] = peak_alloc_mb(lambda mass=mass: mass.profile(q))
    del mass
    samples.run(rounds[1])
    per = MatchPerSeries(series, m)
    per.topk(q, K, subset=range(2))  # compile
    if args.match_series:
        subset = range(args.match_series)
        ms, match_top = timed(lambda per=per: per.topk(q, K, subset=subset), 1)
        row["match"] = ms * SERIES / args.match_series
        row["match_note"] = (
            f"timed on the first {args.match_series} series and extrapolated; "
            "agreement checked against our search on the same series"
        )
        match_ref = as_triples(search(market, q, k=K, series=list(subset)))
    else:
        row["match"], match_top = timed(lambda per=per: per.topk(q, K), 1)
        match_ref = ref
    del per
    samples.run(rounds[2])
    row["brute"], brute_top = timed(lambda: brute_force(series, q, K), 1)
    row["agree"] = agree(ref, brute_top) and agree(ref, mass_top) and agree(match_ref, match_top)
    return row


def measure_base_rate(args, series, market, index, m: int) -> dict:
    """What a stock pattern's search adds: its own days left out of every series, the search of
    only those days (the same-period context option), and the base rate at the default horizons
    from the snapshot's index (with its largest error)."""
    q = make_query(series, m)
    period = query_period(market, m)
    row = {}
    row["period"], _ = timed(lambda: search(market, q, k=K, exclude_period=period), args.repeat)
    row["same"], _ = timed(lambda: search(market, q, k=K, only_period=period), args.repeat)
    row["base"], row["base_cpu"], indexed = timed_cpu(
        lambda: base_rate(market, m, DEFAULT_HORIZONS, index=index, exclude_period=period),
        args.repeat,
    )
    # A history search with as_of (or date_to): windows ending before a day, per series.
    date_to = np.asarray(index.calendar)[index.calendar.size * 3 // 5].astype("datetime64[D]")
    row["base_asof"], row["base_asof_cpu"], as_of = timed_cpu(
        lambda: base_rate(
            market, m, DEFAULT_HORIZONS, index=index, exclude_period=period, date_to=date_to
        ),
        args.repeat,
    )
    exact = base_rate(market, m, DEFAULT_HORIZONS, exclude_period=period)
    exact_as_of = base_rate(market, m, DEFAULT_HORIZONS, exclude_period=period, date_to=date_to)
    row["base_error"] = max(
        abs(getattr(a, name) - getattr(b, name))
        for a, b in zip([*indexed, *as_of], [*exact, *exact_as_of], strict=True)
        for name in ("p10", "q25", "median", "q75", "p90")
    )
    return row


def measure_forecast(args, series, market, index, m: int, excess, calendar) -> dict:
    """A history search as the service runs its engine part (the search with its own days left
    out, the base rate), and what the forecast adds to it: the base rate's excess median from
    the snapshot's sample, the matches' returns with delisted ones booked, the verdicts and the
    forecast per horizon."""
    q = make_query(series, m)
    period = query_period(market, m)
    params = ForecastParams.neutral(CALIBRATION_LENGTHS, DEFAULT_HORIZONS)
    rng = np.random.default_rng(m)

    def plain():
        found = search(market, q, k=K, exclude_period=period)
        return found, base_rate(market, m, DEFAULT_HORIZONS, index=index, exclude_period=period)

    found, bases = plain()

    def forecast():
        centres = excess.medians(m, DEFAULT_HORIZONS, exclude_period=period)
        returns, _booked = booked_returns(market, found, DEFAULT_HORIZONS, calendar)
        verdicts([rng.normal(0, 0.05, 12) for _ in DEFAULT_HORIZONS], centres)
        volatility = trailing_volatility(q)
        for j, (h, base) in enumerate(zip(DEFAULT_HORIZONS, bases, strict=True)):
            quantiles = (base.p10, base.q25, base.median, base.q75, base.p90)
            forecast_apply(
                params,
                length=m,
                horizon=h,
                base=quantiles,
                volatility=volatility,
                episode_returns=returns[:, j][~np.isnan(returns[:, j])],
            )

    # On a shared host the wall clock of a whole search swings by more than the forecast costs:
    # the search and what the forecast adds are timed apart, on the wall and on the CPU.
    plain_wall, plain_cpu, _ = timed_cpu(plain, args.repeat)
    added_wall, added_cpu, _ = timed_cpu(forecast, args.repeat)
    return {
        "plain": plain_wall,
        "plain_cpu": plain_cpu,
        "added": added_wall,
        "added_cpu": added_cpu,
    }


def print_forecast(rows: list[dict], builds: dict) -> None:
    print()
    print(
        "| m | search + base rate (today): wall, CPU | the forecast adds (excess median, booked "
        "returns, verdicts, forecast): wall, CPU | added, by CPU |"
    )
    print("|---" * 4 + "|")
    for r in rows:
        print(
            f"| {r['m']} | {r['plain']:.1f} ms, {r['plain_cpu']:.1f} ms | {r['added']:.2f} ms, "
            f"{r['added_cpu']:.2f} ms | {r['added_cpu'] / r['plain_cpu']:+.1%} |"
        )
    print(
        f"once per snapshot and process: the buy-and-hold benchmark {builds['benchmark']:,.0f} ms "
        f"({builds['benchmark_mb']:,.0f} MB), the excess sample with 3 horizons "
        f"{builds['excess']:,.0f} ms"
    )


def print_base_rate(rows: list[dict]) -> None:
    print()
    print(
        "| m | search, own days left out of every series | same-period search (only those "
        "days) | base rate (5, 20, 60 days): wall, CPU | the same with date_to (as_of): wall, "
        "CPU | largest percentile error vs exact |"
    )
    print("|---" * 6 + "|")
    for r in rows:
        print(
            f"| {r['m']} | {r['period']:.1f} ms | {r['same']:.1f} ms | {r['base']:.2f} ms, "
            f"{r['base_cpu']:.2f} ms | {r['base_asof']:.2f} ms, {r['base_asof_cpu']:.2f} ms "
            f"| {r['base_error']:.5f} |"
        )
    print("goal: the base rate at or under 5 ms")


def print_table(rows: list[dict], quick: bool) -> None:
    print()
    print(
        "| m | ours (median) | read np.sum | joined stumpy.mass | stumpy.match per series "
        "| float64 brute force | mass / ours | match / ours | same matches | our peak alloc |"
    )
    print("|---" * 10 + "|")
    for r in rows:
        if quick:
            print(
                f"| {r['m']} | {r['ours']:.1f} ms | {r['read']:.1f} ms | - | - | - | - | - | - "
                f"| {r['ours_mb']:.0f} MB |"
            )
            continue
        print(
            f"| {r['m']} | {r['ours']:.1f} ms | {r['read']:.1f} ms | {r['mass']:,.0f} ms "
            f"| {r['match']:,.0f} ms | {r['brute']:,.0f} ms | {r['mass'] / r['ours']:.1f}x "
            f"| {r['match'] / r['ours']:.1f}x | {'yes' if r['agree'] else 'NO'} "
            f"| {r['ours_mb']:.0f} MB |"
        )
    print()
    for r in rows:
        extra = ""
        if not quick:
            extra = (
                f"; mass profile alone {r['mass_profile']:,.0f} ms, its peak alloc "
                f"{r['mass_mb']:,.0f} MB"
            )
            if "match_note" in r:
                extra += f"; stumpy.match {r['match_note']}"
        print(
            f"m={r['m']}: ours uses {r['ours_cpu']:.1f} ms of CPU per search (both threads); "
            f"latest mode {r['latest']:.2f} ms; best match {r['top'].series_id} "
            f"@{r['top'].start} r={r['top'].correlation:.4f}; 10th r={r['last_r']:.4f}{extra}"
        )


def main() -> None:
    args = parse_args()
    print(
        f"similarity benchmark: {os.cpu_count()} cores, seed {SEED}, load average "
        f"{os.getloadavg()[0]:.2f} at start"
    )
    series = build_series()
    ids = [f"S{i:04d}" for i in range(SERIES)]
    print(f"market: {SERIES:,} series, {sum(len(x) for x in series):,} closes")

    build_ms, market = timed(lambda: Market.from_series(series, ids, build_dates(series)), 1)
    index_ms, index = timed(lambda: BaselineIndex.build(market), 1)
    index_mb = sum(np.asarray(value).nbytes for value in vars(index).values())
    print(f"base-rate index: build {index_ms:,.0f} ms, {index_mb / 2**20:,.0f} MB")
    with tempfile.TemporaryDirectory(prefix="similarity-bench-") as folder:
        save_ms, _ = timed(lambda: market.save(folder), 1)
        size_mb = sum(p.stat().st_size for p in Path(folder).iterdir()) / 2**20
        market = Market.load(folder)
        print(
            f"snapshot from arrays: build {build_ms:,.0f} ms, save {save_ms:,.0f} ms, "
            f"{size_mb:,.0f} MB on disk (memory-mapped on load)"
        )
        read_ms, _ = timed(lambda: np.sum(market.closes), args.repeat)
        search(market, make_query(series, 20), k=K)  # compile / warm up
        builds = {}
        builds["benchmark"], benchmark = timed(
            lambda: BuyAndHoldBenchmark.build(market, calendar=index.calendar), 1
        )
        builds["benchmark_mb"] = benchmark.levels.nbytes / 2**20
        excess = ExcessSample.build(market, benchmark)
        builds["excess"], _ = timed(lambda: [excess.excess(h) for h in DEFAULT_HORIZONS], 1)
        calendar = np.asarray(index.calendar).astype("datetime64[D]")
        rows = []
        for m in LENGTHS:
            rows.append(measure_length(args, series, market, m, read_ms))
            rows[-1].update(measure_base_rate(args, series, market, index, m))
            rows[-1].update(measure_forecast(args, series, market, index, m, excess, calendar))
            print(f"  m={m}: ours {rows[-1]['ours']:.1f} ms", file=sys.stderr)
        private_base, private_added = second_process_private(folder)

    print_table(rows, args.quick)
    print_base_rate(rows)
    print_forecast(rows, builds)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this benchmark process: {peak_rss:,.0f} MB")
    print(
        f"second process attaching to the saved snapshot: {private_added:,.1f} MB private "
        f"(after its imports and compiled kernels: {private_base:,.0f} MB)"
    )
    print(f"load average now: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
