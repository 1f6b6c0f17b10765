"""How much a search's matches say: independent episodes, market-relative returns, bootstrap
intervals (the verdict against the base rate is in :mod:`.verdict`).

Matches are not independent draws. Two windows of one stock that overlap, windows of different
stocks that overlap in time by more than half (the market moving together), or an ETF and its
leveraged or inverse twin: each such set is one *episode* and counts once. Every function here
takes arrays and returns arrays or plain values; nothing reads a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .outcomes import OutcomeStats, summarize
from .series import Market

INTERVAL_LEVEL = 0.9
RESAMPLES = 2000
SEED = 20261202


@dataclass(frozen=True, eq=False)
class Benchmark:
    """A market level per trading day (``dates`` increasing), to compare a match's return with.

    ``name`` is ``"TOPIX"`` for the index, ``"equal_weighted"`` for the mean daily return of
    every series of the market, compounded. ``fallback`` measures the matches whose days this
    benchmark does not cover (TOPIX stored from some year on, the equal-weighted market before).
    """

    name: str
    dates: np.ndarray  # datetime64[D]
    levels: np.ndarray
    fallback: Benchmark | None = None

    def covers(self, start, end) -> bool:
        """Whether a level is stored on or before ``start`` and on or after ``end``: a stale
        index (its sync stopped) does not stand in for the days after its last level."""
        if self.dates.size == 0:
            return False
        start = np.datetime64(start, "D")
        end = np.datetime64(end, "D")
        return bool(self.dates[0] <= start and end <= self.dates[-1])

    def returns(self, start, end) -> np.ndarray:
        """Return from the level on (or last before) each ``start`` day to that of ``end``;
        NaN where a day lies outside the stored levels."""
        start = np.asarray(start, dtype="datetime64[D]")
        end = np.asarray(end, dtype="datetime64[D]")
        i = np.searchsorted(self.dates, start, side="right") - 1
        j = np.searchsorted(self.dates, end, side="right") - 1
        ok = (i >= 0) & (j >= 0)
        if self.dates.size:
            ok &= end <= self.dates[-1]
        out = np.full(np.broadcast(i, j).shape, np.nan)
        out[ok] = self.levels[j[ok]] / self.levels[i[ok]] - 1.0
        return out


class Excess(NamedTuple):
    values: np.ndarray  # per match and horizon; NaN where there is no return or no level
    sources: list[str | None]  # per match: the benchmark's name, None when nothing was measured

    def benchmark_name(self, default: str) -> str:
        """One name for the result: the one benchmark every measured match used, ``"mixed"``
        when some used the fallback, ``default`` when nothing was measured."""
        used = {source for source in self.sources if source is not None}
        if not used:
            return default
        return used.pop() if len(used) == 1 else "mixed"


def excess_returns(
    market: Market, matches, horizons, returns: np.ndarray, benchmark: Benchmark
) -> Excess:
    """``returns`` (per match, per horizon) minus the benchmark's return over the same days:
    from the match's last close to the close ``h`` bars later in that stock.

    Each match is measured against one benchmark at every horizon: ``benchmark`` when it covers
    the match's last day to its furthest horizon with a return, else its fallback (when that
    covers them), else none (NaN).
    """
    out = np.full(returns.shape, np.nan)
    sources: list[str | None] = []
    # Per benchmark used: the (match, horizon) cells it measures, with their first and last days,
    # measured in one call (each pair's return is computed on its own, so batching changes none).
    cells: dict[int, tuple] = {}
    for t, match in enumerate(matches):
        dates = market.series_dates(match.series)
        end = match.stop - 1
        measured = [
            j
            for j, h in enumerate(horizons)
            if end + h < dates.shape[0] and not np.isnan(returns[t, j])
        ]
        chosen = None
        if measured:
            furthest = dates[end + max(horizons[j] for j in measured)]
            chosen = _covering(benchmark, dates[end], furthest)
        sources.append(chosen.name if chosen is not None else None)
        if chosen is not None:
            _, rows, columns, starts, stops = cells.setdefault(id(chosen), (chosen, [], [], [], []))
            for j in measured:
                rows.append(t)
                columns.append(j)
                starts.append(dates[end])
                stops.append(dates[end + horizons[j]])
    for chosen, rows, columns, starts, stops in cells.values():
        measured_returns = chosen.returns(np.array(starts), np.array(stops))
        out[rows, columns] = returns[rows, columns] - measured_returns
    return Excess(out, sources)


def _covering(benchmark: Benchmark | None, start, end) -> Benchmark | None:
    while benchmark is not None and not benchmark.covers(start, end):
        benchmark = benchmark.fallback
    return benchmark


def episodes(series, first_days, last_days, twins=None) -> np.ndarray:
    """Episode label of each match (0, 1, ... in order of first appearance).

    Parameters
    ----------
    series : array of int
        Each match's series.
    first_days, last_days : array of datetime64[D]
        The window's first and last day.
    twins : array of int, optional
        Per series of the market, the id of its underlying (-1: none); series sharing one (an
        ETF and its leveraged or inverse twin) are one episode whenever their windows overlap.

    Two matches are one episode when they are of one series (or twins) and overlap at all, or of
    different series and overlap by more than half of the shorter window (in calendar days).
    """
    series = np.asarray(series, dtype=np.int64)
    first = np.asarray(first_days, dtype="datetime64[D]").astype(np.int64)
    last = np.asarray(last_days, dtype="datetime64[D]").astype(np.int64)
    n = series.size
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            overlap = min(last[i], last[j]) - max(first[i], first[j]) + 1
            if overlap <= 0:
                continue
            related = series[i] == series[j] or (
                twins is not None and twins[series[i]] >= 0 and twins[series[i]] == twins[series[j]]
            )
            shorter = min(last[i] - first[i], last[j] - first[j]) + 1
            if related or overlap > shorter / 2:
                parent[root(j)] = root(i)
    roots = np.array([root(i) for i in range(n)], dtype=np.int64)
    _, labels = np.unique(roots, return_inverse=True)
    # Renumber by first appearance, so that episode 0 holds the closest match.
    order = {}
    return np.array([order.setdefault(label, len(order)) for label in labels], dtype=np.int64)


def match_episodes(market: Market, matches, twins=None) -> np.ndarray:
    """:func:`episodes` of a search's matches, from their windows' first and last days."""
    spans = [market.series_dates(match.series) for match in matches]
    return episodes(
        [match.series for match in matches],
        [dates[match.start] for dates, match in zip(spans, matches, strict=True)],
        [dates[match.stop - 1] for dates, match in zip(spans, matches, strict=True)],
        twins=twins,
    )


def collapse(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One value per episode (the median of its members' values), NaN members ignored; episodes
    without any value are dropped."""
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels)
    kept = ~np.isnan(values)
    values, labels = values[kept], labels[kept]
    # Each episode's members sorted, episodes in label order: its median is its middle value,
    # or the mean of its middle two, taken as np.median takes them (one call for all).
    order = np.lexsort((values, labels))
    values, labels = values[order], labels[order]
    starts = np.flatnonzero(np.diff(labels, prepend=labels[:1] - 1)) if labels.size else labels
    counts = np.diff(np.append(starts, labels.size))
    middle = np.stack([values[starts + (counts - 1) // 2], values[starts + counts // 2]], axis=1)
    odd = counts % 2 == 1
    out = np.empty(starts.size)
    out[odd] = np.mean(middle[odd, :1], axis=1)
    out[~odd] = np.mean(middle[~odd], axis=1)
    return out


def independent_stats(returns: np.ndarray, labels: np.ndarray, horizons) -> list[OutcomeStats]:
    """Statistics per horizon over episodes (each counted once)."""
    return [
        summarize(collapse(returns[:, j], labels) if len(returns) else np.zeros(0), h)
        for j, h in enumerate(horizons)
    ]


def bootstrap_intervals(
    values: np.ndarray,
    level: float = INTERVAL_LEVEL,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, tuple[float, float] | None]:
    """Percentile bootstrap intervals of the median and the share positive of ``values``
    (already one per episode), reproducible for a seed; None with fewer than two values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return {"median": None, "share_positive": None}
    rng = np.random.default_rng(seed)
    draws = values[rng.integers(0, values.size, size=(resamples, values.size))]
    tail = (1.0 - level) / 2 * 100
    medians = np.percentile(np.median(draws, axis=1), (tail, 100 - tail))
    shares = np.percentile(np.mean(draws > 0, axis=1), (tail, 100 - tail))
    return {
        "median": (float(medians[0]), float(medians[1])),
        "share_positive": (float(shares[0]), float(shares[1])),
    }
