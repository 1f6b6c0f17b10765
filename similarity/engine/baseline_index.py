"""The base-rate index: per-snapshot cumulative histograms of the forward returns, built once
and saved with the snapshot (see :mod:`.baseline` for how a query reads them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from .pattern import MAX_LENGTH
from .series import Market, ReadOnlyArrays

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
# An index built for shorter patterns (``max_length``: weekly and monthly closes) has fewer
# rows; a longer pattern is still counted from the index, from its first whole block.
LEAD_STEP = 1
LEAD_ROWS = MAX_LENGTH // LEAD_STEP + 1
# Runs of equal closes at least this long are listed, so that flat windows can be left out.
MIN_FLAT_RUN = 5
_FILES = (
    "calendar",
    "horizons",
    "cum_hist",
    "cum_sum",
    "cum_pos",
    "flat_ends",
    "flat_runs",
    "first_pos",
    "gapless",
    "lead_hist",
    "lead_sum",
    "lead_pos",
)


@dataclass(frozen=True, eq=False)
class BaselineIndex(ReadOnlyArrays):
    """Per-snapshot precomputation for :func:`base_rate`.

    ``calendar`` holds every trading day of the market (``int64`` days since 1970), sorted.
    Block ``b`` covers calendar positions ``b * BLOCK_DAYS`` to ``(b + 1) * BLOCK_DAYS - 1``;
    ``cum_hist[j, b]`` counts, per return bin, the window ends at horizon ``horizons[j]`` (every
    close with ``h`` closes after it, whatever the pattern) dated before block ``b``;
    ``cum_sum``/``cum_pos`` are the sum of those returns and how many are positive.
    ``flat_ends`` are the absolute indices of closes that end a run of at least
    ``MIN_FLAT_RUN`` equal closes, ``flat_runs`` the length of that run. ``first_pos`` is the
    calendar position of each series' first close and ``gapless`` whether the series trades
    every calendar day from there to its last close (so that a day's index in it is a
    subtraction).
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
    first_pos: np.ndarray
    gapless: np.ndarray
    lead_hist: np.ndarray
    lead_sum: np.ndarray
    lead_pos: np.ndarray

    @classmethod
    def build(
        cls, market: Market, horizons=INDEX_HORIZONS, *, max_length: int = MAX_LENGTH
    ) -> BaselineIndex:
        """The index of ``market`` at ``horizons``; its lead table serves patterns of up to
        ``max_length`` closes (30 MB at five horizons and MAX_LENGTH)."""
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
        lead_rows = min(int(max_length), MAX_LENGTH) // LEAD_STEP + 1
        lead_hist = np.zeros((hz.size, lead_rows, BINS), dtype=np.int32)
        lead_sum = np.zeros((hz.size, lead_rows))
        lead_pos = np.zeros((hz.size, lead_rows), dtype=np.int64)
        closes = np.asarray(market.closes)
        offsets = np.asarray(market.offsets)
        for j, h in enumerate(hz):
            _block_histograms(
                closes, offsets, position, int(h), cum_hist[j], cum_sum[j], cum_pos[j]
            )
            _lead_histograms(closes, offsets, int(h), lead_hist[j], lead_sum[j], lead_pos[j])
        for table in (cum_hist, cum_sum, cum_pos, lead_hist, lead_sum, lead_pos):
            _cumulate_rows(table)
        flat_ends, flat_lengths = flat_runs(closes, offsets, MIN_FLAT_RUN)
        first_pos = position[offsets[:-1]]
        last_pos = position[offsets[1:] - 1]
        return cls(
            calendar=calendar,
            horizons=hz,
            cum_hist=cum_hist,
            cum_sum=cum_sum,
            cum_pos=cum_pos,
            flat_ends=flat_ends,
            flat_runs=flat_lengths,
            first_pos=first_pos,
            gapless=last_pos - first_pos + 1 == np.diff(offsets),
            lead_hist=lead_hist,
            lead_sum=lead_sum,
            lead_pos=lead_pos,
        )

    def save(self, folder: str | os.PathLike, *, prefix: str = "") -> Path:
        """Write the index into ``folder``, its file names after ``prefix`` (``"week."``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            np.save(
                folder / f"{prefix}baseline_{name}.npy", getattr(self, name), allow_pickle=False
            )
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike, *, prefix: str = "") -> BaselineIndex | None:
        """The index saved in ``folder`` (memory-mapped), or None when there is none."""
        folder = Path(folder)
        if not (folder / f"{prefix}baseline_{_FILES[-1]}.npy").exists():
            return None
        return cls(
            **{
                name: np.load(
                    folder / f"{prefix}baseline_{name}.npy", mmap_mode="r", allow_pickle=False
                )
                for name in _FILES
            }
        )


def _cumulate_rows(table: np.ndarray) -> None:
    """``np.cumsum(table, axis=1, out=table)``, the same sums in the same order: row by row, each
    added to the next whole, where cumsum walks the histograms' 3,000 bins a column at a time
    (lead_hist, 30 MB: 24 against 6.5 ms)."""
    if table.ndim < 3:
        np.cumsum(table, axis=1, out=table)
        return
    for rows in table:
        for i in range(1, rows.shape[0]):
            np.add(rows[i - 1], rows[i], out=rows[i])


@njit(nogil=True, cache=True)
def return_bin(r):
    """The histogram bin of the return ``r``."""
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
            hist[block, return_bin(r)] += 1
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
        for t in range(min(n - h, (hist.shape[0] - 1) * LEAD_STEP)):
            r = closes[base + t + h] / closes[base + t] - 1.0
            row = t // LEAD_STEP + 1
            hist[row, return_bin(r)] += 1
            sums[row] += r
            if r > 0.0:
                pos[row] += 1


@njit(nogil=True, cache=True)
def flat_runs(closes, offsets, min_run):
    """The absolute indices of the closes that end a run of at least ``min_run`` equal closes,
    and the length of that run."""
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
