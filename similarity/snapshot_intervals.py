"""Each snapshot's weekly and monthly markets, beside its daily one.

A build writes, next to the daily market, the same series on weekly and on monthly closes
(`similarity.engine.market_resample`: the close of each week's or calendar month's last trading
day, dated by it) and a base-rate index for each, as flat files named ``week.*`` and ``month.*``:
the checksums, the store's publish and pull and the swap treat them as every other file. A
snapshot built before timeframes has none: its weekly and monthly markets are resampled in the
process on first use (a few seconds), with base rates counted exactly.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np

from similarity import limits
from similarity.engine import BaselineIndex, Market, market_resample

PREFIXES = {"week": "week.", "month": "month."}


def index_horizons(interval: str) -> tuple[int, ...]:
    """The horizons a weekly or monthly base-rate index holds: the defaults and the longest
    (4, 13, 26, 52 weeks; 3, 6, 12, 24 months). Others are counted exactly, window by window,
    and charged as such; each indexed horizon adds to the build."""
    return tuple(
        sorted(
            {
                *limits.DEFAULT_HORIZONS_BY_INTERVAL[interval],
                limits.MAX_HORIZON_BY_INTERVAL[interval],
            }
        )
    )


_lock = threading.Lock()


def intervals_write(folder: Path, market: Market) -> None:
    """Write the weekly and monthly markets and their base-rate indexes into a building folder."""
    for interval, prefix in PREFIXES.items():
        resampled = market_resample(market, interval)
        resampled.save(folder, prefix=prefix)
        if len(resampled):
            BaselineIndex.build(
                resampled,
                index_horizons(interval),
                max_length=limits.MAX_LENGTH_BY_INTERVAL[interval],
            ).save(folder, prefix=prefix)


def intervals_load(folder: Path, market: Market) -> dict[str, tuple[Market, BaselineIndex | None]]:
    """The weekly and monthly markets saved in a snapshot folder ({} for a folder built before
    them); ValueError when one does not fit the daily market (other series, other sizes)."""
    loaded = {}
    for interval, prefix in PREFIXES.items():
        if not (folder / f"{prefix}meta.json").exists():
            continue
        resampled = Market.load(folder, prefix=prefix)
        if resampled.ids != market.ids:
            raise ValueError(f"{prefix}* holds other series than the daily market")
        if resampled.offsets.size != market.offsets.size or resampled.size > market.size:
            raise ValueError(f"{prefix}* has more closes than the daily market")
        if resampled.dates is None or resampled.dates.size != resampled.size:
            raise ValueError(f"{prefix}dates does not match its closes")
        if resampled.closes32.size != resampled.size or resampled.center.size != len(market):
            raise ValueError(f"{prefix}* arrays disagree in size")
        loaded[interval] = (resampled, BaselineIndex.load(folder, prefix=prefix))
    return loaded


def snapshot_at(snapshot, interval: str):
    """The snapshot as a search on ``interval`` sees it: the same id, date and listed stocks,
    with the weekly or monthly market and base-rate index (the snapshot itself for ``"day"``)."""
    if interval == "day":
        return snapshot
    views = snapshot.__dict__.setdefault("_interval_views", {})
    view = views.get(interval)
    if view is None:
        with _lock:
            view = views.get(interval)
            if view is None:
                saved = snapshot.intervals.get(interval)
                if saved is None:  # an older folder: resampled here, once per process
                    saved = (market_resample(snapshot.market, interval), None)
                view = dataclasses.replace(
                    snapshot, market=saved[0], baseline=saved[1], interval=interval, intervals={}
                )
                views[interval] = view
    return view


def interval_sizes(snapshot) -> dict[str, int]:
    """Closes per interval, for /healthz and the build command."""
    sizes = {"day": snapshot.market.size}
    for interval, (market, _index) in snapshot.intervals.items():
        sizes[interval] = int(np.asarray(market.offsets)[-1]) if len(market) else 0
    return sizes
