"""Exact top-k search of a pattern over every window of a Market.

History mode runs in two stages. A screen computes, for every window, the sliding dot product of
the z-normalised pattern with the series in float32 (or a bound of it), from the cached spectra
(one batched inverse FFT per block of series), from block sums or, for short patterns, directly
(see :mod:`.screen`); it turns each into an upper and a lower bound of the window's correlation
and keeps each series' best bounds. Then the
series whose upper bound can still reach the k-th best correlation found so far are evaluated
exactly, best first: each window's dot product (direct, in float32 with a strict error bound)
bounds its correlation, and windows that may reach the threshold are z-normalised explicitly in
float64, so distances are those of the definition.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import kernels, period
from .pattern import MAX_LENGTH, MIN_LENGTH, normalize_pattern
from .screen import THREADS, direct_products_coef, screen, thread_pool
from .series import Market
from .windows import exclusions, windows_allowed

DateLike = dt.date | np.datetime64 | str

MODES = ("history", "latest")
STRETCH_FACTORS = (0.8, 0.9, 1.1, 1.25)

# The exact stage runs on both threads from this many screened series that may hold a match.
_EXACT_SPLIT = 8

# Latest mode splits its work over the threads from this many closes read (series x length).
_LATEST_SPLIT = 200_000


@dataclass(frozen=True, slots=True)
class Match:
    """One matched window: closes ``start..stop - 1`` of series ``series`` (id ``series_id``)."""

    series: int
    series_id: str
    start: int
    stop: int
    distance: float
    correlation: float

    @property
    def length(self) -> int:
        return self.stop - self.start


def search(
    market: Market,
    pattern: ArrayLike,
    k: int = 10,
    mode: str = "history",
    exclude: Iterable[tuple[str, int, int]] | None = None,
    *,
    series: ArrayLike | None = None,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    exclude_period: tuple[DateLike, DateLike] | None = None,
    only_period: tuple[DateLike, DateLike] | None = None,
    stretch: bool = False,
) -> list[Match]:
    """The ``k`` windows of ``market`` closest to ``pattern``, sorted by distance.

    Parameters
    ----------
    market : Market
        The series searched.
    pattern : array_like of float
        The prices to look for (see :func:`normalize_pattern`).
    k : int
        Matches wanted; the greedy exclusion zone keeps them apart within a series.
    mode : {"history", "latest"}
        Every window, or only each series' last window.
    exclude : iterable of (str, int, int), optional
        ``(series_id, start, stop)`` index ranges; windows overlapping one are skipped.
    series : array_like of int or bool, optional
        Indices or a boolean mask of the series to search (default: all).
    date_from, date_to : datetime.date or numpy.datetime64 or str, optional
        Only windows lying entirely inside (needs a market with dates).
    exclude_period : (date, date), optional
        Windows of any series with a close on one of these days are skipped (the market moving
        together with the pattern is no analog of it).
    only_period : (date, date), optional
        The opposite: only those windows are searched (the market over the pattern's own days,
        for context); short spans of each series, searched span by span (see :mod:`.period`).
    stretch : bool
        Also search the pattern resampled to ``STRETCH_FACTORS`` times its length and merge by
        correlation (see :func:`search_stretched`).

    Returns
    -------
    list of Match
        At most ``k`` matches, closest first. PatternError when the pattern cannot be searched;
        ValueError for a bad mode, ``k < 1``, a bad exclusion or period (both kinds at once), or
        dates on a dateless market.
    """
    filters = {"series": series, "date_from": date_from, "date_to": date_to}
    filters.update(exclude_period=exclude_period, only_period=only_period)
    if stretch:
        return search_stretched(market, pattern, k=k, mode=mode, exclude=exclude, **filters)
    return _search_exact(market, pattern, k, mode, exclude, filters)


def _search_exact(market: Market, pattern, k, mode, exclude, filters):
    """:func:`search` of the pattern at its own length only (arguments as there)."""
    filters = dict(filters)
    exclude_period = filters.pop("exclude_period")
    if exclude_period is not None and filters["only_period"] is not None:
        raise ValueError("give exclude_period or only_period, not both")
    qn = normalize_pattern(pattern)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    k = int(k)
    if k < 1:
        raise ValueError("k must be at least 1")
    m = qn.shape[0]
    rows, lo, hi = windows_allowed(market, m, mode, **filters)
    ex_ptr, ex_lo, ex_hi = exclusions(market, rows, m, exclude, exclude_period)
    if rows.size == 0:
        return []
    if mode == "latest":
        found = _latest(market, rows, lo, ex_ptr, ex_lo, ex_hi, qn, k)
    elif filters["only_period"] is not None and period.is_narrow(market, rows, lo, hi, m):
        found = period.narrow_history(market, rows, lo, hi, (ex_ptr, ex_lo, ex_hi), qn, k)
    else:
        found = _history(market, rows, lo, hi, ex_ptr, ex_lo, ex_hi, qn, k)
    return [_match(market, s, i, m, d2) for d2, s, i in found]


def search_stretched(
    market: Market,
    pattern: ArrayLike,
    k: int = 10,
    mode: str = "history",
    exclude: Iterable[tuple[str, int, int]] | None = None,
    factors: Iterable[float] = STRETCH_FACTORS,
    **filters,
) -> list[Match]:
    """Search the pattern as given and resampled to ``factors`` times its length.

    Each resampled pattern (linear interpolation, length rounded, kept within
    ``MIN_LENGTH..MAX_LENGTH``) is searched exactly; the results are merged by correlation
    (highest first, ties by series then start), and a match is dropped when it overlaps a better
    one of the same series by more than half the shorter of the two.

    Parameters
    ----------
    market, pattern, k, mode, exclude
        As for :func:`search`.
    factors : iterable of float
        Lengths to try besides the pattern's own, as multiples of it.
    **filters
        ``series``, ``date_from``, ``date_to``, ``exclude_period`` and ``only_period``, as for
        :func:`search`.

    Returns
    -------
    list of Match
        At most ``k`` matches, best correlation first; each keeps its own length
        (``stop - start``).
    """
    q = normalize_pattern(pattern)
    m = q.shape[0]
    lengths = [m]
    for f in factors:
        length = min(MAX_LENGTH, max(MIN_LENGTH, round(m * float(f))))
        if length not in lengths:
            lengths.append(length)
    found: list[Match] = []
    for length in lengths:
        resampled = np.interp(np.linspace(0, m - 1, length), np.arange(m), q)
        found.extend(search(market, resampled, k=k, mode=mode, exclude=exclude, **filters))
    found.sort(key=lambda x: (-x.correlation, x.series, x.start, x.length))
    merged: list[Match] = []
    for cand in found:
        if len(merged) >= k:
            break
        clash = any(
            other.series == cand.series
            and min(other.stop, cand.stop) - max(other.start, cand.start)
            > min(other.length, cand.length) / 2
            for other in merged
        )
        if not clash:
            merged.append(cand)
    return merged


def _match(market: Market, s: int, i: int, m: int, d2: float) -> Match:
    d2 = max(float(d2), 0.0)
    return Match(
        series=int(s),
        series_id=market.ids[s],
        start=int(i),
        stop=int(i) + m,
        distance=math.sqrt(d2),
        correlation=1.0 - d2 / (2.0 * m),
    )


def _latest(market, rows, starts, ex_ptr, ex_lo, ex_hi, qn, k):
    m = qn.shape[0]
    d2 = np.empty(rows.size)
    if THREADS > 1 and rows.size * m >= _LATEST_SPLIT:
        # Long patterns over many series: the pool's thread takes half of the series and the
        # calling thread the other half.
        half = rows.size // 2
        helper = thread_pool().submit(
            kernels.latest_distances,
            market.closes,
            market.offsets,
            rows[half:],
            starts[half:],
            qn,
            m,
            d2[half:],
        )
        try:
            kernels.latest_distances(
                market.closes, market.offsets, rows[:half], starts[:half], qn, m, d2[:half]
            )
        finally:
            helper.result()
    else:
        kernels.latest_distances(market.closes, market.offsets, rows, starts, qn, m, d2)
    for t in np.flatnonzero(ex_ptr[1:] > ex_ptr[:-1]):
        spans = zip(ex_lo[ex_ptr[t] : ex_ptr[t + 1]], ex_hi[ex_ptr[t] : ex_ptr[t + 1]], strict=True)
        if any(a <= starts[t] <= b for a, b in spans):
            d2[t] = -1.0
    ok = np.flatnonzero(d2 >= 0.0)
    # A stable sort keeps exact ties in series order: rows are sorted.
    order = ok[np.argsort(d2[ok], kind="stable")][:k]
    return [(d2[t], int(rows[t]), int(starts[t])) for t in order]


def _history(market, rows, lo, hi, ex_ptr, ex_lo, ex_hi, qn, k):
    upper, lower = screen(market, rows, lo, hi, ex_ptr, ex_lo, ex_hi, qn, k)
    threshold = -np.inf
    if rows.size >= k:
        threshold = float(np.partition(lower, rows.size - k)[rows.size - k])
    order = np.argsort(-upper, kind="stable")
    q32 = qn.astype(np.float32)
    max_len = int(market.lengths[rows].max())

    def exact(part: np.ndarray) -> list[tuple[float, int, int]]:
        best = (np.empty(k), np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int64))
        count = kernels.exact_stage(
            part,
            upper,
            threshold,
            rows,
            lo,
            hi,
            ex_ptr,
            ex_lo,
            ex_hi,
            market.closes,
            market.closes32,
            market.offsets,
            market.center,
            market.scale,
            market.max_dev,
            qn,
            q32,
            direct_products_coef(q32),
            best,
            np.empty(max_len + 1),
            np.empty(max_len + 1),
            np.empty(max_len, dtype=np.float32),
        )
        return list(zip(*(part[:count].tolist() for part in best), strict=True))

    if THREADS > 1 and np.count_nonzero(upper >= threshold) >= _EXACT_SPLIT:
        # Each thread takes every other series, best first, with a threshold of its own: its k
        # best are k matches, so no better match of the search falls below it, and the k best of
        # both are those of one thread taking every series.
        # (Contiguous copies: the kernel then has one compiled signature, not two.)
        helper = thread_pool().submit(exact, np.ascontiguousarray(order[1::2]))
        found = exact(np.ascontiguousarray(order[::2])) + helper.result()
        found.sort()
        return found[:k]
    return exact(order)
