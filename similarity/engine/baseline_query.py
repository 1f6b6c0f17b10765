"""The indexed base rate: the histogram of the index's blocks a query covers, corrected
exactly where the allowed window ends differ from them (see :mod:`.baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .baseline_index import BIN_WIDTH, BINS, BLOCK_DAYS, LEAD_STEP, return_bin
from .outcomes import OutcomeStats, summarize
from .windows import NO_DAY, first_at_least, first_indices


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
            hist[return_bin(r)] -= 1
            acc[0] -= r
            acc[1] -= 1.0
            if r > 0.0:
                acc[2] -= 1.0
        k += 1


@njit(nogil=True, cache=True)
def _fill_spans(spans, a, b, p, q, lead, ex_a, ex_b, hole_a, hole_b):
    """The eight spans of ends ``[start, stop)`` of one series and horizon where the allowed
    ends and the core's may differ, into ``spans``, sorted by start (see :func:`_corrections`)."""
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


@njit(nogil=True, cache=True)
def _span_weights(closes, base, n, h, spans, a, b, ex_a, ex_b, p, q, hole_a, hole_b, lead, row):
    """Count each end of the sorted ``spans`` once: +1 into the histogram ``row`` when
    allowed but outside the core, -1 when in the core but not allowed; returns the sum,
    count and positives of those weighted returns."""
    done = 0
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
                row[return_bin(ret)] += w
                total += w * ret
                count += w
                positive += w if ret > 0.0 else 0
        done = max(done, stop)
    return total, count, positive


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
        flat = first_at_least(flat_ends, 0, flat_ends.shape[0], base + a)
        for j in range(horizons.shape[0]):
            h = horizons[j]
            b = min(hi[r] + m - 1, n - 1 - h)
            q = min(marks[r, 1], max(n - h, 0))
            _fill_spans(spans, a, b, p, q, lead, ex_a, ex_b, hole_a, hole_b)
            total, count, positive = _span_weights(
                closes, base, n, h, spans, a, b, ex_a, ex_b, p, q, hole_a, hole_b, lead, hist[j]
            )
            acc[j, 0] += total
            acc[j, 1] += count
            acc[j, 2] += positive
            if a <= b:
                row, sums = hist[j], acc[j]
                _flat_correction(
                    closes, base, flat_ends, flat_runs, flat, a, b, ex_a, ex_b, m, h, row, sums
                )


@dataclass(frozen=True)
class IndexCore:
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


def index_core(index, days, offsets, rows, lo, hi, m, period) -> IndexCore | None:
    """The part of a query the index answers from its cumulative tables (None: no whole
    block), for the allowed starts ``lo..hi`` of ``rows`` and the excluded ``period`` (days)."""
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
    if (lo == 0).all() and _nearest(m - 1, LEAD_STEP) // LEAD_STEP < index.lead_hist.shape[1]:
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
    values = np.array([calendar[v] if v < calendar.size else NO_DAY for v in positions])
    marks = np.empty((rows.size, 4), dtype=np.int64)
    first_indices(
        days,
        offsets,
        rows,
        index.first_pos,
        index.gapless,
        positions,
        values.astype(np.int64),
        marks,
    )
    return IndexCore(b0, b1, k0, k1, lead, marks)


def indexed_stats(index, core, closes, offsets, rows, lo, hi, ex_lo, ex_hi, m, horizons):
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


def _from_histogram(hist: np.ndarray, acc: np.ndarray, h: int) -> OutcomeStats | None:
    count = int(round(acc[1]))
    if count == 0:
        return summarize(np.zeros(0), h)
    quartiles = _hist_quantiles(hist, count)
    if quartiles is None:
        return None
    p10, q25, median, q75, p90 = quartiles
    return OutcomeStats(
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
