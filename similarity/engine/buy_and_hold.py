"""The equal-weighted market of ordinary shares, bought and held over each match's own days, and
the base rate's excess returns measured against it.

A daily-rebalanced mean compounds the noise of every day (and a leveraged or inverse ETF's decay)
into a benchmark no holder of the matches could have had. Here the benchmark return from day
``a`` to day ``b`` is the mean of ``close[b] / close[a] - 1`` over the ordinary shares that had
traded by ``a`` and not yet stopped (``close[b]`` is the last close on or before ``b``, so a share
that stopped trading in between counts at its last close): buying each equally on ``a`` and
holding. ETFs, ETNs and REITs are left out by the caller's ``ordinary`` mask.

:class:`BuyAndHoldBenchmark` has the interface of :class:`.evidence.Benchmark` (``name``,
``covers``, ``returns``, ``fallback``), so a TOPIX benchmark can fall back on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .series import Market, ReadOnlyArrays

# Pairs of days per block when the mean is taken over every share (bounds the memory).
_PAIR_BLOCK = 512
# The base rate's excess returns are measured on at most this many window ends, evenly spaced.
EXCESS_SAMPLE_SIZE = 100_000
# The arrays a snapshot holds (``benchmark_<name>.npy``), memory-mapped on load.
_FILES = ("calendar", "levels", "last")


@dataclass(frozen=True, eq=False)
class BuyAndHoldBenchmark(ReadOnlyArrays):
    """Equal-weighted buy-and-hold returns of the ``ordinary`` series of a market.

    ``levels[d, s]`` is series ``s``'s last close on or before calendar day ``d`` (NaN before its
    first), ``last[s]`` the calendar position of its last close.
    """

    calendar: np.ndarray  # datetime64[D], every trading day of the market
    levels: np.ndarray  # (days, ordinary series) float32
    last: np.ndarray  # (ordinary series,) int64
    name: str = "equal_weighted"
    fallback: None = None

    @classmethod
    def build(
        cls, market: Market, ordinary: np.ndarray | None = None, calendar: np.ndarray | None = None
    ) -> BuyAndHoldBenchmark:
        """From a market with dates; ``ordinary`` (a mask per series) picks the shares held;
        ``calendar`` (every trading day of the market, sorted, as the base-rate index holds it)
        spares sorting every close's day."""
        if market.dates is None:
            raise ValueError("an equal-weighted benchmark needs a market with dates")
        dates = np.asarray(market.dates).astype("datetime64[D]")
        offsets = np.asarray(market.offsets)
        if calendar is None:
            calendar = np.unique(dates)
        calendar = np.asarray(calendar).astype("datetime64[D]")
        position = np.searchsorted(calendar, dates)
        rows = np.arange(len(market)) if ordinary is None else np.flatnonzero(ordinary)
        lengths = np.diff(offsets)
        rows = rows[lengths[rows] > 0]
        # Every close of the rows at (its calendar day, its row's column), in one assignment.
        column = np.repeat(np.arange(rows.size), lengths[rows])
        held = np.arange(column.size) - np.repeat(
            np.cumsum(lengths[rows]) - lengths[rows], lengths[rows]
        )
        held += np.repeat(offsets[rows], lengths[rows])
        levels = np.full((calendar.size, rows.size), np.nan, dtype=np.float32)
        levels[position[held], column] = np.asarray(market.closes)[held]
        last = position[offsets[rows + 1] - 1].astype(np.int64)
        _forward_fill(levels)
        return cls(calendar=calendar.astype("datetime64[D]"), levels=levels, last=last)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write the arrays into ``folder`` (a snapshot's), for :meth:`load` to map."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            array = np.asarray(getattr(self, name))
            if name == "calendar":
                array = array.astype("datetime64[D]").astype(np.int64)
            np.save(folder / f"benchmark_{name}.npy", array, allow_pickle=False)
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> BuyAndHoldBenchmark | None:
        """The benchmark saved in ``folder``, memory-mapped (every process that loads it shares
        the pages), or None when there is none; ValueError when its arrays disagree in shape."""
        folder = Path(folder)
        if not (folder / f"benchmark_{_FILES[-1]}.npy").exists():
            return None
        arrays = {
            name: np.load(folder / f"benchmark_{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in _FILES
        }
        calendar, levels, last = arrays["calendar"], arrays["levels"], arrays["last"]
        if levels.ndim != 2 or levels.shape != (calendar.size, last.size):
            raise ValueError(
                f"benchmark levels of shape {levels.shape} for {calendar.size} days and "
                f"{last.size} shares"
            )
        return cls(calendar=calendar.view("datetime64[D]"), levels=levels, last=last)

    def covers(self, start, end) -> bool:
        if self.calendar.size == 0:
            return False
        return bool(
            self.calendar[0] <= np.datetime64(start, "D")
            and np.datetime64(end, "D") <= self.calendar[-1]
        )

    def returns(self, start, end) -> np.ndarray:
        """The equal-weighted buy-and-hold return from each ``start`` day to its ``end`` day
        (the last trading day on or before each); NaN outside the calendar or with no share."""
        start = np.asarray(start, dtype="datetime64[D]")
        end = np.asarray(end, dtype="datetime64[D]")
        shape = np.broadcast(start, end).shape
        a = np.searchsorted(self.calendar, np.broadcast_to(start, shape).ravel(), side="right") - 1
        b = np.searchsorted(self.calendar, np.broadcast_to(end, shape).ravel(), side="right") - 1
        return self.position_returns(a, b).reshape(shape)

    def position_returns(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """As :meth:`returns`, by calendar positions (NaN where either is negative)."""
        out = np.full(a.shape, np.nan)
        ok = (a >= 0) & (b >= 0) & (b >= a)
        pairs, inverse = np.unique(np.stack([a[ok], b[ok]]), axis=1, return_inverse=True)
        values = np.empty(pairs.shape[1])
        for lo in range(0, pairs.shape[1], _PAIR_BLOCK):
            pa, pb = pairs[0, lo : lo + _PAIR_BLOCK], pairs[1, lo : lo + _PAIR_BLOCK]
            start = self.levels[pa]
            held = ~np.isnan(start) & (pa[:, None] <= self.last[None, :])
            ratio = np.where(held, self.levels[pb] / np.where(held, start, 1.0), 0.0)
            count = held.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                values[lo : lo + _PAIR_BLOCK] = np.where(
                    count > 0, ratio.sum(axis=1, dtype=np.float64) / count - 1.0, np.nan
                )
        out[ok] = values[inverse.ravel()]
        return out


def _forward_fill(levels: np.ndarray) -> None:
    """Each column's NaN after its first value replaced by the last value before it."""
    days = np.arange(levels.shape[0])[:, None]
    known = np.where(np.isnan(levels), 0, days)
    np.maximum.accumulate(known, axis=0, out=known)
    filled = levels[known, np.arange(levels.shape[1])[None, :]]
    levels[:] = filled


def chain_returns(benchmark, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each pair's return from the first benchmark of the chain (``benchmark``, its fallback,
    ...) that covers both days; NaN where none does."""
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    out = np.full(start.shape, np.nan)
    todo = np.ones(start.shape, dtype=bool)
    while benchmark is not None and todo.any():
        calendar = getattr(benchmark, "calendar", None)
        if calendar is None:
            calendar = benchmark.dates
        if calendar.size:
            covered = todo & (calendar[0] <= start) & (end <= calendar[-1])
            if covered.any():
                out[covered] = benchmark.returns(start[covered], end[covered])
                todo &= ~covered
        benchmark = benchmark.fallback
    return out


@dataclass(eq=False)
class ExcessSample:
    """Window ends of a market, evenly spaced, with their excess returns at each horizon asked
    (computed once per horizon and kept): what the base rate's excess median is read from.

    ``ends`` are absolute indices of closes in the market; a window of length ``m`` ending there
    starts ``m - 1`` closes earlier in the same series. Days are kept as ``int64`` days since
    1970, so that a query is a few comparisons over the sample.
    """

    market: Market
    benchmark: object
    ends: np.ndarray
    series: np.ndarray
    end_days: np.ndarray
    _excess: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _starts: dict[int, np.ndarray] = field(default_factory=dict)
    _orders: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, market: Market, benchmark, size: int = EXCESS_SAMPLE_SIZE) -> ExcessSample:
        step = max(1, -(-market.size // size))
        ends = np.arange(0, market.size, step, dtype=np.int64)
        series = np.searchsorted(np.asarray(market.offsets), ends, side="right") - 1
        end_days = np.asarray(market.dates)[ends].astype("datetime64[D]").astype(np.int64)
        return cls(market=market, benchmark=benchmark, ends=ends, series=series, end_days=end_days)

    def excess(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Per sampled end, its return ``h`` closes later minus the benchmark's over the same
        days (NaN where the series ends first or no benchmark covers), and the outcome's day
        (``int64``; the largest value where there is none)."""
        h = int(h)
        if h not in self._excess:
            offsets = np.asarray(self.market.offsets)
            dates = np.asarray(self.market.dates)
            closes = np.asarray(self.market.closes)
            later = self.ends + h
            ok = later < offsets[self.series + 1]
            values = np.full(self.ends.size, np.nan)
            outcome = np.full(self.ends.size, np.iinfo(np.int64).max)
            ends, later = self.ends[ok], later[ok]
            own = closes[later] / closes[ends] - 1.0
            values[ok] = own - chain_returns(self.benchmark, dates[ends], dates[later])
            outcome[ok] = dates[later].astype("datetime64[D]").astype(np.int64)
            self._excess[h] = (values, outcome)
        return self._excess[h]

    def _order(self, h: int) -> np.ndarray:
        """The sample's positions sorted by their excess return at ``h`` (NaN last), kept: a
        query's median is then read from the chosen positions in that order, with no
        partition of up to EXCESS_SAMPLE_SIZE values per horizon and search."""
        h = int(h)
        if h not in self._orders:
            self._orders[h] = np.argsort(self.excess(h)[0], kind="stable")
        return self._orders[h]

    def _start_days(self, m: int) -> np.ndarray:
        """The first day of each sampled window of length ``m`` (the smallest value where the
        series has fewer than ``m`` closes by then)."""
        if m not in self._starts:
            if len(self._starts) > 64:
                self._starts.clear()
            first = self.ends - (m - 1)
            ok = first >= np.asarray(self.market.offsets)[self.series]
            days = np.full(self.ends.size, np.iinfo(np.int64).min)
            days[ok] = (
                np.asarray(self.market.dates)[first[ok]].astype("datetime64[D]").astype(np.int64)
            )
            self._starts[m] = days
        return self._starts[m]

    def medians(
        self,
        m: int,
        horizons,
        *,
        series=None,
        date_from=None,
        date_to=None,
        exclude_period=None,
        outcome_before=None,
    ) -> list[float | None]:
        """Per horizon, the median excess return of the sampled windows of length ``m`` that a
        search with these filters could have returned (as :func:`.baseline.base_rate` counts
        them); None where none qualifies."""
        start = self._start_days(int(m))
        keep = start > np.iinfo(np.int64).min
        if series is not None:
            mask = np.asarray(series)
            if mask.dtype != bool:
                chosen = np.zeros(len(self.market), dtype=bool)
                chosen[mask] = True
                mask = chosen
            keep &= mask[self.series]
        if date_from is not None:
            keep &= start >= _day(date_from)
        if date_to is not None:
            keep &= self.end_days <= _day(date_to)
        if exclude_period is not None:
            lo, hi = (_day(day) for day in exclude_period[:2])
            keep &= (self.end_days < lo) | (start > hi)
        out = []
        for h in horizons:
            values, outcome = self.excess(h)
            chosen = keep & ~np.isnan(values)
            if outcome_before is not None:
                chosen &= outcome < _day(outcome_before)
            out.append(sorted_median(values, self._order(h), chosen))
        return out


def sorted_median(values: np.ndarray, order: np.ndarray, chosen: np.ndarray) -> float | None:
    """``np.median(values[chosen])`` (None when nothing is chosen), given ``order``, the
    positions of ``values`` sorted by value: the middle chosen value, or the mean of the two
    middle ones, exactly as np.median takes them (NaN must not be chosen)."""
    ranks = np.flatnonzero(chosen[order])
    if not ranks.size:
        return None
    half = ranks.size // 2
    middle = ranks[half : half + 1] if ranks.size % 2 else ranks[half - 1 : half + 1]
    # The mean of the middle one or two, as np.median takes it (so that -0.0 reads 0.0).
    return float(np.mean(values[order[middle]]))


def _day(value) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def booked_returns(
    market: Market, matches, horizons, calendar: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each match's return at each horizon, and whether it was booked at the last close.

    A series that stopped trading (its last close is before the market's last day) before
    ``end + h`` is booked at its last close when the horizon's day has passed on the market's
    ``calendar`` (every trading day, sorted); a series still trading with no close ``h`` days on
    has no return yet (NaN).
    """
    if calendar is None:
        calendar = np.unique(np.asarray(market.dates))
    horizons = [int(h) for h in horizons]
    out = np.full((len(matches), len(horizons)), np.nan)
    booked = np.zeros(out.shape, dtype=bool)
    closes = np.asarray(market.closes)
    offsets = np.asarray(market.offsets)
    last_day = calendar[-1] if calendar.size else None
    for t, match in enumerate(matches):
        base = offsets[match.series]
        last = offsets[match.series + 1] - 1
        end = base + match.stop - 1
        stopped = market.dates is not None and market.dates[last] < last_day
        position = int(np.searchsorted(calendar, market.dates[end])) if stopped else 0
        for j, h in enumerate(horizons):
            if end + h <= last:
                out[t, j] = closes[end + h] / closes[end] - 1.0
            elif stopped and position + h < calendar.size:
                out[t, j] = closes[last] / closes[end] - 1.0
                booked[t, j] = True
    return out, booked
