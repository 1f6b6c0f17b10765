"""Benchmark of the shape alerts' daily run: 10,000 alerts against the benchmark market.

The market is the similarity benchmark's (4,000 geometric random walks, 18.3 million closes,
fixed seed). The alerts have lengths drawn uniformly from 20 to 250, thresholds from 0.80 to 0.99,
and a third of them one of five series filters; each pattern is a stretch of a random series with
noise. Ours is `similarity.engine.latest_hits` over all of them at once (alerts of one length
share one matrix product); the peer is what a site without it would do, a latest-mode `search`
per alert (its results, thresholded, must agree), timed on a sample and scaled to all alerts.

    .venv/bin/python benchmarks/alerts_bench.py [--alerts 10000] [--repeat 3] [--sample 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.similarity_bench import build_series  # noqa: E402
from similarity.engine import Market, latest_hits, search  # noqa: E402

SEED = 20261202
GOAL_SECONDS = 60.0


def make_alerts(market: Market, count: int, seed: int = SEED):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 251, count)
    patterns = []
    for m in lengths:
        s = int(rng.integers(len(market)))
        closes = market.series_closes(s)
        start = int(rng.integers(0, closes.size - m))
        window = closes[start : start + m]
        patterns.append(window + rng.normal(0, 0.1 * window.std(), m))
    thresholds = rng.uniform(0.80, 0.99, count)
    masks = [rng.random(len(market)) < share for share in (0.2, 0.35, 0.5, 0.65, 0.8)]
    mask_of = np.where(rng.random(count) < 1 / 3, rng.integers(0, len(masks), count), -1)
    return patterns, thresholds, masks, mask_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=300, help="alerts the peer is timed on")
    args = parser.parse_args()

    started = time.perf_counter()
    series = build_series()
    market = Market.from_series(series, [f"S{i:04d}" for i in range(len(series))])
    patterns, thresholds, masks, mask_of = make_alerts(market, args.alerts)
    print(
        f"market: {len(market):,} series, {market.size:,} closes (built in "
        f"{time.perf_counter() - started:.1f} s); {args.alerts:,} alerts of 20-250 closes; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )

    walls = []
    hits = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        hits = latest_hits(market, patterns, thresholds, masks=masks, mask_of=mask_of)
        walls.append(time.perf_counter() - start)
    ours = statistics.median(walls)

    rng = np.random.default_rng(SEED + 1)
    sample = rng.choice(args.alerts, size=min(args.sample, args.alerts), replace=False)
    peer_walls = []
    for p in sample:
        start = time.perf_counter()
        found = search(
            market,
            patterns[p],
            k=len(market),
            mode="latest",
            series=masks[mask_of[p]] if mask_of[p] >= 0 else None,
        )
        peer_walls.append(time.perf_counter() - start)
        expected = {match.series for match in found if match.correlation >= thresholds[p]}
        got = set(hits.series[hits.pattern == p].tolist())
        if got != expected:
            raise SystemExit(f"alert {p}: latest_hits and search disagree")
    peer_per_alert = statistics.median(peer_walls)

    print(f"hits: {len(hits):,}; the {len(sample)} sampled alerts agree with search()")
    print()
    print("| way of doing it | all alerts | per alert (median) | goal |")
    print("| --- | --- | --- | --- |")
    print(
        f"| latest_hits, alerts of one length as one matrix product ({args.repeat} runs) "
        f"| {ours:.2f} s | {ours / args.alerts * 1e3:.3f} ms | {GOAL_SECONDS:.0f} s |"
    )
    print(
        f"| one latest-mode search() per alert ({len(sample)} timed, scaled) "
        f"| {peer_per_alert * args.alerts:.1f} s | {peer_per_alert * 1e3:.3f} ms | |"
    )
    print(f"\nours is {peer_per_alert * args.alerts / ours:.1f}x faster than a search per alert")


if __name__ == "__main__":
    main()
