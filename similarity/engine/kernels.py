"""Numba kernels of the search: they release the GIL, so two threads run them side by side.

Numerical conventions shared by the kernels:

* window sums come from prefix sums of the series centred on its mean, in float64;
* ``var_err`` is a generous bound on the absolute error of a window variance computed that way;
  a window whose variance is within twice that bound of zero is "suspicious": it is either
  exactly flat (all closes equal, skipped) or evaluated exactly, never trusted from the sums;
* exact values are computed the way the definition reads: mean, population standard deviation
  and the Euclidean distance of the explicitly z-normalised window (two passes).

Names keep one meaning throughout (arrays are NumPy arrays, indices int64):

* ``closes`` (float64) and ``closes32`` (float32, centred on each series' mean): every series'
  closes end to end; series ``s`` is ``closes[offsets[s]:offsets[s + 1]]``, ``base`` its first
  index and ``n`` its length;
* ``rows``: the series indices of a block; ``b`` a row of the block; ``pos[b]`` (``position``)
  the row's place in the caller's per-series arrays ``lo``, ``hi``, ``out_upper``...;
* ``m``: the pattern length; ``qn``: the z-normalised pattern (float64), ``q32`` in float32;
* ``i``: a window's start within its series; ``lo``/``hi``: the first and last start allowed;
* ``p1``, ``p2``: prefix sums of the closes and of their squares (float64), ``p1[j]`` the sum
  of the first ``j``; ``s1`` a window's sum, ``var`` its population variance;
* ``prof``: sliding dot products of the pattern with a series (one per start);
* ``var_err``, ``dot_err``, ``dev_rel``: error bounds (see ``_errors``); ``k``: matches asked for.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)


@njit(nogil=True, cache=True, error_model="numpy")
def _prefix_sums(closes, base, n, center, p1, p2):
    a1 = 0.0
    a2 = 0.0
    p1[0] = 0.0
    p2[0] = 0.0
    for j in range(n):
        v = closes[base + j] - center
        a1 += v
        a2 += v * v
        p1[j + 1] = a1
        p2[j + 1] = a2


@njit(nogil=True, cache=True, error_model="numpy")
def _is_flat(closes, start, m):
    first = closes[start]
    for j in range(start + 1, start + m):  # noqa: SIM110 (a plain loop compiles to a tight loop)
        if closes[j] != first:
            return False
    return True


@njit(nogil=True, cache=True, error_model="numpy")
def _forbidden(i, ex_lo, ex_hi, e0, e1):
    for e in range(e0, e1):  # noqa: SIM110 (a plain loop compiles to a tight loop)
        if ex_lo[e] <= i <= ex_hi[e]:
            return True
    return False


@njit(nogil=True, cache=True, error_model="numpy")
def window_distance2(closes, start, m, qn):
    """Squared distance between the z-normalised pattern ``qn`` and the window; -1 when flat."""
    mean = 0.0
    low = closes[start]
    high = low
    for j in range(m):
        v = closes[start + j]
        mean += v
        low = min(low, v)
        high = max(high, v)
    if low == high:
        return -1.0
    mean /= m
    var = 0.0
    for j in range(m):
        dv = closes[start + j] - mean
        var += dv * dv
    sd = math.sqrt(var / m)
    if sd == 0.0:
        return -1.0
    d2 = 0.0
    for j in range(m):
        dv = qn[j] - (closes[start + j] - mean) / sd
        d2 += dv * dv
    return d2


# Loops below vectorise only when LLVM may reorder float reductions; the data hold no NaN, and
# infinities are kept out of the fast loops (a finite sentinel stands for "no window").
FAST = {"nsz", "arcp", "contract", "reassoc", "nnan"}
NONE32 = np.float32(-3e38)


@njit(nogil=True, cache=True, error_model="numpy")
def _prefix_sums_fast(values, base, n, p1, p2):
    """Prefix sums of ``values[base:base+n]`` (float32) and of their squares, in float64."""
    p1[0] = 0.0
    p2[0] = 0.0
    _scan_tail(values, base, n, 0, p1, p2)


@njit(nogil=True, cache=True, error_model="numpy")
def _scan_tail(values, base, n, start, p1, p2):
    """Continue the prefix sums of ``values[base:base+n]`` from position ``start``."""
    a1 = p1[start]
    a2 = p2[start]
    for j in range(start, n):
        v = np.float64(values[base + j])
        a1 += v
        a2 += v * v
        p1[j + 1] = a1
        p2[j + 1] = a2


@njit(nogil=True, cache=True, error_model="numpy")
def _prefix_sums4(values, offsets, rows, g, p1, p2):
    """``_prefix_sums_fast`` of the series ``rows[g:g + 4]`` into ``p1[r]``, ``p2[r]``.

    One scan is bound by the latency of its additions; four series side by side run four
    independent chains (about 1.4x faster). Past the end of ``rows`` the last series repeats.
    """
    last = rows.shape[0] - 1
    s0 = rows[g]
    s1 = rows[min(g + 1, last)]
    s2 = rows[min(g + 2, last)]
    s3 = rows[min(g + 3, last)]
    b0 = offsets[s0]
    b1 = offsets[s1]
    b2 = offsets[s2]
    b3 = offsets[s3]
    n0 = offsets[s0 + 1] - b0
    n1 = offsets[s1 + 1] - b1
    n2 = offsets[s2 + 1] - b2
    n3 = offsets[s3 + 1] - b3
    a0 = a1 = a2 = a3 = 0.0
    c0 = c1 = c2 = c3 = 0.0
    for r in range(4):
        p1[r, 0] = 0.0
        p2[r, 0] = 0.0
    for j in range(min(n0, n1, n2, n3)):
        v0 = np.float64(values[b0 + j])
        v1 = np.float64(values[b1 + j])
        v2 = np.float64(values[b2 + j])
        v3 = np.float64(values[b3 + j])
        a0 += v0
        a1 += v1
        a2 += v2
        a3 += v3
        c0 += v0 * v0
        c1 += v1 * v1
        c2 += v2 * v2
        c3 += v3 * v3
        p1[0, j + 1] = a0
        p1[1, j + 1] = a1
        p1[2, j + 1] = a2
        p1[3, j + 1] = a3
        p2[0, j + 1] = c0
        p2[1, j + 1] = c1
        p2[2, j + 1] = c2
        p2[3, j + 1] = c3
    common = min(n0, n1, n2, n3)
    _scan_tail(values, b0, n0, common, p1[0], p2[0])
    _scan_tail(values, b1, n1, common, p1[1], p2[1])
    _scan_tail(values, b2, n2, common, p1[2], p2[2])
    _scan_tail(values, b3, n3, common, p1[3], p2[3])


# Relative error allowed for the float32 arithmetic of a correlation bound: the rounding of the
# variance to float32, an approximate reciprocal square root and three products stay below 1e-6.
_REL32 = np.float32(1e-6)


@njit(nogil=True, cache=True, fastmath=FAST | {"afn"}, error_model="numpy")
def _upper_row(prof, p1, p2, lo, count, m, sc, dot_err, var_err, dev_rel, out):
    """Upper bound of each window's correlation into ``out`` (float32); returns how many windows
    are suspicious (their slot holds NONE32).

    The variance comes from the float64 prefix sums; the rest runs in float32 in units of the
    series' scale ``sc`` (so nothing underflows or overflows, whatever the prices), which lets the
    loop run 16 windows at a time. Its rounding is covered by ``_REL32``. Written without
    branches or max reductions, so that LLVM vectorises it.
    """
    inv_sc = 1.0 / sc if sc > 0.0 else 1.0
    inv_sc2 = inv_sc * inv_sc
    invm = 1.0 / m
    thr = 2.0 * var_err
    mm = np.uint64(m)
    cscale = np.float32(invm * inv_sc)
    dot32 = np.float32(dot_err * invm * inv_sc)
    var32 = np.float32(var_err * inv_sc2)
    dev32 = np.float32(dev_rel * inv_sc)
    suspicious = 0
    for t in range(count):
        i = np.uint64(lo + t)
        s1 = p1[i + mm] - p1[i]
        var = (p2[i + mm] - p2[i]) * invm - (s1 * invm) * (s1 * invm)
        ok = var > thr
        v64 = (var if ok else thr) * inv_sc2
        v = np.float32(v64 if v64 > 1e-30 else 1e-30)
        inv_sd = np.float32(1.0) / np.sqrt(v)
        c = prof[i] * inv_sd * cscale
        # The dot product's error over m*sd, plus the relative error of sd (prefix sums and
        # float32 closes) and of this float32 arithmetic.
        slack = dot32 * inv_sd + abs(c) * (var32 * inv_sd * inv_sd + dev32 * inv_sd + _REL32)
        out[t] = (c + slack) if ok else NONE32
        suspicious += 0 if ok else 1
    return suspicious


@njit(nogil=True, cache=True, error_model="numpy")
def _lower_bound(prof_i, closes32, start, m, dot_err, var_err, dev_rel):
    s1 = 0.0
    s2 = 0.0
    for j in range(start, start + m):
        value = np.float64(closes32[j])
        s1 += value
        s2 += value * value
    var = max(s2 / m - (s1 / m) * (s1 / m), 2.0 * var_err)
    inv_sd = 1.0 / math.sqrt(var)
    c = np.float64(prof_i) * inv_sd / m
    return c - (dot_err * inv_sd / m + abs(c) * (var_err / var + dev_rel * inv_sd))


@njit(nogil=True, cache=True, error_model="numpy")
def _errors(n, sc, max_dev, m, err_coef):
    # Bound on the error of a window variance from float64 prefix sums over the series.
    var_err = 8.0 * EPS64 * math.sqrt(n) * n * sc * sc / m + 1e-300
    # Rounding error of the float32 dot products; it scales with the series' largest deviation
    # and the pattern length (calibrated on random walks and real closes, see screen.ERR_COEF).
    dot_err = err_coef * EPS32 * max_dev * m
    # Rounding the centred closes to float32 moves a window's sd by at most eps32 * max_dev.
    dev_rel = EPS32 * max_dev
    return var_err, dot_err, dev_rel


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _sliding_dot(values, base, count, q, out):
    """``out[i] = sum_j q[j] * values[base + i + j]`` for i < count, in float32 (vectorised)."""
    for i in range(count):
        out[i] = np.float32(0.0)
    for j in range(q.shape[0]):
        qj = q[j]
        off = np.uint64(base + j)
        for ii in range(count):
            i = np.uint64(ii)
            out[i] += qj * values[off + i]


@njit(nogil=True, cache=True, error_model="numpy")
def screen_rows(
    prof,
    stride,
    rows,
    pos,
    closes32,
    offsets,
    scale,
    max_dev,
    lo,
    hi,
    m,
    err_coef,
    q32,
    direct_coef,
    p1,
    p2,
    ubuf,
    flags,
):
    """First half of the screen: every window's correlation upper bound, into ``ubuf``.

    Row ``b`` of the sliding dot products is ``prof[b * stride:]``: given (from the FFT, with the
    calibrated error bound ``err_coef``) when ``q32`` is empty, else computed here directly in
    float32 from the pattern ``q32`` (cheaper than the FFT below about 40 closes) with the strict
    bound ``direct_coef * max_dev`` (see ``screen.screen``). ``p1`` and ``p2`` hold four rows
    (see ``_prefix_sums4``).
    """
    direct = q32.shape[0] > 0
    width = ubuf.shape[1]
    for g in range(0, rows.shape[0], 4):
        _prefix_sums4(closes32, offsets, rows, g, p1, p2)
        for b in range(g, min(g + 4, rows.shape[0])):
            s = rows[b]
            position = pos[b]
            base = offsets[s]
            n = offsets[s + 1] - base
            var_err, dot_err, dev_rel = _errors(n, scale[s], max_dev[s], m, err_coef)
            row = prof[b * stride : (b + 1) * stride]
            if direct:
                dot_err = direct_coef * max_dev[s]
                _sliding_dot(closes32, base, n - m + 1, q32, row)
            count = hi[position] - lo[position] + 1
            flags[b] = _upper_row(
                row,
                p1[b - g],
                p2[b - g],
                lo[position],
                count,
                m,
                scale[s],
                dot_err,
                var_err,
                dev_rel,
                ubuf[b],
            )
            for t in range(count, width):
                ubuf[b, t] = NONE32


@njit(nogil=True, cache=True, error_model="numpy")
def _unsure_window(closes, closes32, base, n, lo, hi, m, var_err, p1, p2):
    """Whether a start in lo..hi has a variance too close to zero to trust its bound, and yet
    is not exactly flat (such a series must be evaluated exactly)."""
    _prefix_sums_fast(closes32, base, n, p1, p2)
    for i in range(lo, hi + 1):
        s1 = p1[i + m] - p1[i]
        var = (p2[i + m] - p2[i]) / m - (s1 / m) * (s1 / m)
        if var <= 2.0 * var_err and not _is_flat(closes, base + i, m):
            return True
    return False


@njit(nogil=True, cache=True, error_model="numpy")
def _row_errors(n, scale, max_dev, m, err_coef, direct_coef):
    """``_errors`` of one series, with the dot-product error of direct products
    (``direct_coef * max_dev``) when ``direct_coef > 0``."""
    var_err, dot_err, dev_rel = _errors(n, scale, max_dev, m, err_coef)
    if direct_coef > 0.0:
        dot_err = direct_coef * max_dev
    return var_err, dot_err, dev_rel


@njit(nogil=True, cache=True, error_model="numpy")
def screen_finish(
    prof,
    stride,
    rows,
    pos,
    closes,
    closes32,
    offsets,
    scale,
    max_dev,
    lo,
    hi,
    ex_ptr,
    ex_lo,
    ex_hi,
    m,
    err_coef,
    direct_coef,
    p1,
    p2,
    ubuf,
    best,
    flags,
    out_upper,
    out_lower,
):
    """Second half of the screen, given ``best = argmax(ubuf, axis=1)``.

    ``out_upper[pos[b]]`` is at least the best correlation of any window lo..hi of the series
    (exclusions ignored, which only loosens it); ``out_lower`` is at most the best correlation of
    an allowed window (-inf when unknown: the best-bounded window is excluded; ``ex_ptr``,
    ``ex_lo``, ``ex_hi`` are the forbidden starts per position, as in ``exact_series``). A
    suspicious window that is not flat sets the upper bound to +inf: the series is then
    evaluated exactly. ``direct_coef > 0`` says the dot
    products were computed directly (``screen_rows`` with a pattern), whose error bound is
    ``direct_coef * max_dev``.
    """
    for b in range(rows.shape[0]):
        s = rows[b]
        position = pos[b]
        base = offsets[s]
        n = offsets[s + 1] - base
        var_err, dot_err, dev_rel = _row_errors(n, scale[s], max_dev[s], m, err_coef, direct_coef)
        top = np.float64(ubuf[b, best[b]])
        upper = -np.inf
        lower = -np.inf
        if top > NONE32:
            # float32 storage of the bound rounds it by up to 6e-8 relative.
            upper = top + 1e-6 * max(1.0, abs(top))
            i = lo[position] + best[b]
            if not _forbidden(i, ex_lo, ex_hi, ex_ptr[position], ex_ptr[position + 1]):
                lower = _lower_bound(
                    prof[b * stride + i], closes32, base + i, m, dot_err, var_err, dev_rel
                )
        if flags[b] > 0 and _unsure_window(
            closes, closes32, base, n, lo[position], hi[position], m, var_err, p1, p2
        ):
            upper = np.inf
        out_upper[position] = upper
        out_lower[position] = lower


@njit(nogil=True, cache=True, error_model="numpy")
def exact_series(
    prof, closes, base, n, center, sc, lo, hi, ex_lo, ex_hi, m, qn, threshold, k, p1, p2
):
    """Exact greedy top-k of one series among windows whose correlation can reach ``threshold``.

    ``prof`` are float64 sliding dot products of the z-normalised pattern with the series. Returns
    (squared distances, starts) in greedy order. Windows are compared by their exact squared
    distance, ties by start; after taking start ``i`` no start ``j`` with ``|j - i| <= ceil(m/2)``
    is taken.
    """
    _prefix_sums(closes, base, n, center, p1, p2)
    var_err = 8.0 * EPS64 * math.sqrt(n) * n * sc * sc / m + 1e-300
    dot_err = 64.0 * EPS64 * sc * m
    ne = ex_lo.shape[0]
    cand_d2 = np.empty(hi - lo + 1)
    cand_i = np.empty(hi - lo + 1, dtype=np.int64)
    nc = 0
    for i in range(lo, hi + 1):
        if ne > 0 and _forbidden(i, ex_lo, ex_hi, 0, ne):
            continue
        s1 = p1[i + m] - p1[i]
        var = (p2[i + m] - p2[i]) / m - (s1 / m) * (s1 / m)
        if var > 2.0 * var_err:
            top = prof[i] + dot_err
            sd_lo = math.sqrt(var - var_err)
            sd_hi = math.sqrt(var + var_err)
            bound = top / (m * sd_lo) if top > 0 else top / (m * sd_hi)
            if bound < threshold:
                continue
        d2 = window_distance2(closes, base + i, m, qn)
        if d2 < 0.0:
            continue
        if 1.0 - d2 / (2.0 * m) < threshold:
            continue
        cand_d2[nc] = d2
        cand_i[nc] = i
        nc += 1
    order = np.argsort(cand_d2[:nc], kind="mergesort")
    half = (m + 1) // 2
    out_d2 = np.empty(min(k, nc))
    out_i = np.empty(min(k, nc), dtype=np.int64)
    taken = 0
    for t in range(nc):
        if taken >= k:
            break
        i = cand_i[order[t]]
        clear = True
        for earlier in range(taken):
            if abs(out_i[earlier] - i) <= half:
                clear = False
                break
        if clear:
            out_d2[taken] = cand_d2[order[t]]
            out_i[taken] = i
            taken += 1
    return out_d2[:taken], out_i[:taken]


@njit(nogil=True, cache=True, error_model="numpy")
def latest_distances(closes, offsets, rows, starts, qn, m, out_d2):
    """Exact squared distance of one window per series (``starts[b]`` in series ``rows[b]``)."""
    for b in range(rows.shape[0]):
        out_d2[b] = window_distance2(closes, offsets[rows[b]] + starts[b], m, qn)
