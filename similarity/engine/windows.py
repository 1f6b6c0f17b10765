"""Which windows a search looks at: the series chosen, the dates allowed, the ranges excluded.

Per selected series (``rows``), the first and last window start allowed (``lo``, ``hi``;
``lo > hi``: none) and the forbidden starts as CSR arrays of inclusive ranges (``ex_ptr``,
``ex_lo``, ``ex_hi``), which the screen and the exact kernels read. A window overlaps a period
when one of its closes falls on a day of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np
from numba import njit

from .series import Market

# A day later than any: "no cut" where a day since 1970 (int64) is expected.
NO_DAY = np.iinfo(np.int64).max


class CalendarIndex(Protocol):
    """The market's trading calendar and where each series sits on it (a ``BaselineIndex``
    provides them): ``calendar`` every trading day (int64 days since 1970, sorted),
    ``first_pos`` each series' first close's position on it, ``gapless`` whether the series
    trades every calendar day from there to its last close."""

    calendar: np.ndarray
    first_pos: np.ndarray
    gapless: np.ndarray


def selected_series(market: Market, series) -> np.ndarray:
    count = len(market)
    if series is None:
        return np.arange(count, dtype=np.int64)
    arr = np.asarray(series if not isinstance(series, (set, frozenset)) else sorted(series))
    if arr.dtype == bool:
        if arr.shape != (count,):
            raise ValueError(f"a series mask must have {count} entries, not {arr.shape}")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError("series must be series indices or a boolean mask")
    arr = np.unique(arr.astype(np.int64))
    if arr[0] < 0 or arr[-1] >= count:
        raise ValueError(f"series indices must be in 0..{count - 1}")
    return arr


def as_day(value, name: str) -> np.datetime64:
    if isinstance(value, dt.datetime):
        value = value.date()
    try:
        day = np.datetime64(value, "D")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date") from exc
    if np.isnat(day):
        raise ValueError(f"{name} must be a date")
    return day


def window_ranges(market, rows, m, date_from, date_to, calendar: CalendarIndex | None = None):
    """Per selected series, the first and last allowed window start (lo > hi: none); the
    market's ``calendar`` (a ``BaselineIndex``), when given, spares the binary searches in
    series that trade every day."""
    lengths = market.lengths[rows]
    lo = np.zeros(rows.size, dtype=np.int64)
    hi = lengths - m
    if date_from is None and date_to is None:
        return lo, hi
    if market.dates is None:
        raise ValueError("this market has no dates, so it cannot be filtered by date")
    first = NO_DAY if date_from is None else int(as_day(date_from, "date_from").astype(np.int64))
    last = NO_DAY if date_to is None else int(as_day(date_to, "date_to").astype(np.int64))
    days = np.asarray(market.dates).view(np.int64)
    offsets = np.asarray(market.offsets)
    if calendar is None:
        _date_ranges(days, offsets, rows, first, last, m, lo, hi)
        return lo, hi
    # the first close on or after `first`, and the first after `last`
    values = np.array([first, last if last == NO_DAY else last + 1], dtype=np.int64)
    positions = np.searchsorted(calendar.calendar, values).astype(np.int64)
    found = np.empty((rows.size, 2), dtype=np.int64)
    first_indices(
        days, offsets, rows, calendar.first_pos, calendar.gapless, positions, values, found
    )
    if first != NO_DAY:
        lo[:] = found[:, 0]
    if last != NO_DAY:
        np.minimum(hi, found[:, 1] - m, out=hi)
    return lo, hi


@njit(nogil=True, cache=True)
def _date_ranges(days, offsets, rows, first, last, m, lo, hi):
    """Per row, ``lo``: the first close on or after day ``first``; ``hi`` at most the start of
    the window whose last close is the last on or before day ``last`` (``NO_DAY``: no cut)."""
    for t in range(rows.shape[0]):
        base = offsets[rows[t]]
        stop = offsets[rows[t] + 1]
        if first != NO_DAY:
            lo[t] = first_at_least(days, base, stop, first) - base
        if last != NO_DAY:
            # The window's last close must be on or before date_to.
            hi[t] = min(hi[t], first_at_least(days, base, stop, last + 1) - base - m)


def windows_allowed(
    market: Market, m: int, mode: str, *, series, date_from, date_to, only_period=None
):
    """The series searched and, per series, the first and last window start allowed."""
    rows = selected_series(market, series)
    lo, hi = window_ranges(market, rows, m, date_from, date_to)
    if mode == "latest":
        # Only the window ending at the series' last close, if the filters allow it.
        last = market.lengths[rows] - m
        allowed = (lo <= last) & (last <= hi)
        lo, hi = np.where(allowed, last, 1), np.where(allowed, last, 0)
    keep = lo <= hi
    rows, lo, hi = rows[keep], lo[keep], hi[keep]
    if only_period is not None:
        rows, lo, hi = period_windows(market, rows, lo, hi, m, only_period)
    return rows, lo, hi


def period_windows(market: Market, rows, lo, hi, m: int, period):
    """Narrow ``lo..hi`` to the windows with a close on a day of ``period = (first, last)``:
    exactly those that ``exclude_period`` leaves out (a series that did not trade then has none).
    Returns the series that keep some, with their narrowed ranges."""
    if len(period) != 2:
        raise ValueError("only_period must be a pair of dates (first, last)")
    if market.dates is None:
        raise ValueError("this market has no dates, so it cannot be searched by period")
    days = (as_day(period[0], "only_period"), as_day(period[1], "only_period"))
    in_lo, in_hi = period_starts(market, rows, m, days)
    lo, hi = np.maximum(lo, in_lo), np.minimum(hi, in_hi)
    keep = lo <= hi
    return rows[keep], lo[keep], hi[keep]


def exclusions(market, rows, m, exclude, period=None):
    """Forbidden window starts per selected series, as CSR arrays of inclusive ranges."""
    ex_ptr = np.zeros(rows.size + 1, dtype=np.int64)
    if not exclude and period is None:
        return ex_ptr, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    position = {int(s): t for t, s in enumerate(rows)}
    ranges: dict[int, list[tuple[int, int]]] = {}
    if period is not None:
        period_lo, period_hi = period_starts(market, rows, m, period)
        for t in np.flatnonzero(period_lo <= period_hi):
            ranges[int(t)] = [(int(period_lo[t]), int(period_hi[t]))]
    for item in exclude or ():
        try:
            sid, start, stop = item
        except (TypeError, ValueError) as exc:
            raise ValueError("exclude entries must be (series_id, start, stop)") from exc
        t = position.get(market.index_of(str(sid)))
        if t is None or int(stop) <= int(start):
            continue
        # Window [i, i + m) overlaps [start, stop) when start - m < i < stop.
        ranges.setdefault(t, []).append((int(start) - m + 1, int(stop) - 1))
    counts = np.zeros(rows.size, dtype=np.int64)
    for t, spans in ranges.items():
        counts[t] = len(spans)
    np.cumsum(counts, out=ex_ptr[1:])
    ex_lo = np.zeros(int(ex_ptr[-1]), dtype=np.int64)
    ex_hi = np.zeros(int(ex_ptr[-1]), dtype=np.int64)
    for t, spans in ranges.items():
        for j, (a, b) in enumerate(spans):
            ex_lo[ex_ptr[t] + j] = a
            ex_hi[ex_ptr[t] + j] = b
    return ex_ptr, ex_lo, ex_hi


def period_starts(
    market: Market, rows: np.ndarray, m: int, period, calendar: CalendarIndex | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per series of ``rows``, the window starts ``[ex_lo, ex_hi]`` (inclusive; empty when
    ``ex_lo > ex_hi``) whose ``m`` closes include a day of ``period = (first, last)``; the
    market's ``calendar`` (a ``BaselineIndex``), when given, spares the binary searches in
    series that trade every day."""
    ex_lo = np.ones(rows.size, dtype=np.int64)
    ex_hi = np.zeros(rows.size, dtype=np.int64)
    if period is None:
        return ex_lo, ex_hi

    if market.dates is None:
        raise ValueError("this market has no dates, so a period cannot be excluded")
    first = int(as_day(period[0], "exclude_period").astype(np.int64))
    last = int(as_day(period[1], "exclude_period").astype(np.int64))
    days = np.asarray(market.dates).view(np.int64)
    offsets = np.asarray(market.offsets)
    if calendar is None:
        _period_ranges(days, offsets, rows, first, last, m, ex_lo, ex_hi)
        return ex_lo, ex_hi
    # the first close on or after `first`, and the first after `last`
    values = np.array([first, last + 1], dtype=np.int64)
    positions = np.searchsorted(calendar.calendar, values).astype(np.int64)
    found = np.empty((rows.size, 2), dtype=np.int64)
    first_indices(
        days, offsets, rows, calendar.first_pos, calendar.gapless, positions, values, found
    )
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
def first_at_least(values, start, stop, value):
    """The first index in ``start..stop`` whose value is at least ``value`` (``stop`` if none)."""
    while start < stop:
        middle = (start + stop) // 2
        if values[middle] < value:
            start = middle + 1
        else:
            stop = middle
    return start


@njit(nogil=True, cache=True)
def first_indices(days, offsets, rows, first_pos, gapless, positions, values, out):
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
                out[r, c] = first_at_least(days, base, stop, values[c]) - base
