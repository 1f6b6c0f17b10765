"""Exact top-k search of a pattern over every window of a Market.

History mode runs in two stages. A screen computes, for every window, the sliding dot product of
the z-normalised pattern with the series in float32, from the cached spectra (one batched inverse
FFT per block of series) or, for patterns of up to 40 closes, directly; it turns each into an
upper and a lower bound of the window's correlation and keeps each series' best bounds. Then the
series whose upper bound can still reach the k-th best correlation found so far are evaluated
exactly, best first, in float64; windows that may reach the threshold are z-normalised
explicitly, so distances are those of the definition.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ducc0
import numpy as np
import scipy.fft

from . import kernels
from .market import Market

MIN_LENGTH = 5
MAX_LENGTH = 500
MODES = ("history", "latest")
STRETCH_FACTORS = (0.8, 0.9, 1.1, 1.25)

# Series per screen task. Larger batches make the batched inverse FFT and the kernels' calls
# cheaper per series; 64 measured best of 8 to 256 (about 15% faster than 32).
_BLOCK = 64
# Bound on the float32 rounding error of a dot product screened through the FFT, in units of
# eps32 * (the series' largest deviation from its mean) * m. The largest error measured on the
# 401 real series of jp_daily and on random walks (m from 5 to 500; patterns cut, noised and
# random) was 1.07 units; 16 keeps a margin of 15.
_ERR_COEF = 16.0
# Up to this pattern length the screen computes dot products directly, which beats the FFT.
_DIRECT_MAX_LENGTH = 40
_THREADS = max(1, min(2, os.cpu_count() or 1))
_NO_PATTERN = np.zeros(0, dtype=np.float32)
# Latest mode splits its work over the threads from this many closes read (series x length).
_LATEST_SPLIT = 200_000
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


class PatternError(ValueError):
    """The pattern cannot be searched; the message says why."""


@dataclass(frozen=True, slots=True)
class Match:
    series: int
    series_id: str
    start: int
    stop: int
    distance: float
    correlation: float

    @property
    def length(self) -> int:
        return self.stop - self.start


def normalize_pattern(pattern) -> np.ndarray:
    """Validate a pattern and return it z-normalised (population standard deviation)."""
    try:
        q = np.asarray(pattern, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PatternError("the pattern must be a list of numbers") from exc
    if q.ndim != 1:
        raise PatternError("the pattern must be a one-dimensional list of prices")
    return normalize_patterns(q[None, :])[0]


def normalize_patterns(patterns: np.ndarray) -> np.ndarray:
    """Validate patterns of one length (one per row) and return them z-normalised, row by row.

    Raises PatternError, naming the first bad row when there are several.
    """
    q = np.asarray(patterns, dtype=np.float64)
    count, m = q.shape
    where = "" if count == 1 else " (pattern {row})"
    if m < MIN_LENGTH:
        raise PatternError(f"the pattern has {m} prices; at least {MIN_LENGTH} are needed")
    if m > MAX_LENGTH:
        raise PatternError(f"the pattern has {m} prices; at most {MAX_LENGTH} are allowed")
    finite = np.isfinite(q).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise PatternError("the pattern contains NaN or infinite values" + where.format(row=row))
    # z-normalisation ignores scale: bring the values near 1 first, so that prices of 1e200 do
    # not overflow when squared and prices of 1e-300 do not vanish.
    peak = np.abs(q).max(axis=1, keepdims=True)
    q = q / np.where(peak > 0, peak, 1.0)
    q = q - q.mean(axis=1, keepdims=True)
    sd = np.sqrt(np.mean(q * q, axis=1, keepdims=True))
    # A pattern whose spread is lost in rounding is as flat as one whose values are all equal.
    flat = sd[:, 0] <= 1e-12
    if flat.any():
        row = int(np.argmax(flat))
        raise PatternError("the pattern is flat: all its values are equal" + where.format(row=row))
    return q / sd


def search(
    market: Market,
    pattern,
    k: int = 10,
    mode: str = "history",
    exclude: Iterable[tuple[str, int, int]] | None = None,
    *,
    series=None,
    date_from=None,
    date_to=None,
    stretch: bool = False,
) -> list[Match]:
    """The ``k`` windows of ``market`` closest to ``pattern``, sorted by distance.

    ``mode``: ``"history"`` (every window) or ``"latest"`` (each series' last window).
    ``exclude``: ``(series_id, start, stop)`` index ranges; windows overlapping one are skipped.
    ``series``: indices or a boolean mask of the series to search (default: all).
    ``date_from`` / ``date_to``: only windows lying entirely inside (needs a market with dates).
    ``stretch``: also search the pattern resampled to 0.8, 0.9, 1.1 and 1.25 times its length and
    merge by correlation (see :func:`search_stretched`).
    """
    if stretch:
        return search_stretched(
            market,
            pattern,
            k=k,
            mode=mode,
            exclude=exclude,
            series=series,
            date_from=date_from,
            date_to=date_to,
        )
    qn = normalize_pattern(pattern)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    k = int(k)
    if k < 1:
        raise ValueError("k must be at least 1")
    m = qn.shape[0]
    rows = _selected_series(market, series)
    lo, hi = _window_ranges(market, rows, m, date_from, date_to)
    if mode == "latest":
        # Only the window ending at the series' last close, if the filters allow it.
        last = market.lengths[rows] - m
        allowed = (lo <= last) & (last <= hi)
        lo, hi = np.where(allowed, last, 1), np.where(allowed, last, 0)
    keep = lo <= hi
    rows, lo, hi = rows[keep], lo[keep], hi[keep]
    ex_ptr, ex_lo, ex_hi = _exclusions(market, rows, m, exclude)
    if rows.size == 0:
        return []
    if mode == "latest":
        found = _latest(market, rows, lo, ex_ptr, ex_lo, ex_hi, qn, k)
    else:
        found = _history(market, rows, lo, hi, ex_ptr, ex_lo, ex_hi, qn, k)
    return [_match(market, s, i, m, d2) for d2, s, i in found]


def search_stretched(
    market: Market,
    pattern,
    k: int = 10,
    mode: str = "history",
    exclude=None,
    factors: Iterable[float] = STRETCH_FACTORS,
    **filters,
) -> list[Match]:
    """Search the pattern as given and resampled to ``factors`` times its length.

    Each resampled pattern (linear interpolation, length rounded, kept within 5..500) is searched
    exactly; the results are merged by correlation (highest first, ties by series then start),
    and a match is dropped when it overlaps a better one of the same series by more than half the
    shorter of the two. Each match keeps its own length (``stop - start``).
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


def _selected_series(market: Market, series) -> np.ndarray:
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


def _as_day(value, name: str) -> np.datetime64:
    if isinstance(value, dt.datetime):
        value = value.date()
    try:
        day = np.datetime64(value, "D")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date") from exc
    if np.isnat(day):
        raise ValueError(f"{name} must be a date")
    return day


def _window_ranges(market, rows, m, date_from, date_to):
    """Per selected series, the first and last allowed window start (lo > hi: none)."""
    lengths = market.lengths[rows]
    lo = np.zeros(rows.size, dtype=np.int64)
    hi = lengths - m
    if date_from is None and date_to is None:
        return lo, hi
    if market.dates is None:
        raise ValueError("this market has no dates, so it cannot be filtered by date")
    first = _as_day(date_from, "date_from") if date_from is not None else None
    last = _as_day(date_to, "date_to") if date_to is not None else None
    for t, s in enumerate(rows):
        d = market.series_dates(int(s))
        if first is not None:
            lo[t] = np.searchsorted(d, first, side="left")
        if last is not None:
            # The window's last close must be on or before date_to.
            hi[t] = min(hi[t], np.searchsorted(d, last, side="right") - m)
    return lo, hi


def _exclusions(market, rows, m, exclude):
    """Forbidden window starts per selected series, as CSR arrays of inclusive ranges."""
    ex_ptr = np.zeros(rows.size + 1, dtype=np.int64)
    if not exclude:
        return ex_ptr, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    position = {int(s): t for t, s in enumerate(rows)}
    ranges: dict[int, list[tuple[int, int]]] = {}
    for item in exclude:
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


def _latest(market, rows, starts, ex_ptr, ex_lo, ex_hi, qn, k):
    m = qn.shape[0]
    d2 = np.empty(rows.size)
    if _THREADS > 1 and rows.size * m >= _LATEST_SPLIT:
        # Long patterns over many series: both threads take half of the series.
        half = rows.size // 2
        parts = ((rows[:half], starts[:half], d2[:half]), (rows[half:], starts[half:], d2[half:]))
        list(
            _get_pool().map(
                lambda part: kernels.latest_distances(
                    market.closes, market.offsets, part[0], part[1], qn, m, part[2]
                ),
                parts,
            )
        )
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


def _get_pool() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    # A forked child (a pre-forking web server) inherits the pool object but not its threads.
    if _pool is None or _pool_pid != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="similarity")
        _pool_pid = os.getpid()
    return _pool


def _row_stride(length: int) -> int:
    """Floats between rows of the screen's dot products: ``length`` rounded up to 64 bytes, plus
    64, so that rows never lie a power of two apart (batched FFTs whose rows do, as at lengths
    4096 or 5120, run 2.5x slower on cache-set conflicts)."""
    return -(-length // 16) * 16 + 16


def _screen(market, rows, lo, hi, has_exclusion, qn):
    """Bounds of each selected series' best correlation with the z-normalised pattern ``qn``.

    ``upper[t]`` is at least the correlation of every window ``lo[t]..hi[t]`` of series
    ``rows[t]`` (+inf when the series must be evaluated exactly); ``lower[t]`` is at most the best
    correlation among them (-inf when unknown, as for series with exclusions).
    """
    m = qn.shape[0]
    fft_len = market.fft_len[rows]
    upper = np.empty(rows.size)
    lower = np.empty(rows.size)
    spec_offsets = market.spec_offsets[rows]
    qspecs: dict[int, np.ndarray] = {}
    tasks = []
    direct = m <= _DIRECT_MAX_LENGTH
    if direct:
        q32 = qn.astype(np.float32)
        # Strict bound of the direct float32 dot products: float32 rounding of the pattern and of
        # the closes, and the m-term accumulation, each at most eps32/2 * sum|q| * max|x| a term.
        direct_coef = kernels.EPS32 * (m + 2) * float(np.abs(q32.astype(np.float64)).sum())
        for b in range(0, rows.size, _BLOCK):
            tasks.append((0, np.arange(b, min(b + _BLOCK, rows.size))))
    else:
        q32 = _NO_PATTERN  # the FFT gives the dot products
        direct_coef = 0.0
        for length in np.unique(fft_len):
            length = int(length)
            qspecs[length] = np.conj(scipy.fft.rfft(qn, n=length)).astype(np.complex64)
            positions = np.flatnonzero(fft_len == length)
            positions = positions[np.argsort(spec_offsets[positions], kind="stable")]
            for b in range(0, positions.size, _BLOCK):
                tasks.append((length, positions[b : b + _BLOCK]))
    max_len = int(market.lengths[rows].max())
    max_bins = int(fft_len.max()) // 2 + 1

    width = int((hi - lo).max()) + 1

    local = threading.local()

    def run(task):
        length, pos = task
        if getattr(local, "p1", None) is None:
            # Four rows: the screen scans four series side by side.
            local.p1 = np.empty((4, max_len + 1))
            local.p2 = np.empty((4, max_len + 1))
            local.ubuf = np.empty((_BLOCK, width), dtype=np.float32)
            local.flags = np.empty(_BLOCK, dtype=np.int64)
            local.product = np.empty(_BLOCK * max_bins, dtype=np.complex64)
            local.prof = np.empty(_BLOCK * _row_stride(max(max_len, 2 * max_bins)), np.float32)
        p1, p2, flags = local.p1, local.p2, local.flags
        block_rows = rows[pos]
        count = pos.size
        bounds = local.ubuf[:count]
        common = (market.scale, market.max_dev, lo, hi)
        stride = _row_stride(length or max_len)
        prof = local.prof[: count * stride]
        if length != 0:
            qs = qspecs[length]
            nf = qs.shape[0]
            first = int(spec_offsets[pos[0]])
            if int(spec_offsets[pos[-1]]) - first == (count - 1) * nf:
                spec = market.spectra[first : first + count * nf].reshape(count, nf)
            else:
                starts = spec_offsets[pos]
                spec = market.spectra[(starts[:, None] + np.arange(nf)).ravel()]
                spec = spec.reshape(count, nf)
            product = np.multiply(spec, qs, out=local.product[: count * nf].reshape(count, nf))
            # ducc0 (pocketfft's successor) does this inverse transform about 1.5x faster.
            ducc0.fft.c2r(
                product,
                axes=(1,),
                lastsize=length,
                forward=False,
                inorm=2,
                out=prof.reshape(count, stride)[:, :length],
            )
        kernels.screen_rows(
            prof,
            stride,
            block_rows,
            pos,
            market.closes32,
            market.offsets,
            *common,
            m,
            _ERR_COEF,
            q32,
            direct_coef,
            p1,
            p2,
            bounds,
            flags,
        )
        best = np.argmax(bounds, axis=1)
        kernels.screen_finish(
            prof,
            stride,
            block_rows,
            pos,
            market.closes,
            market.closes32,
            market.offsets,
            *common,
            has_exclusion,
            m,
            _ERR_COEF,
            direct_coef,
            p1[0],
            p2[0],
            bounds,
            best,
            flags,
            upper,
            lower,
        )

    if _THREADS > 1 and len(tasks) > 1:
        # Largest blocks first, handed out one at a time, keep both threads busy to the end.
        tasks.sort(key=lambda task: -max(task[0], 1) * task[1].size)
        list(_get_pool().map(run, tasks))
    else:
        for task in tasks:
            run(task)
    return upper, lower


def _history(market, rows, lo, hi, ex_ptr, ex_lo, ex_hi, qn, k):
    m = qn.shape[0]
    upper, lower = _screen(market, rows, lo, hi, ex_ptr[1:] > ex_ptr[:-1], qn)
    max_len = int(market.lengths[rows].max())
    threshold = -np.inf
    if rows.size >= k:
        threshold = float(np.partition(lower, rows.size - k)[rows.size - k])
    order = np.argsort(-upper, kind="stable")
    p1 = np.empty(max_len + 1)
    p2 = np.empty(max_len + 1)
    qspec64: dict[int, np.ndarray] = {}
    found: list[tuple[float, int, int]] = []
    for t in order:
        if upper[t] < threshold:
            break
        s = int(rows[t])
        length = int(market.fft_len[s])
        if length not in qspec64:
            qspec64[length] = np.conj(scipy.fft.rfft(qn, n=length))
        closes = market.series_closes(s)
        center = float(market.center[s])
        prof = scipy.fft.irfft(
            scipy.fft.rfft(closes - center, n=length) * qspec64[length], n=length
        )
        d2, starts = kernels.exact_series(
            prof,
            market.closes,
            int(market.offsets[s]),
            closes.shape[0],
            center,
            float(market.scale[s]),
            int(lo[t]),
            int(hi[t]),
            ex_lo[ex_ptr[t] : ex_ptr[t + 1]],
            ex_hi[ex_ptr[t] : ex_ptr[t + 1]],
            m,
            qn,
            threshold,
            k,
            p1,
            p2,
        )
        if d2.size == 0:
            continue
        found.extend(zip(d2.tolist(), [s] * d2.size, starts.tolist(), strict=True))
        if len(found) >= k:
            found.sort()
            del found[k:]
            threshold = max(threshold, 1.0 - found[-1][0] / (2.0 * m))
    found.sort()
    return found[:k]
