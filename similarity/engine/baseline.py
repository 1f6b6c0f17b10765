"""Base rates: what followed *every* window that could have been a match.

For a search of pattern length ``m`` and a horizon ``h``, the base rate is the distribution of the
forward returns ``close[t+h] / close[t] - 1`` over every window end ``t`` of the searched series
that the search could have returned: inside the date filters, not overlapping an excluded period,
not flat, with ``h`` closes after it. A pattern's matches mean something only next to it.

Counting those windows on the fly reads the whole market (18 million closes take tens of ms). A
:class:`BaselineIndex`, built once per snapshot, holds cumulative histograms of the returns at a
few horizons over blocks of the market's trading calendar (plus sums and counts of positives,
which make the mean and the share positive exact), and the same over every series' first ends
(the lead table). A query takes the histogram of the blocks inside the search's range, less the
blocks nearest the excluded period (the hole) and less the ends before each series' ``m - 1``-th
close, from a few rows of the cumulative tables, and corrects it exactly, one series at a time
but for all horizons in one pass, only where a series' allowed ends differ from that: the few
ends between a block edge and the range's or the excluded period's own first or last day, and
flat windows. Quantiles read from the histogram are
within half a bin (0.0005) of the exact ones; a quantile that falls in the open-ended first or
last bin, a horizon that was not precomputed, or a subset of the series is computed exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from .evidence import Benchmark, equal_weighted_benchmark
from .finder import MAX_LENGTH
from .market import Market
from .outcomes import HorizonStats, summarize

# Horizons whose histograms the index holds; others are computed exactly (slower).
INDEX_HORIZONS = (5, 20, 60, 120, 250)
# Histogram bins of the returns: BIN_WIDTH wide from -1; bin 0 and bin BINS - 1 are open-ended.
BIN_WIDTH = 0.001
BINS = 3000
# Trading days per calendar block of the cumulative table.
BLOCK_DAYS = 20
# The lead table counts each series' first ends in steps of LEAD_STEP closes, up to the
# longest pattern (one close: a query then touches no series at its start; 5 would make the
# table five times smaller and the base rate about 1.5 ms slower on the benchmark market).
LEAD_STEP = 1
LEAD_ROWS = MAX_LENGTH // LEAD_STEP + 1
# Runs of equal closes at least this long are listed, so that flat windows can be left out.
MIN_FLAT_RUN = 5
_NO_DAY = np.iinfo(np.int64).max
_FILES = (
    "calendar",
    "horizons",
    "cum_hist",
    "cum_sum",
    "cum_pos",
    "flat_ends",
    "flat_runs",
    "equal_weighted",
    "first_pos",
    "gapless",
    "lead_hist",
    "lead_sum",
    "lead_pos",
)


@dataclass(frozen=True, eq=False)
class BaselineIndex:
    """Per-snapshot precomputation for :func:`base_rate`.

    ``calendar`` holds every trading day of the market (``int64`` days since 1970), sorted.
    Block ``b`` covers calendar positions ``b * BLOCK_DAYS`` to ``(b + 1) * BLOCK_DAYS - 1``;
    ``cum_hist[j, b]`` counts, per return bin, the window ends at horizon ``horizons[j]`` (every
    close with ``h`` closes after it, whatever the pattern) dated before block ``b``;
    ``cum_sum``/``cum_pos`` are the sum of those returns and how many are positive.
    ``flat_ends`` are the absolute indices of closes that end a run of at least
    ``MIN_FLAT_RUN`` equal closes, ``flat_runs`` the length of that run. ``equal_weighted``
    is the level of the equal-weighted market on each calendar day (see
    :func:`evidence.equal_weighted_benchmark`). ``first_pos`` is the calendar position of
    each series' first close and ``gapless`` whether the series trades every calendar day from
    there to its last close (so that a day's index in it is a subtraction).
    ``lead_hist[j, k]`` (with ``lead_sum``, ``lead_pos``) counts the ends of every series
    whose index in it is below ``k * LEAD_STEP``: the ends no window of length ``m`` has.
    """

    calendar: np.ndarray
    horizons: np.ndarray
    cum_hist: np.ndarray
    cum_sum: np.ndarray
    cum_pos: np.ndarray
    flat_ends: np.ndarray
    flat_runs: np.ndarray
    equal_weighted: np.ndarray
    first_pos: np.ndarray
    gapless: np.ndarray
    lead_hist: np.ndarray
    lead_sum: np.ndarray
    lead_pos: np.ndarray

    @classmethod
    def build(cls, market: Market, horizons=INDEX_HORIZONS) -> BaselineIndex:
        if market.dates is None:
            raise ValueError("a base-rate index needs a market with dates")
        days = np.asarray(market.dates).astype(np.int64)
        calendar = np.unique(days)
        position = np.searchsorted(calendar, days).astype(np.int64)
        blocks = -(-calendar.size // BLOCK_DAYS)
        hz = np.asarray(sorted({int(h) for h in horizons}), dtype=np.int64)
        cum_hist = np.zeros((hz.size, blocks + 1, BINS), dtype=np.int32)
        cum_sum = np.zeros((hz.size, blocks + 1))
        cum_pos = np.zeros((hz.size, blocks + 1), dtype=np.int64)
        lead_hist = np.zeros((hz.size, LEAD_ROWS, BINS), dtype=np.int32)
        lead_sum = np.zeros((hz.size, LEAD_ROWS))
        lead_pos = np.zeros((hz.size, LEAD_ROWS), dtype=np.int64)
        closes = np.asarray(market.closes)
        offsets = np.asarray(market.offsets)
        for j, h in enumerate(hz):
            _block_histograms(
                closes, offsets, position, int(h), cum_hist[j], cum_sum[j], cum_pos[j]
            )
            _lead_histograms(closes, offsets, int(h), lead_hist[j], lead_sum[j], lead_pos[j])
        for table in (cum_hist, cum_sum, cum_pos, lead_hist, lead_sum, lead_pos):
            np.cumsum(table, axis=1, out=table)
        flat_ends, flat_runs = _flat_runs(closes, offsets, MIN_FLAT_RUN)
        first_pos = position[offsets[:-1]]
        last_pos = position[offsets[1:] - 1]
        return cls(
            calendar=calendar,
            horizons=hz,
            cum_hist=cum_hist,
            cum_sum=cum_sum,
            cum_pos=cum_pos,
            flat_ends=flat_ends,
            flat_runs=flat_runs,
            equal_weighted=equal_weighted_benchmark(market).levels,
            first_pos=first_pos,
            gapless=last_pos - first_pos + 1 == np.diff(offsets),
            lead_hist=lead_hist,
            lead_sum=lead_sum,
            lead_pos=lead_pos,
        )

    def benchmark(self) -> Benchmark:
        """The equal-weighted market of the snapshot."""
        return Benchmark(
            "equal_weighted", self.calendar.astype("datetime64[D]"), self.equal_weighted
        )

    def save(self, folder: str | os.PathLike) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            np.save(folder / f"baseline_{name}.npy", getattr(self, name), allow_pickle=False)
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> BaselineIndex | None:
        """The index saved in ``folder`` (memory-mapped), or None when there is none."""
        folder = Path(folder)
        if not (folder / f"baseline_{_FILES[-1]}.npy").exists():
            return None
        return cls(
            **{
                name: np.load(folder / f"baseline_{name}.npy", mmap_mode="r", allow_pickle=False)
                for name in _FILES
            }
        )


def base_rate(
    market: Market,
    m: int,
    horizons,
    *,
    index: BaselineIndex | None = None,
    series=None,
    date_from=None,
    date_to=None,
    exclude_period=None,
    outcome_before=None,
) -> list[HorizonStats]:
    """Statistics of the forward returns after every window a search could have returned.

    Parameters
    ----------
    market : Market
        The searched market (with dates when any date argument is given).
    m : int
        Pattern length: windows are ``m`` closes long, so a series' first ``m - 1`` closes end
        none.
    horizons : sequence of int
        Closes after a window's last close.
    index : BaselineIndex, optional
        The snapshot's index; without it (or for horizons it lacks, or a subset of the series)
        every window is counted exactly.
    series : array of int or bool, optional
        The series searched (as in :func:`search`); default all.
    date_from, date_to : date, optional
        Windows lying entirely inside, as in :func:`search`.
    exclude_period : (date, date), optional
        Windows overlapping these days (inclusive), in any series, are left out: the market
        moving together with the pattern is no analog of it.
    outcome_before : date, optional
        Only outcomes dated before this day count (walk-forward calibration: nothing the
        pattern's own time could not know).

    Returns
    -------
    list of HorizonStats
        One per horizon: count, mean, median, quartiles (``numpy.percentile``'s linear rule)
        and share positive; None values when no window qualifies.
    """
    from .finder import _as_day, _selected_series, _window_ranges

    m = int(m)
    rows = _selected_series(market, series)
    lo, hi = _window_ranges(market, rows, m, date_from, date_to)
    ex_lo, ex_hi = period_starts(market, rows, m, exclude_period, index)
    period = None
    if exclude_period is not None:
        period = tuple(
            int(_as_day(d, "exclude_period").astype(np.int64)) for d in exclude_period[:2]
        )
    before = _NO_DAY
    if outcome_before is not None:
        if market.dates is None:
            raise ValueError("this market has no dates, so outcomes cannot be cut by date")
        before = int(_as_day(outcome_before, "outcome_before").astype(np.int64))
    days = (
        np.asarray(market.dates).view(np.int64)
        if market.dates is not None
        else np.zeros(0, dtype=np.int64)
    )
    closes = np.asarray(market.closes)
    offsets = np.asarray(market.offsets)
    if index is not None:
        flat_ends, flat_runs = np.asarray(index.flat_ends), np.asarray(index.flat_runs)
    else:
        flat_ends, flat_runs = _flat_runs(closes, offsets, MIN_FLAT_RUN)
    indexed = index is not None and rows.size == len(market) and before == _NO_DAY
    horizons = [int(v) for v in horizons]
    if any(h < 1 for h in horizons):
        raise ValueError("horizons must be positive numbers of closes")
    found_in_index = {}
    core = _core(index, days, offsets, rows, lo, hi, m, period) if indexed else None
    if core is not None:
        ready = sorted({h for h in horizons if h in index.horizons})
        if ready:
            found = _indexed(index, core, closes, offsets, rows, lo, hi, ex_lo, ex_hi, m, ready)
            found_in_index = dict(zip(ready, found, strict=True))
    stats = []
    for h in horizons:
        found = found_in_index.get(h)
        if found is None:
            found = _exact(
                closes,
                offsets,
                days,
                rows,
                lo,
                hi,
                ex_lo,
                ex_hi,
                m,
                h,
                before,
                flat_ends,
                flat_runs,
            )
        stats.append(found)
    return stats


def period_starts(
    market: Market, rows: np.ndarray, m: int, period, index: BaselineIndex | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per series of ``rows``, the window starts ``[ex_lo, ex_hi]`` (inclusive; empty when
    ``ex_lo > ex_hi``) whose ``m`` closes include a day of ``period = (first, last)``; the
    market's ``index``, when given, spares the binary searches in series that trade every day."""
    ex_lo = np.ones(rows.size, dtype=np.int64)
    ex_hi = np.zeros(rows.size, dtype=np.int64)
    if period is None:
        return ex_lo, ex_hi
    from .finder import _as_day

    if market.dates is None:
        raise ValueError("this market has no dates, so a period cannot be excluded")
    first = int(_as_day(period[0], "exclude_period").astype(np.int64))
    last = int(_as_day(period[1], "exclude_period").astype(np.int64))
    days = np.asarray(market.dates).view(np.int64)
    offsets = np.asarray(market.offsets)
    if index is None:
        _period_ranges(days, offsets, rows, first, last, m, ex_lo, ex_hi)
        return ex_lo, ex_hi
    # the first close on or after `first`, and the first after `last`
    values = np.array([first, last + 1], dtype=np.int64)
    positions = np.searchsorted(index.calendar, values).astype(np.int64)
    found = np.empty((rows.size, 2), dtype=np.int64)
    _first_indices(days, offsets, rows, index.first_pos, index.gapless, positions, values, found)
    a, b = found[:, 0], found[:, 1] - 1
    some = a <= b
    ex_lo[some], ex_hi[some] = a[some] - m + 1, b[some]
    return ex_lo, ex_hi


@njit(nogil=True, cache=True)
def _period_ranges(days, offsets, rows, first, last, m, ex_lo, ex_hi):
    """Window starts of each row whose window ``[i, i + m)`` has a day in ``[first, last]``."""
    for r in range(rows.shape[0]):
        base = offsets[rows[r]]
        n = offsets[rows[r] + 1] - base
        a = np.searchsorted(days[base : base + n], first)  # first close on or after `first`
        b = np.searchsorted(days[base : base + n], last, side="right") - 1  # last on or before
        if a > b:
            ex_lo[r], ex_hi[r] = 1, 0
        else:
            ex_lo[r], ex_hi[r] = a - m + 1, b


@njit(nogil=True, cache=True)
def _bin(r):
    b = int(np.floor((r + 1.0) / BIN_WIDTH))
    if b < 0:
        return 0
    if b > BINS - 1:
        return BINS - 1
    return b


@njit(nogil=True, cache=True)
def _block_histograms(closes, offsets, position, h, hist, sums, pos):
    """Per calendar block (shifted by one row for the cumulative sum), the returns at ``h``."""
    for s in range(offsets.shape[0] - 1):
        base = offsets[s]
        n = offsets[s + 1] - base
        for t in range(n - h):
            r = closes[base + t + h] / closes[base + t] - 1.0
            block = position[base + t] // BLOCK_DAYS + 1
            hist[block, _bin(r)] += 1
            sums[block] += r
            if r > 0.0:
                pos[block] += 1


@njit(nogil=True, cache=True)
def _lead_histograms(closes, offsets, h, hist, sums, pos):
    """Per row ``k`` (shifted by one for the cumulative sum), the returns at ``h`` of the ends
    whose index in their series is from ``(k - 1) * LEAD_STEP`` to ``k * LEAD_STEP - 1``."""
    for s in range(offsets.shape[0] - 1):
        base = offsets[s]
        n = offsets[s + 1] - base
        for t in range(min(n - h, (LEAD_ROWS - 1) * LEAD_STEP)):
            r = closes[base + t + h] / closes[base + t] - 1.0
            row = t // LEAD_STEP + 1
            hist[row, _bin(r)] += 1
            sums[row] += r
            if r > 0.0:
                pos[row] += 1


@njit(nogil=True, cache=True)
def _flat_runs(closes, offsets, min_run):
    ends = []
    runs = []
    for s in range(offsets.shape[0] - 1):
        run = 0
        for t in range(offsets[s], offsets[s + 1]):
            run = run + 1 if t > offsets[s] and closes[t] == closes[t - 1] else 1
            if run >= min_run:
                ends.append(t)
                runs.append(run)
    out_ends = np.empty(len(ends), dtype=np.int64)
    out_runs = np.empty(len(runs), dtype=np.int64)
    for i in range(len(ends)):
        out_ends[i] = ends[i]
        out_runs[i] = runs[i]
    return out_ends, out_runs


@njit(nogil=True, cache=True)
def _first_at_least(values, start, stop, value):
    """The first index in ``start..stop`` whose value is at least ``value`` (``stop`` if none)."""
    while start < stop:
        middle = (start + stop) // 2
        if values[middle] < value:
            start = middle + 1
        else:
            stop = middle
    return start


@njit(nogil=True, cache=True)
def _allowed(t, a, b, ex_a, ex_b):
    return a <= t <= b and not (ex_a <= t <= ex_b)


@njit(nogil=True, cache=True)
def _flat_correction(closes, base, flat_ends, flat_runs, k, a, b, ex_a, ex_b, m, h, hist, acc):
    """Take the allowed flat windows (a run of at least ``m`` equal closes) back out;
    ``flat_ends[k]`` is the first listed close at or after ``base + a``."""
    while k < flat_ends.shape[0] and flat_ends[k] <= base + b:
        t = flat_ends[k] - base
        if flat_runs[k] >= m and _allowed(t, a, b, ex_a, ex_b):
            r = closes[base + t + h] / closes[base + t] - 1.0
            hist[_bin(r)] -= 1
            acc[0] -= r
            acc[1] -= 1.0
            if r > 0.0:
                acc[2] -= 1.0
        k += 1


@njit(nogil=True, cache=True)
def _first_indices(days, offsets, rows, first_pos, gapless, positions, values, out):
    """Per series of ``rows`` and per day ``values[c]`` (at calendar position
    ``positions[c]``), the first index of the series dated on or after it: a subtraction for a
    series that trades every calendar day, a binary search otherwise."""
    for r in range(rows.shape[0]):
        s = rows[r]
        base = offsets[s]
        stop = offsets[s + 1]
        for c in range(values.shape[0]):
            if gapless[s]:
                out[r, c] = min(max(positions[c] - first_pos[s], 0), stop - base)
            else:
                out[r, c] = _first_at_least(days, base, stop, values[c]) - base


@njit(nogil=True, cache=True)
def _corrections(
    closes,
    offsets,
    rows,
    lo,
    hi,
    ex_lo,
    ex_hi,
    m,
    horizons,
    marks,
    lead,
    flat_ends,
    flat_runs,
    hist,
    acc,
):
    """Exact difference between the allowed window ends and the ends counted in the core, per
    horizon ``horizons[j]`` (into ``hist[j]`` and ``acc[j]``: sum, count, positives).

    The core counted every end (with ``h`` closes after it) dated in its blocks but not in the
    hole's: per series, the indices ``[p, q)`` but not ``[hole_a, hole_b)`` (``marks``), less
    (once more, even in the hole) the lead table's ends below index ``lead``. An end
    counts +1 when allowed but outside the core, -1 when in the core but not allowed. Only
    short spans per series can hold such ends: between the allowed and the core's first and
    last ends, and where the excluded ends and the hole differ (the hole is the excluded
    period's calendar blocks, so for a series trading every day only its partial blocks).
    """
    spans = np.empty((8, 2), dtype=np.int64)
    for r in range(rows.shape[0]):
        s = rows[r]
        base = offsets[s]
        n = offsets[s + 1] - base
        a = lo[r] + m - 1
        ex_a = ex_lo[r] + m - 1
        ex_b = ex_hi[r] + m - 1
        p = marks[r, 0]
        hole_a = marks[r, 2]
        hole_b = marks[r, 3]
        flat = _first_at_least(flat_ends, 0, flat_ends.shape[0], base + a)
        for j in range(horizons.shape[0]):
            h = horizons[j]
            b = min(hi[r] + m - 1, n - 1 - h)
            q = min(marks[r, 1], max(n - h, 0))
            spans[0, 0], spans[0, 1] = min(a, max(p, lead)), max(a, max(p, lead))
            spans[1, 0], spans[1, 1] = min(b + 1, q), max(b + 1, q)
            # the excluded ends outside the hole, and the hole's ends that are not excluded
            if ex_a <= ex_b:
                spans[2, 0], spans[2, 1] = ex_a, min(ex_b + 1, hole_a)
                spans[3, 0], spans[3, 1] = max(ex_a, hole_b), ex_b + 1
                spans[4, 0], spans[4, 1] = hole_a, min(ex_a, hole_b)
                spans[5, 0], spans[5, 1] = max(ex_b + 1, hole_a), hole_b
            else:
                spans[2, 0], spans[2, 1] = hole_a, hole_b
                spans[3, 0], spans[3, 1] = 0, 0
                spans[4, 0], spans[4, 1] = 0, 0
                spans[5, 0], spans[5, 1] = 0, 0
            # the lead's ends in the hole or after the core (taken out twice, or never counted)
            spans[6, 0], spans[6, 1] = hole_a, min(hole_b, lead)
            spans[7, 0], spans[7, 1] = q, lead
            for i in range(1, 8):  # insertion sort by start
                k = i
                while k > 0 and spans[k - 1, 0] > spans[k, 0]:
                    for c in range(2):
                        spans[k - 1, c], spans[k, c] = spans[k, c], spans[k - 1, c]
                    k -= 1
            done = 0
            row = hist[j]
            total, count, positive = 0.0, 0, 0
            for o in range(8):
                start = max(spans[o, 0], done, 0)
                stop = min(spans[o, 1], n - h)
                for t in range(start, stop):
                    core = (1 if p <= t < q else 0) - (1 if hole_a <= t < hole_b else 0)
                    core -= 1 if t < lead else 0
                    w = (1 if _allowed(t, a, b, ex_a, ex_b) else 0) - core
                    if w != 0:
                        ret = closes[base + t + h] / closes[base + t] - 1.0
                        row[_bin(ret)] += w
                        total += w * ret
                        count += w
                        positive += w if ret > 0.0 else 0
                done = max(done, stop)
            acc[j, 0] += total
            acc[j, 1] += count
            acc[j, 2] += positive
            if a <= b:
                _flat_correction(
                    closes,
                    base,
                    flat_ends,
                    flat_runs,
                    flat,
                    a,
                    b,
                    ex_a,
                    ex_b,
                    m,
                    h,
                    hist[j],
                    acc[j],
                )


@njit(nogil=True, cache=True)
def _collect(
    closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m, h, before, flat_ends, flat_runs, out
):
    """Every allowed window's return at ``h`` into ``out``; returns how many."""
    count = 0
    for r in range(rows.shape[0]):
        s = rows[r]
        base = offsets[s]
        n = offsets[s + 1] - base
        a = lo[r] + m - 1
        b = min(hi[r] + m - 1, n - 1 - h)
        ex_a = ex_lo[r] + m - 1
        ex_b = ex_hi[r] + m - 1
        k = np.searchsorted(flat_ends, base + a)
        for t in range(a, b + 1):
            while k < flat_ends.shape[0] and flat_ends[k] < base + t:
                k += 1
            if ex_a <= t <= ex_b:
                continue
            if before != _NO_DAY and days[base + t + h] >= before:
                continue
            if k < flat_ends.shape[0] and flat_ends[k] == base + t and flat_runs[k] >= m:
                continue
            out[count] = closes[base + t + h] / closes[base + t] - 1.0
            count += 1
    return count


def _exact(closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m, h, before, flat_ends, flat_runs):
    lengths = offsets[rows + 1] - offsets[rows]
    room = int(np.maximum(np.minimum(hi + m - 1, lengths - 1 - h) - (lo + m - 1) + 1, 0).sum())
    out = np.empty(room)
    count = _collect(
        closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m, h, before, flat_ends, flat_runs, out
    )
    return summarize(out[:count], h)


@dataclass(frozen=True)
class _Core:
    """The calendar blocks ``[b0, b1)`` a query reads from the index, less the hole
    ``[k0, k1)`` (the blocks of the excluded period) and, when the core starts with the
    calendar, less every series' ends below index ``lead`` (from the lead table); per series the
    first index dated in each (``marks``: core start, core stop, hole start, hole stop)."""

    b0: int
    b1: int
    k0: int
    k1: int
    lead: int
    marks: np.ndarray


def _positions(index, days, offsets, rows, at) -> np.ndarray:
    """The calendar positions of the closes at index ``at`` of each series of ``rows``."""
    gapless = np.asarray(index.gapless)[rows]
    out = np.asarray(index.first_pos)[rows] + at
    if not gapless.all():
        gappy = ~gapless
        out[gappy] = np.searchsorted(index.calendar, days[offsets[rows[gappy]] + at[gappy]])
    return out


def _nearest(value: int, step: int) -> int:
    """The multiple of ``step`` nearest to ``value``."""
    return (value + step // 2) // step * step


def _core(index, days, offsets, rows, lo, hi, m, period) -> _Core | None:
    calendar = index.calendar
    blocks = index.cum_hist.shape[1] - 1
    some = lo <= hi
    if not some.any():
        return None
    # The whole calendar blocks from the (m-1)-th trading day after the earliest allowed start
    # to the latest allowed end (through the last, partial block when that is the calendar's).
    # When every series' windows may start at its first close, the core starts with the
    # calendar and the lead table takes out the ends before each series' (m-1)-th close.
    lead = 0
    if (lo == 0).all():
        b0, lead = 0, _nearest(m - 1, LEAD_STEP)
    else:
        first_pos = int(_positions(index, days, offsets, rows[some], lo[some]).min()) + m - 1
        b0 = -(-first_pos // BLOCK_DAYS)
    last_pos = int(_positions(index, days, offsets, rows[some], hi[some] + m - 1).max())
    b1 = blocks if last_pos + 1 >= calendar.size else min((last_pos + 1) // BLOCK_DAYS, blocks)
    if b1 <= b0:
        return None
    k0 = k1 = b0
    if period is not None:
        # Window ends that touch the period lie from its first day to m - 1 trading days
        # after its last (exactly so for a series that trades every day); the hole is the
        # nearest run of whole blocks, the ends between the two are corrected one by one.
        e0 = int(np.searchsorted(calendar, period[0]))
        e1 = int(np.searchsorted(calendar, period[1], side="right")) + m - 1
        k0 = max(_nearest(e0, BLOCK_DAYS) // BLOCK_DAYS, b0)
        k1 = min(_nearest(e1, BLOCK_DAYS) // BLOCK_DAYS, b1)
        if k1 <= k0:
            k0 = k1 = b0
    positions = np.array([b0, b1, k0, k1], dtype=np.int64) * BLOCK_DAYS
    positions = np.minimum(positions, calendar.size)
    values = np.array([calendar[v] if v < calendar.size else _NO_DAY for v in positions])
    marks = np.empty((rows.size, 4), dtype=np.int64)
    _first_indices(
        days,
        offsets,
        rows,
        index.first_pos,
        index.gapless,
        positions,
        values.astype(np.int64),
        marks,
    )
    return _Core(b0, b1, k0, k1, lead, marks)


def _indexed(index, core, closes, offsets, rows, lo, hi, ex_lo, ex_hi, m, horizons):
    """Per horizon of ``horizons`` (all in the index), its statistics, or None where a
    quantile falls in an open-ended bin."""
    js = np.searchsorted(index.horizons, horizons)
    hist = np.empty((js.size, BINS), dtype=np.int64)
    acc = np.empty((js.size, 3))
    for i, j in enumerate(js):
        blocks = ((core.b1, 1), (core.b0, -1), (core.k1, -1), (core.k0, 1))
        hist[i] = sum(sign * np.asarray(index.cum_hist[j, b], dtype=np.int64) for b, sign in blocks)
        acc[i, 0] = sum(sign * float(index.cum_sum[j, b]) for b, sign in blocks)
        acc[i, 2] = sum(sign * float(index.cum_pos[j, b]) for b, sign in blocks)
        if core.lead:
            row = core.lead // LEAD_STEP
            hist[i] -= np.asarray(index.lead_hist[j, row])
            acc[i, 0] -= float(index.lead_sum[j, row])
            acc[i, 2] -= float(index.lead_pos[j, row])
        acc[i, 1] = float(hist[i].sum())
    _corrections(
        closes,
        offsets,
        rows,
        lo,
        hi,
        ex_lo,
        ex_hi,
        m,
        np.asarray(horizons, dtype=np.int64),
        core.marks,
        core.lead,
        index.flat_ends,
        index.flat_runs,
        hist,
        acc,
    )
    return [_from_histogram(hist[i], acc[i], int(h)) for i, h in enumerate(horizons)]


def _from_histogram(hist: np.ndarray, acc: np.ndarray, h: int) -> HorizonStats | None:
    count = int(round(acc[1]))
    if count == 0:
        return summarize(np.zeros(0), h)
    quartiles = _hist_quantiles(hist, count)
    if quartiles is None:
        return None
    p10, q25, median, q75, p90 = quartiles
    return HorizonStats(
        horizon=h,
        count=count,
        mean=float(acc[0] / count),
        median=median,
        q25=q25,
        q75=q75,
        share_positive=float(acc[2] / count),
        p10=p10,
        p90=p90,
    )


def _hist_quantiles(hist: np.ndarray, count: int) -> list[float] | None:
    """``numpy.percentile``'s linear 10th, 25th, 50th, 75th and 90th percentiles from the
    histogram, each order statistic read at its bin's middle; None when one falls in an
    open-ended bin."""
    cumulative = np.cumsum(hist)
    out = []
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        p = q * (count - 1)
        k = int(np.floor(p))
        frac = p - k
        lo_bin = int(np.searchsorted(cumulative, k, side="right"))
        hi_bin = int(np.searchsorted(cumulative, min(k + 1, count - 1), side="right"))
        if lo_bin in (0, BINS - 1) or hi_bin in (0, BINS - 1):
            return None
        lo_value = -1.0 + (lo_bin + 0.5) * BIN_WIDTH
        hi_value = -1.0 + (hi_bin + 0.5) * BIN_WIDTH
        out.append(float(lo_value + frac * (hi_value - lo_value)))
    return out
