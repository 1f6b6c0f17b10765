"""Numba kernels of the search: they release the GIL, so two threads run them side by side.

Numerical conventions shared by the kernels:

* window sums come from prefix sums of the series centred on its mean, in float64;
* ``var_err`` is a generous bound on the absolute error of a window variance computed that way;
  a window whose variance is within twice that bound of zero is "suspicious": it is either
  exactly flat (all closes equal, skipped) or evaluated exactly, never trusted from the sums;
* exact values are computed the way the definition reads: mean, population standard deviation
  and the Euclidean distance of the explicitly z-normalised window (two passes).
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
    """Prefix sums of ``values[base:base+n]`` and of their squares, in float64.

    Four chains over the four quarters of the series instead of one, so the additions do not wait
    on each other; unsigned indices spare the negative-index checks.
    """
    step = n // 4
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    p1[0] = 0.0
    p2[0] = 0.0
    ub = np.uint64(base)
    us = np.uint64(step)
    one = np.uint64(1)
    for jj in range(step):
        j = np.uint64(jj)
        v0 = np.float64(values[ub + j])
        v1 = np.float64(values[ub + us + j])
        v2 = np.float64(values[ub + us + us + j])
        v3 = np.float64(values[ub + us + us + us + j])
        a0 += v0
        a1 += v1
        a2 += v2
        a3 += v3
        b0 += v0 * v0
        b1 += v1 * v1
        b2 += v2 * v2
        b3 += v3 * v3
        o = j + one
        p1[o] = a0
        p1[us + o] = a1
        p1[us + us + o] = a2
        p1[us + us + us + o] = a3
        p2[o] = b0
        p2[us + o] = b1
        p2[us + us + o] = b2
        p2[us + us + us + o] = b3
    o1 = a0
    o2 = b0
    for t in range(step + 1, 2 * step + 1):
        p1[t] += o1
        p2[t] += o2
    o1 += a1
    o2 += b1
    for t in range(2 * step + 1, 3 * step + 1):
        p1[t] += o1
        p2[t] += o2
    o1 += a2
    o2 += b2
    for t in range(3 * step + 1, 4 * step + 1):
        p1[t] += o1
        p2[t] += o2
    o1 += a3
    o2 += b3
    for t in range(4 * step, n):
        v = np.float64(values[base + t])
        o1 += v
        o2 += v * v
        p1[t + 1] = o1
        p2[t + 1] = o2


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _upper_row(prof, p1, p2, lo, count, m, dot_err, var_err, dev_rel, out):
    """Upper bound of each window's correlation into ``out`` (float32); returns how many windows
    are suspicious (their slot holds NONE32). Written without branches or max reductions, so
    that LLVM vectorises it."""
    invm = 1.0 / m
    thr = 2.0 * var_err
    mm = np.uint64(m)
    suspicious = 0
    for t in range(count):
        i = np.uint64(lo + t)
        s1 = p1[i + mm] - p1[i]
        var = (p2[i + mm] - p2[i]) * invm - (s1 * invm) * (s1 * invm)
        ok = var > thr
        v = var if ok else thr
        inv_sd = 1.0 / math.sqrt(v)
        c = np.float64(prof[i]) * inv_sd * invm
        # The dot product's error over m*sd, plus the relative error of sd (prefix sums and
        # float32 closes).
        slack = dot_err * inv_sd * invm + abs(c) * (var_err / v + dev_rel * inv_sd)
        out[t] = np.float32(c + slack) if ok else NONE32
        suspicious += 0 if ok else 1
    return suspicious


@njit(nogil=True, cache=True, error_model="numpy")
def _lower_bound(prof_i, closes32, start, m, dot_err, var_err, dev_rel):
    s1 = 0.0
    s2 = 0.0
    for j in range(start, start + m):
        v = np.float64(closes32[j])
        s1 += v
        s2 += v * v
    var = s2 / m - (s1 / m) * (s1 / m)
    v = max(var, 2.0 * var_err)
    inv_sd = 1.0 / math.sqrt(v)
    c = np.float64(prof_i) * inv_sd / m
    return c - (dot_err * inv_sd / m + abs(c) * (var_err / v + dev_rel * inv_sd))


@njit(nogil=True, cache=True, error_model="numpy")
def _errors(n, sc, max_dev, m, err_coef):
    # Bound on the error of a window variance from float64 prefix sums over the series.
    var_err = 8.0 * EPS64 * math.sqrt(n) * n * sc * sc / m + 1e-300
    # Rounding error of the float32 dot products; it scales with the series' largest deviation
    # and the pattern length (calibrated on random walks and real closes, see finder._ERR_COEF).
    dot_err = err_coef * EPS32 * max_dev * m
    # Rounding the centred closes to float32 moves a window's sd by at most eps32 * max_dev.
    dev_rel = EPS32 * max_dev
    return var_err, dot_err, dev_rel


@njit(nogil=True, cache=True, error_model="numpy")
def screen_rows(
    prof, rows, pos, closes32, offsets, scale, max_dev, lo, hi, m, err_coef, p1, p2, ubuf, flags
):
    """First half of the screen: every window's correlation upper bound, into ``ubuf``."""
    width = ubuf.shape[1]
    for b in range(rows.shape[0]):
        s = rows[b]
        k = pos[b]
        base = offsets[s]
        n = offsets[s + 1] - base
        _prefix_sums_fast(closes32, base, n, p1, p2)
        var_err, dot_err, dev_rel = _errors(n, scale[s], max_dev[s], m, err_coef)
        count = hi[k] - lo[k] + 1
        flags[b] = _upper_row(prof[b], p1, p2, lo[k], count, m, dot_err, var_err, dev_rel, ubuf[b])
        for t in range(count, width):
            ubuf[b, t] = NONE32


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
def screen_rows_direct(
    rows, pos, closes32, offsets, scale, max_dev, lo, hi, m, q32, p1, p2, prof, ubuf, flags
):
    """First half of the screen for short patterns: the sliding dot products computed directly
    in float32 (cheaper than the FFT below about 40 closes), then as ``screen_rows``.

    The dot products' error has a strict bound here: float32 rounding of the pattern and of the
    closes, and the m-term accumulation, each at most eps32/2 * sum|q| * max|x| per term.
    """
    width = ubuf.shape[1]
    qabs = 0.0
    for j in range(m):
        qabs += abs(np.float64(q32[j]))
    for b in range(rows.shape[0]):
        s = rows[b]
        k = pos[b]
        base = offsets[s]
        n = offsets[s + 1] - base
        _prefix_sums_fast(closes32, base, n, p1, p2)
        var_err, _, dev_rel = _errors(n, scale[s], max_dev[s], m, 0.0)
        dot_err = EPS32 * (m + 2) * qabs * max_dev[s]
        _sliding_dot(closes32, base, n - m + 1, q32, prof[b])
        count = hi[k] - lo[k] + 1
        flags[b] = _upper_row(prof[b], p1, p2, lo[k], count, m, dot_err, var_err, dev_rel, ubuf[b])
        for t in range(count, width):
            ubuf[b, t] = NONE32


@njit(nogil=True, cache=True, error_model="numpy")
def screen_finish(
    prof,
    rows,
    pos,
    closes,
    closes32,
    offsets,
    scale,
    max_dev,
    lo,
    hi,
    has_exclusion,
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
    an allowed window (-inf when unknown). A suspicious window that is not flat sets the upper
    bound to +inf: the series is then evaluated exactly. ``direct_coef > 0`` says the dot
    products came from ``screen_rows_direct``, whose error bound is ``direct_coef * max_dev``.
    """
    for b in range(rows.shape[0]):
        s = rows[b]
        k = pos[b]
        base = offsets[s]
        n = offsets[s + 1] - base
        var_err, dot_err, dev_rel = _errors(n, scale[s], max_dev[s], m, err_coef)
        if direct_coef > 0.0:
            dot_err = direct_coef * max_dev[s]
        top = np.float64(ubuf[b, best[b]])
        upper = -np.inf
        lower = -np.inf
        if top > NONE32:
            # float32 storage of the bound rounds it by up to 6e-8 relative.
            upper = top + 1e-6 * max(1.0, abs(top))
            if not has_exclusion[k]:
                i = lo[k] + best[b]
                lower = _lower_bound(prof[b, i], closes32, base + i, m, dot_err, var_err, dev_rel)
        if flags[b] > 0:
            _prefix_sums_fast(closes32, base, n, p1, p2)
            for i in range(lo[k], hi[k] + 1):
                s1 = p1[i + m] - p1[i]
                var = (p2[i + m] - p2[i]) / m - (s1 / m) * (s1 / m)
                if var <= 2.0 * var_err and not _is_flat(closes, base + i, m):
                    upper = np.inf
                    break
        out_upper[k] = upper
        out_lower[k] = lower


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
            u = top / (m * sd_lo) if top > 0 else top / (m * sd_hi)
            if u < threshold:
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
        ok = True
        for u in range(taken):
            if abs(out_i[u] - i) <= half:
                ok = False
                break
        if ok:
            out_d2[taken] = cand_d2[order[t]]
            out_i[taken] = i
            taken += 1
    return out_d2[:taken], out_i[:taken]


@njit(nogil=True, cache=True, error_model="numpy")
def latest_distances(closes, offsets, rows, starts, qn, m, out_d2):
    """Exact squared distance of one window per series (``starts[b]`` in series ``rows[b]``)."""
    for b in range(rows.shape[0]):
        out_d2[b] = window_distance2(closes, offsets[rows[b]] + starts[b], m, qn)
