"""Exact top-k over a short span of each series: the search of one period's windows.

A search of only the windows that overlap a period (``search(..., only_period=...)``) looks at
some ``p + m - 1`` starts a series (``p`` closes in the period), where the screen of a
whole-market search transforms every close. Here each series' span (its allowed windows'
closes) is searched as a series of its own: centred on its own mean, its sliding dot products
with the pattern taken by float64 FFTs of the span's length, in batches of series, and then
evaluated by ``kernels.exact_series``, which computes exactly every window whose bound can still
reach the k-th best correlation found so far, with the float64 FFTs' error bound
(``kernels.fft_dot_err``); a whole-market search's exact stage takes direct float32 products.
"""

from __future__ import annotations

import math

import ducc0
import numpy as np
import scipy.fft
from numba import njit

from . import kernels
from .screen import THREADS
from .series import Market

# Series per batch of FFTs: enough to amortise the calls, few enough to keep the arrays small
# (256 spans of 1,500 closes are 3 MB).
BATCH = 256
# Spans holding more than this share of the searched series' closes cost about what the
# whole-series screen costs, which then searches them instead (both are exact). On the benchmark
# market (4,000 series, k=10): m=20 (2% of the closes) 8 ms against the screen's 50, m=120 (8%)
# 28 ms against 45, m=250 (16%) about even.
NARROW_SHARE = 0.12


def is_narrow(market: Market, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, m: int) -> bool:
    """Whether the allowed windows lie in spans short enough for :func:`narrow_history`."""
    return int((hi - lo + m).sum()) <= NARROW_SHARE * int(market.lengths[rows].sum())


def narrow_history(
    market: Market,
    rows: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    exclusions: tuple[np.ndarray, np.ndarray, np.ndarray],
    qn: np.ndarray,
    k: int,
) -> list[tuple[float, int, int]]:
    """The ``k`` best windows ``lo..hi`` of the series ``rows`` as ``(d2, series, start)``.

    Parameters
    ----------
    market : Market
        The market searched.
    rows, lo, hi : numpy.ndarray of int64
        The series searched (ascending) and, per series, the first and last start allowed.
    exclusions : (ex_ptr, ex_lo, ex_hi)
        Forbidden starts per row, as CSR arrays of inclusive ranges (see ``windows.exclusions``).
    qn : numpy.ndarray of float64
        The z-normalised pattern.
    k : int
        Matches wanted.

    Returns
    -------
    list of (float, int, int)
        Squared distance, series and start of each match, sorted (greedy within a series).
    """
    m = qn.shape[0]
    best_d2 = np.full(k, np.inf)
    best_s = np.zeros(k, dtype=np.int64)
    best_i = np.zeros(k, dtype=np.int64)
    count = 0
    p1 = np.empty(int((hi - lo).max(initial=0)) + m + 1)
    p2 = np.empty_like(p1)
    for b in range(0, rows.size, BATCH):
        part = slice(b, min(b + BATCH, rows.size))
        prof, centers, scales = _span_products(market, rows[part], lo[part], hi[part], qn)
        count = _evaluate(
            prof,
            np.asarray(market.closes),
            np.asarray(market.offsets),
            rows[part],
            lo[part],
            hi[part],
            centers,
            scales,
            exclusions[0][b : part.stop + 1] - exclusions[0][b],
            exclusions[1][exclusions[0][b] : exclusions[0][part.stop]],
            exclusions[2][exclusions[0][b] : exclusions[0][part.stop]],
            qn,
            (best_d2, best_s, best_i),
            count,
            p1,
            p2,
        )
    return list(
        zip(best_d2[:count].tolist(), best_s[:count].tolist(), best_i[:count].tolist(), strict=True)
    )


def _span_products(market: Market, rows, lo, hi, qn):
    """Per row, the sliding dot products of ``qn`` with its span (the closes of windows
    ``lo..hi``) centred on the span's mean; and each span's mean and root-mean-square
    deviation from it."""
    lengths = hi - lo + qn.shape[0]
    # The span's length is enough: the products that wrap around are never read.
    size = scipy.fft.next_fast_len(int(lengths.max()), real=True)
    values = np.empty((rows.size, size))
    centers = np.empty(rows.size)
    scales = np.empty(rows.size)
    _spans_centred(
        np.asarray(market.closes), market.offsets, rows, lo, lengths, values, centers, scales
    )
    spectrum = np.conj(scipy.fft.rfft(qn, n=size))
    # ducc0 (pocketfft's successor) transforms these batches about 1.5x faster than scipy.
    product = ducc0.fft.r2c(values, axes=(1,), nthreads=THREADS)
    product *= spectrum
    prof = ducc0.fft.c2r(
        product, axes=(1,), lastsize=size, forward=False, inorm=2, nthreads=THREADS, out=values
    )
    return prof, centers, scales


@njit(nogil=True, cache=True, error_model="numpy")
def _spans_centred(closes, offsets, rows, lo, lengths, out, centers, scales):
    """Row ``t`` of ``out``: the ``lengths[t]`` closes of series ``rows[t]`` from ``lo[t]``
    minus their mean (``centers[t]``), then zeros; ``scales[t]`` their root-mean-square."""
    for t in range(rows.shape[0]):
        base = offsets[rows[t]] + lo[t]
        n = lengths[t]
        total = 0.0
        for j in range(n):
            total += closes[base + j]
        center = total / n
        squares = 0.0
        for j in range(n):
            value = closes[base + j] - center
            out[t, j] = value
            squares += value * value
        out[t, n:] = 0.0
        centers[t] = center
        scales[t] = math.sqrt(squares / n)


@njit(nogil=True, cache=True, error_model="numpy")
def _evaluate(
    prof,
    closes,
    offsets,
    rows,
    lo,
    hi,
    centers,
    scales,
    ex_ptr,
    ex_lo,
    ex_hi,
    qn,
    best,
    count,
    p1,
    p2,
):
    """Search each row's span exactly and merge its matches into ``best`` (squared distances,
    series, starts: the ``count`` best so far, sorted); returns the new count."""
    best_d2, best_s, best_i = best
    k = best_d2.shape[0]
    m = qn.shape[0]
    for t in range(rows.shape[0]):
        threshold = -np.inf if count < k else 1.0 - best_d2[k - 1] / (2.0 * m)
        n = hi[t] - lo[t] + m
        e0, e1 = ex_ptr[t], ex_ptr[t + 1]
        d2, starts = kernels.exact_series(
            prof[t],
            kernels.fft_dot_err(scales[t], m),
            closes,
            offsets[rows[t]] + lo[t],
            n,
            centers[t],
            scales[t],
            0,
            n - m,
            ex_lo[e0:e1] - lo[t],
            ex_hi[e0:e1] - lo[t],
            m,
            qn,
            threshold,
            k,
            p1,
            p2,
        )
        for j in range(d2.shape[0]):
            count = _insert(best_d2, best_s, best_i, count, d2[j], rows[t], lo[t] + starts[j])
    return count


@njit(nogil=True, cache=True, error_model="numpy")
def _insert(best_d2, best_s, best_i, count, d2, s, i):
    """Insert a match into the sorted best list (full: only if better than its last); ties
    go after, which keeps them in series and start order since series come in that order."""
    k = best_d2.shape[0]
    if count == k and d2 >= best_d2[k - 1]:
        return count
    place = min(count, k - 1)
    while place > 0 and best_d2[place - 1] > d2:
        best_d2[place] = best_d2[place - 1]
        best_s[place] = best_s[place - 1]
        best_i[place] = best_i[place - 1]
        place -= 1
    best_d2[place] = d2
    best_s[place] = s
    best_i[place] = i
    return min(count + 1, k)
