"""Time of a walk-forward calibration on the real market of ../shared/data/jp_daily.

Loads the 401 issues' adjusted closes (no database), then times what ``manage.py calibrate``
does for N samples (default 500; lengths 20, 60, 120; horizons 5, 20, 60; k 30). The issue's goal
is 500 samples in 10 minutes on the 2-core machine. Run: ``python benchmarks/calibration_bench.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from similarity.engine import (  # noqa: E402
    CALIBRATION_LENGTHS,
    DEFAULT_HORIZONS,
    MIN_LENGTH,
    Market,
    calibration_table,
    draw_samples,
    market_calendar,
    sample_outcomes,
)


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "jp_daily"))
    args = parser.parse_args()
    market = load_jp_daily(Path(args.data))
    print(f"market: {len(market)} series, {market.size:,} closes; load {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    cpu = time.process_time()
    calendar = market_calendar(market)
    drawn = draw_samples(market, args.samples, CALIBRATION_LENGTHS, max(DEFAULT_HORIZONS), seed=1)
    outcomes = []
    for series, end, length in drawn:
        outcomes += sample_outcomes(market, series, end, length, calendar=calendar)
    rows = calibration_table(outcomes)
    wall = time.perf_counter() - started
    print(
        f"{len(drawn)} samples in {wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU "
        f"({wall / max(1, len(drawn)) * 1000:.0f} ms a sample); load {os.getloadavg()[0]:.1f}"
    )
    print("| m | h | samples | inside 10-90 | inside 25-75 | sign (matches) | sign (base) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        cells = [row.inside_80, row.inside_50, row.sign_hit, row.base_sign_hit]
        shown = " | ".join("-" if v is None else f"{v:.0%}" for v in cells)
        print(f"| {row.length} | {row.horizon} | {row.count} | {shown} |")


if __name__ == "__main__":
    main()
