"""Time and table of a walk-forward calibration on the real market of ../shared/data/jp_daily.

Loads the 401 issues' adjusted closes (no database) and the exchange's listing (which of them are
ordinary shares), builds what a snapshot holds (the base-rate index; its time is printed apart,
since ``calibrate`` finds it in the snapshot), then times what ``manage.py calibrate`` does for
N scored samples (default 3,000, drawn with a tenth more for the burn-in; lengths 20, 60, 120;
horizons 5, 20, 60; k 30) and prints the table
the issue asks for: coverage of both ranges per length x horizon and volatility third, CRPS and
Brier skill with 90% intervals, verdict firing and hit rates beside the date-only control. The
goal: 3,000 samples in at most 15 minutes on the 2-core machine.
Run: ``python benchmarks/calibration_bench.py [--samples 3000]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from similarity.engine import (  # noqa: E402
    CALIBRATION_K,
    CALIBRATION_LENGTHS,
    DEFAULT_HORIZONS,
    MIN_LENGTH,
    BaselineIndex,
    BuyAndHoldBenchmark,
    ExcessSample,
    Market,
    calibration_draws,
    calibration_table,
    draw_samples,
    final_recency,
    forecast_fit,
    market_calendar,
    pattern_rows,
    samples_of,
    scored,
    usable,
    walk_forward_predict,
)

# The segments of ordinary shares, as similarity.selectors.ORDINARY_SEGMENTS (no Django here).
ORDINARY_MARK = "株式）"


def load_jp_daily(folder: Path) -> Market:
    series, ids, dates = [], [], []
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path)
        closes = frame["Adj Close"].to_numpy(dtype=np.float64)
        days = pd.to_datetime(frame["Date"], format="%Y/%m/%d").to_numpy().astype("datetime64[D]")
        keep = np.isfinite(closes) & (closes > 0)
        closes, days = closes[keep], days[keep]
        _, first = np.unique(days, return_index=True)
        if first.size >= MIN_LENGTH:
            series.append(closes[first])
            dates.append(days[first])
            ids.append(path.stem)
    return Market.from_series(series, ids, dates=dates)


def ordinary_mask(market: Market, listing: Path) -> np.ndarray:
    """Ordinary shares by the listing's segment; issues not listed today (delisted) count."""
    with listing.open(encoding="utf-8-sig", newline="") as handle:
        segments = {row["コード"]: row["市場・商品区分"] for row in csv.DictReader(handle)}
    return np.array([ORDINARY_MARK in segments.get(code, ORDINARY_MARK) for code in market.ids])


def _share(value, interval=None) -> str:
    if value is None:
        return "-"
    text = f"{value:.1%}"
    return f"{text} [{interval[0]:.1%}, {interval[1]:.1%}]" if interval else text


def _skill(value, interval) -> str:
    if value is None:
        return "-"
    return f"{value:+.1%} [{interval[0]:+.1%}, {interval[1]:+.1%}]"


def print_table(table: dict) -> None:
    thirds = {None: "all", 0: "low", 1: "mid", 2: "high"}
    print(
        "| m | h | vol | n | 10-90 | 25-75 | matches 10-90 (ideal) | CRPS skill | "
        "matches CRPS skill | Brier skill | verdicts fired / hit (n) | control fired / hit (n) "
        "| control gap |"
    )
    print("| " + " | ".join(["---"] * 13) + " |")
    for c in table["cells"]:
        print(
            f"| {c['length'] or 'all'} | {c['horizon']} | {thirds[c['third']]} | {c['count']} "
            f"| {_share(c['inside_80'], c['inside_80_interval'])} "
            f"| {_share(c['inside_50'], c['inside_50_interval'])} "
            f"| {_share(c['raw_inside_80'])} ({_share(c['raw_ideal_80'])}) "
            f"| {_skill(c['crps_skill'], c['crps_skill_interval'])} "
            f"| {_skill(c['matches_crps_skill'], c['matches_crps_skill_interval'])} "
            f"| {_skill(c['brier_skill'], c['brier_skill_interval'])} "
            f"| {_share(c['fired'])} / {_share(c['hit'])} ({c['verdicts']}) "
            f"| {_share(c['control_fired'])} / {_share(c['control_hit'])} "
            f"({c['control_verdicts']}) "
            f"| {_share(c['control_gap_median'])} |"
        )
    any_horizon = table["verdicts_any"]
    print(
        f"\nverdicts on any horizon: {_share(any_horizon['fired'])} of "
        f"{any_horizon['patterns']} patterns; control {_share(any_horizon['control_fired'])}"
    )
    for summary in table["horizons"]:
        print(
            f"h={summary['horizon']}: forecast CRPS skill "
            f"{_skill(summary['crps_skill'], summary['crps_skill_interval'])}, matches "
            f"{_skill(summary['matches_crps_skill'], summary['matches_crps_skill_interval'])}"
            f", Brier {_skill(summary['brier_skill'], summary['brier_skill_interval'])}; "
            f"look-alikes beat the base rate: {summary['matches_beat_base']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", default=os.environ.get("SHARED_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    )
    args = parser.parse_args()
    data = Path(args.data)
    market = load_jp_daily(data / "jp_daily")
    ordinary = ordinary_mask(market, data / "jpx_listed_issues_2026-02-28.csv")
    print(f"market: {len(market)} series, {market.size:,} closes; load {os.getloadavg()[0]:.1f}")
    built = time.perf_counter()
    index = BaselineIndex.build(market)
    print(f"base-rate index (the snapshot's): {time.perf_counter() - built:.1f} s")
    started = time.perf_counter()
    cpu = time.process_time()
    benchmark = BuyAndHoldBenchmark.build(market, ordinary)
    excess = ExcessSample.build(market, benchmark)
    calendar = market_calendar(market)
    rng = np.random.default_rng(args.seed)
    horizons = list(DEFAULT_HORIZONS)
    drawn = draw_samples(
        market, calibration_draws(args.samples), CALIBRATION_LENGTHS, max(horizons), args.seed
    )
    rows = []
    for series, end, length in drawn:
        rows += pattern_rows(
            market,
            series,
            end,
            length,
            horizons,
            k=CALIBRATION_K,
            calendar=calendar,
            benchmark=benchmark,
            excess=excess,
            rng=rng,
            index=index,
        )
    rows = usable(rows)
    quantiles, _weights = walk_forward_predict(rows, CALIBRATION_LENGTHS, horizons)
    params = forecast_fit(samples_of(rows), CALIBRATION_LENGTHS, horizons, final_recency(rows))
    keep = scored(rows)
    rows = [row for row, kept in zip(rows, keep, strict=True) if kept]
    table = calibration_table(rows, quantiles[keep], params)
    wall = time.perf_counter() - started
    per_length = {
        m: len({(r.series, r.end) for r in rows if r.length == m}) for m in CALIBRATION_LENGTHS
    }
    print(
        f"{len(drawn)} patterns drawn, scored after the burn-in {per_length}, in {wall:.1f} s "
        f"wall, {time.process_time() - cpu:.1f} s CPU ({wall / max(1, len(drawn)) * 1000:.0f} ms "
        f"a pattern); load {', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    print(f"learned: exponents {params.exponents.tolist()}, weights {params.weights.tolist()}")
    print_table(table)


if __name__ == "__main__":
    main()
