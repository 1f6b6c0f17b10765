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
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .series import PREFIX_STEP

# The screen's blocks of starts are the stored prefix sums' steps; _block_spreads unrolls them.
assert PREFIX_STEP == 4

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)
SHARED_CLOSES_FROM = 8
# Cache lines of each stored prefix sum requested ahead of the series that reads them next.
AHEAD_LINES = 8


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the memory for the cache line of ``array[index]`` without waiting for it (LLVM's
    prefetch: a read, kept in every cache level). It has no other effect, and none at all on an
    address outside the array, so ``index`` needs no check."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        offset = context.cast(builder, args[1], signature.args[1], types.intp)
        address = builder.bitcast(builder.gep(data, [offset]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(prefetch, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


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


# Relative error allowed for the float32 arithmetic of a correlation bound: the rounding of the
# variance to float32, an approximate reciprocal square root and three products stay below 1e-6.
_REL32 = np.float32(1e-6)


@njit(nogil=True, cache=True, fastmath=FAST | {"afn"}, error_model="numpy")
def _upper_bound(prof_i, s1, s2, m, sc, dot_err, var_err, dev_rel):
    """Upper bound of one window's correlation (float32) from its dot product and the sums of
    its centred closes and of their squares; NONE32 when its variance is too close to zero to
    trust (a suspicious window).

    The variance comes from the float64 sums; the rest runs in float32 in units of the series'
    scale ``sc`` (so nothing underflows or overflows, whatever the prices). Its rounding is
    covered by ``_REL32``.
    """
    inv_sc = 1.0 / sc if sc > 0.0 else 1.0
    inv_sc2 = inv_sc * inv_sc
    invm = 1.0 / m
    var = s2 * invm - (s1 * invm) * (s1 * invm)
    if not var > 2.0 * var_err:
        return NONE32
    v64 = var * inv_sc2
    v = np.float32(v64 if v64 > 1e-30 else 1e-30)
    inv_sd = np.float32(1.0) / np.sqrt(v)
    c = np.float32(prof_i) * inv_sd * np.float32(invm * inv_sc)
    # The dot product's error over m*sd, plus the relative error of sd (prefix sums and
    # float32 closes) and of this float32 arithmetic.
    slack = np.float32(dot_err * invm * inv_sc) * inv_sd + abs(c) * (
        np.float32(var_err * inv_sc2) * inv_sd * inv_sd
        + np.float32(dev_rel * inv_sc) * inv_sd
        + _REL32
    )
    return c + slack


@njit(nogil=True, cache=True, error_model="numpy")
def _leading_sums(prefix1, prefix2, first, closes32, base, t):
    """Sums of the first ``t`` centred closes of a series and of their squares (float64): a
    stored prefix sum (``first``: the series' first entry) plus at most PREFIX_STEP - 1 closes."""
    c = t // PREFIX_STEP
    a1 = prefix1[first + c]
    a2 = prefix2[first + c]
    for u in range(c * PREFIX_STEP, t):
        v = np.float64(closes32[base + u])
        a1 += v
        a2 += v * v
    return a1, a2


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _block_spreads(
    row, closes32, base, prefix1, prefix2, first, j_start, j_stop, m, terms, out, at
):
    """``_edge_spread`` of the blocks ``j_start..j_stop - 1`` (all their starts allowed), into
    ``out[:, at + j - j_start]`` (``out`` whole: a slice of it would not vectorise). Written
    without branches and with unsigned indices (no negative-index checks), so that LLVM
    vectorises it."""
    dot_err, lb_err, guard, limit = terms
    invm = 1.0 / m
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    whole = np.uint64(m // 4)
    count = j_stop - j_start
    if m >= SHARED_CLOSES_FROM:
        # The stored steps from the block's last start to its first start + m.
        inv_shared = 1.0 / ((m // 4 - 1) * 4)
        for jj in range(count):
            t = np.uint64(at + jj)
            j = np.uint64(j_start + jj)
            p = j * four
            q = j + np.uint64(first)
            top = max(max(row[p], row[p + one]), max(row[p + two], row[p + three]))
            num = max(np.float64(top) + dot_err, 0.0)
            s1 = prefix1[q + whole] - prefix1[q + one]
            s2 = prefix2[q + whole] - prefix2[q + one]
            spread = (s2 - s1 * s1 * inv_shared) * invm - lb_err
            spread = spread if spread > guard else -1.0
            out[0, t] = num * num
            out[1, t] = spread
            out[2, t] = 0.0 if (spread > 0.0 and num * num <= limit * spread) else 1.0
        return
    # Short patterns: the closes 4j + 3 .. 4j + m - 1, the stored sum at 4j less closes
    # 4j .. 4j + 2 plus those from 4(j + whole) on.
    inv_shared = 1.0 / (m - 3)
    w0 = 1.0 if m % 4 > 0 else 0.0
    w1 = 1.0 if m % 4 > 1 else 0.0
    w2 = 1.0 if m % 4 > 2 else 0.0
    for jj in range(count):
        t = np.uint64(at + jj)
        j = np.uint64(j_start + jj)
        p = j * four
        c = p + np.uint64(base)
        e = c + whole * four
        q = j + np.uint64(first)
        top = max(max(row[p], row[p + one]), max(row[p + two], row[p + three]))
        num = max(np.float64(top) + dot_err, 0.0)
        a0 = np.float64(closes32[c])
        a1 = np.float64(closes32[c + one])
        a2 = np.float64(closes32[c + two])
        b0 = np.float64(closes32[e]) * w0
        b1 = np.float64(closes32[e + one]) * w1
        b2 = np.float64(closes32[e + two]) * w2
        s1 = prefix1[q + whole] - prefix1[q] + (b0 + b1 + b2) - (a0 + a1 + a2)
        s2 = (
            prefix2[q + whole]
            - prefix2[q]
            + (b0 * b0 + b1 * b1 + b2 * b2)
            - (a0 * a0 + a1 * a1 + a2 * a2)
        )
        spread = (s2 - s1 * s1 * inv_shared) * invm - lb_err
        spread = spread if spread > guard else -1.0
        out[0, t] = num * num
        out[1, t] = spread
        out[2, t] = 0.0 if (spread > 0.0 and num * num <= limit * spread) else 1.0


@njit(nogil=True, cache=True, error_model="numpy")
def _edge_spread(row, closes32, base, prefix1, prefix2, first, j, lo, hi, m, terms, out, at):
    """Block ``j`` of starts ``4j..4j+3`` (those of lo..hi), into ``out[:, at]``: the square of
    its largest dot product plus ``dot_err`` (0 when negative); the variance over ``m`` of the
    closes all its windows hold (``4j + 3`` to ``4j + m - 1``), a lower bound of each window's
    own, less ``lb_err`` (its rounding), or -1 when not above ``guard``; and 0 when these show
    that no window of it reaches the correlation whose ``limit`` is given, else 1."""
    dot_err, lb_err, guard, limit = terms
    a = max(j * 4, lo)
    z = min(j * 4 + 3, hi)
    top = np.float64(row[a])
    for i in range(a + 1, z + 1):
        top = max(top, np.float64(row[i]))
    num = max(top + dot_err, 0.0)
    l1, l2 = _leading_sums(prefix1, prefix2, first, closes32, base, j * 4 + 3)
    r1, r2 = _leading_sums(prefix1, prefix2, first, closes32, base, j * 4 + m)
    s1 = r1 - l1
    spread = ((r2 - l2) - s1 * s1 / (m - 3)) / m - lb_err
    spread = spread if spread > guard else -1.0
    out[0, at] = num * num
    out[1, at] = spread
    out[2, at] = 0.0 if (spread > 0.0 and num * num <= limit * spread) else 1.0


@njit(nogil=True, cache=True, error_model="numpy")
def _block_windows(row, closes32, base, prefix1, prefix2, first, j, lo, hi, m, sc, terms, best):
    """Every window bound of block ``j`` (allowed starts only): ``best`` holds the highest
    bound so far and its start (the first of equal ones) and the count of suspicious windows."""
    dot_err, var_err, dev_rel, _ = terms
    top, top_i, suspicious = best
    a = max(j * PREFIX_STEP, lo)
    z = min(j * PREFIX_STEP + PREFIX_STEP - 1, hi)
    l1, l2 = _leading_sums(prefix1, prefix2, first, closes32, base, a)
    r1, r2 = _leading_sums(prefix1, prefix2, first, closes32, base, a + m)
    for i in range(a, z + 1):
        if i > a:
            out_v = np.float64(closes32[base + i - 1])
            in_v = np.float64(closes32[base + i + m - 1])
            l1 += out_v
            l2 += out_v * out_v
            r1 += in_v
            r2 += in_v * in_v
        bound = _upper_bound(row[i], r1 - l1, r2 - l2, m, sc, dot_err, var_err, dev_rel)
        if bound == NONE32:
            suspicious += 1
        elif bound > top or (bound == top and i < top_i):
            top, top_i = bound, i
    return top, top_i, suspicious


@njit(nogil=True, cache=True, error_model="numpy")
def _windows_pass(row, closes32, base, prefix1, prefix2, first, j, lo, hi, m, terms, limit):
    """Whether no allowed window of block ``j`` reaches the correlation whose ``limit`` is given,
    each window judged by its own spread (the test of ``_edge_spread`` without the closes the
    block's windows do not share): a block whose shared spread is too loose a bound, as with
    short patterns, is then passed over without bounding its windows one by one."""
    dot_err, lb_err, guard, _ = terms
    if limit <= 0.0:
        return False
    a = max(j * PREFIX_STEP, lo)
    z = min(j * PREFIX_STEP + PREFIX_STEP - 1, hi)
    l1, l2 = _leading_sums(prefix1, prefix2, first, closes32, base, a)
    r1, r2 = _leading_sums(prefix1, prefix2, first, closes32, base, a + m)
    for i in range(a, z + 1):
        if i > a:
            out_v = np.float64(closes32[base + i - 1])
            in_v = np.float64(closes32[base + i + m - 1])
            l1 += out_v
            l2 += out_v * out_v
            r1 += in_v
            r2 += in_v * in_v
        num = max(np.float64(row[i]) + dot_err, 0.0)
        s1 = r1 - l1
        spread = ((r2 - l2) - s1 * s1 / m) / m - lb_err
        if not (spread > guard and num * num <= limit * spread):
            return False
    return True


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _whole_block_pass(row, closes32, base, prefix1, prefix2, first, j, m, terms, limit):
    """``_windows_pass`` of a block whose four starts are all allowed, without branches or
    divisions: the four windows' sums are independent, so they are computed side by side.
    Inlined into ``_screen_row``: short patterns send it up to 1 block in 12, and a call passing
    its arrays cost 5 to 10% of the kernels' time at m = 20 to 60."""
    dot_err, lb_err, guard, _ = terms
    invm = 1.0 / m
    p = j * 4
    c = base + p
    x0 = np.float64(closes32[c])
    x1 = np.float64(closes32[c + 1])
    x2 = np.float64(closes32[c + 2])
    s0 = prefix1[first + j]
    q0 = prefix2[first + j]
    # Sums of the closes before each start 4j..4j+3, and before each end 4j+m..4j+m+3.
    a1, a2, a3 = s0 + x0, s0 + x0 + x1, s0 + x0 + x1 + x2
    b1, b2, b3 = q0 + x0 * x0, q0 + x0 * x0 + x1 * x1, q0 + x0 * x0 + x1 * x1 + x2 * x2
    e = p + m
    ce = e // 4
    t1 = prefix1[first + ce]
    t2 = prefix2[first + ce]
    for u in range(ce * 4, e):
        v = np.float64(closes32[base + u])
        t1 += v
        t2 += v * v
    y0 = np.float64(closes32[base + e])
    y1 = np.float64(closes32[base + e + 1])
    y2 = np.float64(closes32[base + e + 2])
    e1 = (t1, t1 + y0, t1 + y0 + y1, t1 + y0 + y1 + y2)
    e2 = (t2, t2 + y0 * y0, t2 + y0 * y0 + y1 * y1, t2 + y0 * y0 + y1 * y1 + y2 * y2)
    l1 = (s0, a1, a2, a3)
    l2 = (q0, b1, b2, b3)
    ok = True
    for r in range(4):
        s1 = e1[r] - l1[r]
        spread = ((e2[r] - l2[r]) - s1 * s1 * invm) * invm - lb_err
        num = max(np.float64(row[p + r]) + dot_err, 0.0)
        ok = ok & (spread > guard) & (num * num <= limit * spread)
    return ok


# A block is passed over only when its spread bounds every window's standard deviation to
# within this share: the float32 rounding of the closes (dev_rel) then costs at most that much.
_SPREAD_REL = 1e-3
# Margin between a block passed over and the correlation it was compared with.
_PASS_MARGIN = 1e-9


@njit(nogil=True, cache=True, error_model="numpy")
def _pass_limit(reach, m):
    """A block whose squared top dot product is at most this times its spread has no window
    reaching the correlation ``reach`` (-1: every block may)."""
    scaled = (reach - _PASS_MARGIN) * m * (1.0 - _SPREAD_REL)
    return scaled * scaled if scaled > 0.0 else -1.0


@njit(nogil=True, cache=True, error_model="numpy")
def _screen_row(
    row,
    closes32,
    base,
    n,
    prefix1,
    prefix2,
    first,
    lo,
    hi,
    m,
    sc,
    terms,
    floor,
    blocks,
    q32x,
    phase,
):
    """The highest window bound of one series (float32, NONE32 when every window bounded is
    suspicious), its start, the count of suspicious windows and a bound on every window passed
    over (-inf when none was).

    Each block of four starts gets its largest dot product and a lower bound of its windows'
    spread (the closes they all hold, from the stored prefix sums); a block is passed over when
    these show that none of its windows reaches the best window bound so far nor ``floor`` (a
    correlation the search already knows ``k`` windows to reach); the windows of the others are
    bounded one by one. ``blocks`` is scratch space of (4, number of blocks). When ``q32x`` is not
    empty, ``phase`` holds the block-sum bounds of the dot products (``_block_sum_bounds``): a
    block that is not passed over gets its direct products first.
    """
    exact = q32x.shape[0] > 0
    dot_err, var_err, dev_rel, lb_err = terms
    # Passing over needs the spread's square root within _SPREAD_REL of the standard deviation
    # and no suspicious window in the block.
    guard = max(4.0 * var_err, (dev_rel / _SPREAD_REL) ** 2)
    limit = _pass_limit(floor, m)
    block_terms = (dot_err, lb_err, guard, limit)
    j0 = lo // 4
    j1 = hi // 4
    count = j1 - j0 + 1
    edge = (row, closes32, base, prefix1, prefix2, first)
    if exact:
        _bound_block(row, phase, j0, lo, hi)
        _bound_block(row, phase, j1, lo, hi)
    _edge_spread(*edge, j0, lo, hi, m, block_terms, blocks, 0)
    if count > 1:
        _edge_spread(*edge, j1, lo, hi, m, block_terms, blocks, count - 1)
    if count > 2 and exact:
        _block_sum_spreads(
            phase, closes32, base, prefix1, prefix2, first, j0 + 1, j1, m, block_terms, blocks, 1
        )
    elif count > 2:
        _block_spreads(*edge, j0 + 1, j1, m, block_terms, blocks, 1)
    best = (NONE32, lo, 0)
    seed = -1
    if floor == -np.inf:
        # Nothing to compare with yet: start from the block of the largest dot product.
        seed = 0
        for jj in range(1, count):
            if blocks[0, jj] > blocks[0, seed]:
                seed = jj
        if exact:
            j = j0 + seed
            _exact_products(row, closes32, base, q32x, max(4 * j, lo), min(4 * j + 3, hi))
        best = _block_windows(*edge, j0 + seed, lo, hi, m, sc, terms, best)
    level = floor
    # With block sums, the blocks that fail the shared test are listed first (in blocks[3]) and
    # the closes they read next requested from memory, so that their cache misses (one block in
    # 60 to 70 at m = 60, scattered over the series) overlap instead of coming one by one. Eight
    # flags are tested at once: most runs of eight blocks all pass.
    listed = count
    if exact:
        listed = 0
        for g in range(0, count, 8):
            if g + 8 <= count:
                flags = blocks[2, g : g + 8]
                if (flags[0] + flags[1] + flags[2] + flags[3]) + (
                    flags[4] + flags[5] + flags[6] + flags[7]
                ) == 0.0:
                    continue
            for jj in range(g, min(g + 8, count)):
                if blocks[2, jj] != 0.0:
                    blocks[3, listed] = jj
                    listed += 1
                    c = base + 4 * (j0 + jj)
                    _prefetch(closes32, c)
                    _prefetch(closes32, c + m)
    passed = listed < count
    for f in range(listed):
        jj = np.int64(blocks[3, f]) if exact else f
        if blocks[2, jj] == 0.0:
            passed = True
            continue
        if jj == seed:
            continue
        reach = max(np.float64(best[0]), floor)
        if reach != level:
            level = reach
            limit = _pass_limit(reach, m)
        if blocks[1, jj] > 0.0 and blocks[0, jj] <= limit * blocks[1, jj]:
            passed = True
            continue
        whole = 0 < jj < count - 1
        if exact:
            # The block-sum bounds first judged window by window, then the direct products.
            j = j0 + jj
            if whole:
                _bound_block(row, phase, j, lo, hi)
                if _whole_block_pass(
                    row, closes32, base, prefix1, prefix2, first, j, m, block_terms, limit
                ):
                    passed = True
                    continue
            _exact_products(row, closes32, base, q32x, max(4 * j, lo), min(4 * j + 3, hi))
        if (
            _whole_block_pass(
                row, closes32, base, prefix1, prefix2, first, j0 + jj, m, block_terms, limit
            )
            if whole
            else _windows_pass(*edge, j0 + jj, lo, hi, m, block_terms, limit)
        ):
            passed = True
            continue
        best = _block_windows(*edge, j0 + jj, lo, hi, m, sc, terms, best)
    left_out = -np.inf
    if passed:
        left_out = max(np.float64(best[0]), floor) - _PASS_MARGIN
    return best[0], best[1], best[2], left_out


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


@njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")
def _sliding_dot(values, base, count, q, out):
    """``out[i] = sum_j q[j] * values[base + i + j]`` for i < count, in float32 (vectorised).

    The pattern is taken sixteen terms at a time (then eight, four, one): each pass adds its
    products to ``out``, so that the loop loads and stores ``out`` once per sixteen products
    (eight a pass was twice as fast as one; sixteen another 4 to 5% at m = 20 to 52). Any order
    of the m additions keeps the error within the bound of ``screen`` (m roundings at most per
    term)."""
    m = q.shape[0]
    for i in range(count):
        out[i] = np.float32(0.0)
    j = 0
    while j + 16 <= m:
        _add_sixteen(values, np.uint64(base + j), count, q, j, out)
        j += 16
    while j + 8 <= m:
        _add_eight(values, np.uint64(base + j), count, q, j, out)
        j += 8
    while j + 4 <= m:
        _add_four(values, np.uint64(base + j), count, q, j, out)
        j += 4
    while j < m:
        qj = q[j]
        off = np.uint64(base + j)
        for ii in range(count):
            i = np.uint64(ii)
            out[i] += qj * values[off + i]
        j += 1


@njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy", inline="always")
def _add_eight(values, off, count, q, j, out):
    q0, q1, q2, q3 = q[j], q[j + 1], q[j + 2], q[j + 3]
    q4, q5, q6, q7 = q[j + 4], q[j + 5], q[j + 6], q[j + 7]
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    five, six, seven = np.uint64(5), np.uint64(6), np.uint64(7)
    for ii in range(count):
        t = np.uint64(ii)
        i = t + off
        out[t] += (
            q0 * values[i]
            + q1 * values[i + one]
            + q2 * values[i + two]
            + q3 * values[i + three]
            + q4 * values[i + four]
            + q5 * values[i + five]
            + q6 * values[i + six]
            + q7 * values[i + seven]
        )


@njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy", inline="always")
def _add_sixteen(values, off, count, q, j, out):
    q0, q1, q2, q3 = q[j], q[j + 1], q[j + 2], q[j + 3]
    q4, q5, q6, q7 = q[j + 4], q[j + 5], q[j + 6], q[j + 7]
    q8, q9, q10, q11 = q[j + 8], q[j + 9], q[j + 10], q[j + 11]
    q12, q13, q14, q15 = q[j + 12], q[j + 13], q[j + 14], q[j + 15]
    for ii in range(count):
        t = np.uint64(ii)
        i = t + off
        out[t] += (
            q0 * values[i]
            + q1 * values[i + np.uint64(1)]
            + q2 * values[i + np.uint64(2)]
            + q3 * values[i + np.uint64(3)]
            + q4 * values[i + np.uint64(4)]
            + q5 * values[i + np.uint64(5)]
            + q6 * values[i + np.uint64(6)]
            + q7 * values[i + np.uint64(7)]
        ) + (
            q8 * values[i + np.uint64(8)]
            + q9 * values[i + np.uint64(9)]
            + q10 * values[i + np.uint64(10)]
            + q11 * values[i + np.uint64(11)]
            + q12 * values[i + np.uint64(12)]
            + q13 * values[i + np.uint64(13)]
            + q14 * values[i + np.uint64(14)]
            + q15 * values[i + np.uint64(15)]
        )


@njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy", inline="always")
def _add_four(values, off, count, q, j, out):
    q0, q1, q2, q3 = q[j], q[j + 1], q[j + 2], q[j + 3]
    one, two, three = np.uint64(1), np.uint64(2), np.uint64(3)
    for ii in range(count):
        t = np.uint64(ii)
        i = t + off
        out[t] += (
            q0 * values[i] + q1 * values[i + one] + q2 * values[i + two] + q3 * values[i + three]
        )


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _exact_products(row, closes32, base, q32, a, z):
    """Direct float32 dot products of the pattern ``q32`` with the windows ``a..z`` into ``row``
    (within the bound ``direct_coef`` of ``screen``, whatever the order of the additions).

    A whole block of four windows is computed side by side: each close loaded serves the four
    sums, and the four independent sums vectorise (nine times faster than one window at a time,
    whose short reductions ran mostly in their scalar remainder: 50 against 430 ns a block at
    m = 60, 95 against 1,160 at 250)."""
    m = q32.shape[0]
    if z - a == 3:
        c = np.uint64(base + a)
        s0 = s1 = s2 = s3 = np.float32(0.0)
        one, two, three = np.uint64(1), np.uint64(2), np.uint64(3)
        for tt in range(m):
            t = np.uint64(tt)
            q = q32[t]
            i = c + t
            s0 += q * closes32[i]
            s1 += q * closes32[i + one]
            s2 += q * closes32[i + two]
            s3 += q * closes32[i + three]
        row[a] = s0
        row[a + 1] = s1
        row[a + 2] = s2
        row[a + 3] = s3
        return
    for i in range(a, z + 1):
        acc = np.float32(0.0)
        for t in range(m):
            acc += q32[t] * closes32[base + i + t]
        row[i] = acc


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _block_sums(closes32, base, n, prefix1, first, width, sums, ahead):
    """The series' block sums of four centred closes (float32; the last partial block with
    zeros for the closes past the end, then ``width + 2`` zero blocks) into ``sums``; returns
    the partial block's squared deviations from its mean (zeros included).

    The same entries of the two arrays ``ahead``, which the screen reads next, are requested
    from memory ``AHEAD_LINES`` cache lines ahead as it goes: the three streams then arrive
    together instead of one pass after another, each waiting for its own."""
    nw = n // 4
    low = np.uint64(first)
    high = np.uint64(first + 1)
    eight = np.uint64(8)
    lead = np.uint64(first + AHEAD_LINES * 8)
    groups = nw // 8
    for gg in range(groups):
        g = np.uint64(gg) * eight
        _prefetch(ahead[0], lead + g)
        _prefetch(ahead[1], lead + g)
        for u in range(8):
            j = g + np.uint64(u)
            sums[j] = np.float32(prefix1[high + j] - prefix1[low + j])
    for jj in range(groups * 8, nw):
        j = np.uint64(jj)
        sums[j] = np.float32(prefix1[high + j] - prefix1[low + j])
    tail = 0.0
    for u in range(nw * 4, n):
        tail += np.float64(closes32[base + u])
    mean = tail / 4.0
    tail_ssd = 0.0
    for u in range(4):
        v = np.float64(closes32[base + nw * 4 + u]) if nw * 4 + u < n else 0.0
        tail_ssd += (v - mean) * (v - mean)
    sums[nw] = np.float32(tail)
    for j in range(nw + 1, nw + width + 3):
        sums[j] = np.float32(0.0)
    return tail_ssd


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _block_sum_bounds(
    closes32, base, n, m, prefix1, ssd_prefix, first, shape, md, sums, phase, ahead
):
    """Upper bounds of the dot products of every window start 0..n - m (and up to three more)
    with the pattern, from block sums (see ``screen.block_taps``): start ``4a + r``'s is
    ``phase[r, a] + phase[4, a]``.

    Start ``4a + r`` sees the pattern shifted by ``r`` within ``width`` whole blocks from block
    ``a`` (zeros around it): its dot product is ``sum_j taps[r, j] * S[a + j]`` plus the
    pattern's residual from its block means times the closes' residual from theirs, at most
    ``r_up`` times the square root of the blocks' squared deviations (Cauchy-Schwarz; the
    ``width`` blocks from ``a`` hold every phase's). ``slack`` terms cover the rounding.
    ``ahead``: two arrays read next at the series' stored entries (see ``_block_sums``)."""
    taps, r_up, sum_w, mean_err = shape
    width = (m + 6) // 4
    count = (n - m) // 4 + 1
    nw = n // 4
    tail_ssd = _block_sums(closes32, base, n, prefix1, first, taps.shape[1], sums, ahead)
    _phase_dots(sums, count, taps, phase)
    # Rounding: the stored prefix sums (float64, up to n terms each), the block sums and taps in
    # float32, the float32 sliding sums of width terms, and the final products and additions.
    dev = md * (2.0 * np.sqrt(width) + 1.0)
    slack = md * (
        mean_err + sum_w * (2.0 * n * n * EPS64 + 4.0 * (2 * width + 8) * EPS32)
    ) + 8.0 * EPS32 * (4.0 * md * sum_w + r_up * 2.0 * dev)
    ssd_err = EPS64 * md * md * n * (n / 2.0 + 32.0)
    r32 = np.float32(r_up)
    s32 = np.float32(slack * (1.0 + 1e-6))
    # Blocks a + width <= nw lie within the stored sums; the others end past them, where the
    # partial block's squared deviations are added (then only zero blocks).
    inside = min(count, max(nw - width + 1, 0))
    low = np.uint64(first)
    high = np.uint64(first + width)
    share = phase[4]
    for aa in range(inside):
        a = np.uint64(aa)  # unsigned: no negative-index checks, so the loop vectorises
        v = ssd_prefix[high + a] - ssd_prefix[low + a] + ssd_err
        share[a] = r32 * np.sqrt(np.float32(v)) + s32
    for a in range(inside, count):
        v = ssd_prefix[first + nw] - ssd_prefix[first + a] + ssd_err + tail_ssd
        phase[4, a] = r32 * np.sqrt(np.float32(max(v, 0.0))) + s32


@njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")
def _phase_dots(sums, count, taps, phase):
    """``phase[r, a] = sum_j taps[r, j] * sums[a + j]`` for the four phases and a < count, in
    float32: four taps of the four phases a pass, so that each block sum loaded serves four
    products and each output is loaded and stored once per sixteen (``taps`` has a multiple of
    four columns)."""
    one, two, three = np.uint64(1), np.uint64(2), np.uint64(3)
    # The first four taps set the products (no pass zeroing them first), the others add.
    a0, a1, a2, a3 = taps[0, 0], taps[0, 1], taps[0, 2], taps[0, 3]
    b0, b1, b2, b3 = taps[1, 0], taps[1, 1], taps[1, 2], taps[1, 3]
    c0, c1, c2, c3 = taps[2, 0], taps[2, 1], taps[2, 2], taps[2, 3]
    d0, d1, d2, d3 = taps[3, 0], taps[3, 1], taps[3, 2], taps[3, 3]
    for aa in range(count):
        t = np.uint64(aa)
        s0, s1, s2, s3 = sums[t], sums[t + one], sums[t + two], sums[t + three]
        phase[0, t] = a0 * s0 + a1 * s1 + a2 * s2 + a3 * s3
        phase[1, t] = b0 * s0 + b1 * s1 + b2 * s2 + b3 * s3
        phase[2, t] = c0 * s0 + c1 * s1 + c2 * s2 + c3 * s3
        phase[3, t] = d0 * s0 + d1 * s1 + d2 * s2 + d3 * s3
    for j in range(4, taps.shape[1], 4):
        a0, a1, a2, a3 = taps[0, j], taps[0, j + 1], taps[0, j + 2], taps[0, j + 3]
        b0, b1, b2, b3 = taps[1, j], taps[1, j + 1], taps[1, j + 2], taps[1, j + 3]
        c0, c1, c2, c3 = taps[2, j], taps[2, j + 1], taps[2, j + 2], taps[2, j + 3]
        d0, d1, d2, d3 = taps[3, j], taps[3, j + 1], taps[3, j + 2], taps[3, j + 3]
        off = np.uint64(j)
        for aa in range(count):
            t = np.uint64(aa)
            i = t + off
            s0, s1, s2, s3 = sums[i], sums[i + one], sums[i + two], sums[i + three]
            phase[0, t] += a0 * s0 + a1 * s1 + a2 * s2 + a3 * s3
            phase[1, t] += b0 * s0 + b1 * s1 + b2 * s2 + b3 * s3
            phase[2, t] += c0 * s0 + c1 * s1 + c2 * s2 + c3 * s3
            phase[3, t] += d0 * s0 + d1 * s1 + d2 * s2 + d3 * s3


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _bound_block(row, phase, j, lo, hi):
    """The block-sum bounds of the allowed starts of block ``j`` into ``row`` (inlined: a call
    per failing block cost more in reference counts than its four stores)."""
    for i in range(max(4 * j, lo), min(4 * j + 3, hi) + 1):
        row[i] = phase[i - 4 * j, j] + phase[4, j]


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def _block_sum_spreads(
    phase, closes32, base, prefix1, prefix2, first, j_start, j_stop, m, terms, out, at
):
    """``_block_spreads`` (patterns of SHARED_CLOSES_FROM closes or more) with each block's top
    dot product bounded from the block sums (``phase``, see ``_block_sum_bounds``)."""
    dot_err, lb_err, guard, limit = terms
    invm = 1.0 / m
    one = np.uint64(1)
    whole = np.uint64(m // 4)
    count = j_stop - j_start
    inv_shared = 1.0 / ((m // 4 - 1) * 4)
    for jj in range(count):
        t = np.uint64(at + jj)
        j = np.uint64(j_start + jj)
        q = j + np.uint64(first)
        top = max(max(phase[0, j], phase[1, j]), max(phase[2, j], phase[3, j])) + phase[4, j]
        num = max(np.float64(top) + dot_err, 0.0)
        s1 = prefix1[q + whole] - prefix1[q + one]
        s2 = prefix2[q + whole] - prefix2[q + one]
        spread = (s2 - s1 * s1 * inv_shared) * invm - lb_err
        spread = spread if spread > guard else -1.0
        out[0, t] = num * num
        out[1, t] = spread
        out[2, t] = 0.0 if (spread > 0.0 and num * num <= limit * spread) else 1.0


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
def screen_rows(
    prof,
    stride,
    rows,
    pos,
    closes,
    closes32,
    offsets,
    prefix1,
    prefix2,
    prefix_offsets,
    scale,
    max_dev,
    lo,
    hi,
    ex_ptr,
    ex_lo,
    ex_hi,
    m,
    err_coef,
    q32,
    direct_coef,
    floor,
    p1,
    p2,
    blocks,
    out_upper,
    out_lower,
    ssd_prefix,
    shape,
    sums,
    phase,
):
    """The screen of a block of series: bounds of each one's best correlation.

    Row ``b`` of the sliding dot products is ``prof[b * stride:]``: given (from the FFT, with the
    calibrated error bound ``err_coef``) when ``q32`` is empty, else computed here directly in
    float32 from the pattern ``q32`` (cheaper than the FFT below about 55 closes) with the strict
    bound ``direct_coef * max_dev`` (see ``screen.screen``), each series' in turn in
    ``prof[:stride]``.

    ``out_upper[pos[b]]`` is at least the correlation of every window lo..hi of the series
    (exclusions ignored, which only loosens it); ``out_lower`` is at most the best correlation of
    an allowed window (-inf when unknown: the best-bounded window is excluded; ``ex_ptr``,
    ``ex_lo``, ``ex_hi`` are the forbidden starts per position, as in ``exact_series``). A
    suspicious window that is not flat sets the upper bound to +inf: the series is then
    evaluated exactly. Windows are bounded one by one only where their block's bound may exceed
    both the series' best so far and ``floor`` (see ``_screen_row``); a series whose every
    window stays below ``floor`` gets an upper bound below it. ``p1``, ``p2`` and ``blocks`` are
    scratch arrays of the longest series' length + 1 and of (4, its blocks of four starts).

    With block-sum ``shape`` (``screen.block_taps``: its taps not empty), the rows hold upper
    bounds of the dot products from the block sums and ``ssd_prefix`` (``_block_sum_bounds``;
    ``sums`` and ``phase`` scratch of the longest series' blocks plus ``width + 3``, and of 4 by
    its blocks plus 2), and blocks that may reach the best bound get direct products from
    ``q32`` (``direct_coef`` bounds both).
    """
    block_sum = shape[0].shape[1] > 0
    direct = q32.shape[0] > 0 and not block_sum
    q32x = q32 if block_sum else q32[:0]
    for b in range(rows.shape[0]):
        s = rows[b]
        position = pos[b]
        base = offsets[s]
        n = offsets[s + 1] - base
        if block_sum and b + 1 < rows.shape[0]:
            # The next series' stored sums are read from their start in three passes, and its
            # two edge blocks read closes: request their first lines now, a series ahead (the
            # hardware prefetcher follows a pass only once it has begun).
            following = prefix_offsets[rows[b + 1]]
            for c in range(following, following + AHEAD_LINES * 8, 8):
                _prefetch(prefix1, c)
                _prefetch(prefix2, c)
                _prefetch(ssd_prefix, c)
            following = offsets[rows[b + 1]]
            for c in (lo[pos[b + 1]] // 4 * 4, hi[pos[b + 1]] // 4 * 4):
                _prefetch(closes32, following + c)
                _prefetch(closes32, following + c + m)
        var_err, dot_err, dev_rel = _errors(n, scale[s], max_dev[s], m, err_coef)
        # Direct and block-sum products live only while their series is screened: one row
        # serves every series and stays in cache (the FFT gives a whole block's rows at once).
        row = prof[:stride] if direct or block_sum else prof[b * stride : (b + 1) * stride]
        if direct or block_sum:
            dot_err = direct_coef * max_dev[s]
        if direct:
            _sliding_dot(closes32, base, n - m + 1, q32, row)
        elif block_sum:
            _block_sum_bounds(
                closes32,
                base,
                n,
                m,
                prefix1,
                ssd_prefix,
                prefix_offsets[s],
                shape,
                max_dev[s],
                sums,
                phase,
                (prefix2, ssd_prefix),
            )
        # The stored prefix sums hold up to n closes: their rounding, and that of the square of
        # a sum of up to m closes of at most max_dev, bound the error of a spread taken from them.
        lb_err = 2.0 * var_err + 16.0 * EPS64 * n * max_dev[s] * max_dev[s] / m
        terms = (dot_err, var_err, dev_rel, lb_err)
        top32, i, suspicious, left_out = _screen_row(
            row,
            closes32,
            base,
            n,
            prefix1,
            prefix2,
            prefix_offsets[s],
            lo[position],
            hi[position],
            m,
            scale[s],
            terms,
            floor,
            blocks,
            q32x,
            phase,
        )
        top = np.float64(top32)
        upper = -np.inf
        lower = -np.inf
        if top > NONE32:
            # float32 storage of the bound rounds it by up to 6e-8 relative.
            upper = top + 1e-6 * max(1.0, abs(top))
            if not _forbidden(i, ex_lo, ex_hi, ex_ptr[position], ex_ptr[position + 1]):
                lower = _lower_bound(row[i], closes32, base + i, m, dot_err, var_err, dev_rel)
        if suspicious > 0 and _unsure_window(
            closes, closes32, base, n, lo[position], hi[position], m, var_err, p1, p2
        ):
            upper = np.inf
        out_upper[position] = max(upper, left_out)
        out_lower[position] = lower


@njit(nogil=True, cache=True, error_model="numpy")
def exact_series(
    prof, dot_err, closes, base, n, center, sc, lo, hi, ex_lo, ex_hi, m, qn, threshold, k, p1, p2
):
    """Exact greedy top-k of one series among windows whose correlation can reach ``threshold``.

    ``prof`` are sliding dot products of the z-normalised pattern with the series (closes less
    ``center``), each within ``dot_err`` of the exact one. Returns (squared distances, starts) in
    greedy order. Windows are compared by their exact squared distance, ties by start; after
    taking start ``i`` no start ``j`` with ``|j - i| <= ceil(m/2)`` is taken.
    """
    _prefix_sums(closes, base, n, center, p1, p2)
    var_err = 8.0 * EPS64 * math.sqrt(n) * n * sc * sc / m + 1e-300
    # A window whose bound stays below a positive threshold is passed over in the squared domain
    # (no square root): top < threshold * m * sd_lo, less a relative margin for the rounding.
    squared = threshold > 0.0
    reach2 = threshold * threshold * m * m * (1.0 - 1e-12) if squared else 0.0
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
            top = np.float64(prof[i]) + dot_err
            if squared:
                if top <= 0.0 or top * top < reach2 * (var - var_err):
                    continue
            else:
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
def fft_dot_err(sc, m):
    """``exact_series``'s ``dot_err`` for float64 dot products through the FFT (series' root
    mean square deviation ``sc``)."""
    return 64.0 * EPS64 * sc * m


@njit(nogil=True, cache=True, error_model="numpy")
def exact_series_direct(
    closes,
    closes32,
    base,
    n,
    center,
    sc,
    max_dev,
    lo,
    hi,
    ex_lo,
    ex_hi,
    qn,
    q32,
    direct_coef,
    threshold,
    k,
    p1,
    p2,
    prof,
):
    """``exact_series`` with the dot products computed directly in float32 from the pattern
    ``q32`` and the centred closes (within ``direct_coef * max_dev``, see ``screen.screen``).

    For the few series the screen leaves this beats two float64 FFTs of the whole series at
    every pattern length: per series of 5,000 closes (6 Dec 2026), 39 against 105 us at m = 60,
    64 against 102 at 250, 99 against 104 at 500 (the FFTs and the same bounds)."""
    m = qn.shape[0]
    _sliding_dot(closes32, base, n - m + 1, q32, prof)
    return exact_series(
        prof,
        direct_coef * max_dev,
        closes,
        base,
        n,
        center,
        sc,
        lo,
        hi,
        ex_lo,
        ex_hi,
        m,
        qn,
        threshold,
        k,
        p1,
        p2,
    )


@njit(nogil=True, cache=True, error_model="numpy")
def exact_stage(
    order,
    upper,
    threshold,
    rows,
    lo,
    hi,
    ex_ptr,
    ex_lo,
    ex_hi,
    closes,
    closes32,
    offsets,
    center,
    scale,
    max_dev,
    qn,
    q32,
    direct_coef,
    best,
    p1,
    p2,
    prof,
):
    """The exact stage of a history search: the screened series in ``order`` (best ``upper``
    bound first) evaluated by ``exact_series_direct`` until no upper bound reaches the k-th best
    correlation found (nor ``threshold``, the k-th best lower bound of the screen). ``best``:
    (squared distances, series, starts) of length k, filled sorted by distance, then series, then
    start; returns how many were found."""
    best_d2, best_s, best_i = best
    k = best_d2.shape[0]
    m = qn.shape[0]
    count = 0
    for t in order:
        if upper[t] < threshold:
            break
        s = rows[t]
        base = offsets[s]
        e0, e1 = ex_ptr[t], ex_ptr[t + 1]
        d2, starts = exact_series_direct(
            closes,
            closes32,
            base,
            offsets[s + 1] - base,
            center[s],
            scale[s],
            max_dev[s],
            lo[t],
            hi[t],
            ex_lo[e0:e1],
            ex_hi[e0:e1],
            qn,
            q32,
            direct_coef,
            threshold,
            k,
            p1,
            p2,
            prof,
        )
        for j in range(d2.shape[0]):
            count = _insert_match(best_d2, best_s, best_i, count, d2[j], s, starts[j])
        if count == k:
            threshold = max(threshold, 1.0 - best_d2[k - 1] / (2.0 * m))
    return count


@njit(nogil=True, cache=True, error_model="numpy")
def _insert_match(best_d2, best_s, best_i, count, d2, s, i):
    """Insert a match into the sorted best list (by distance, then series, then start; full:
    only if it comes before the last); returns the new count."""
    k = best_d2.shape[0]
    if count == k and not _before(d2, s, i, best_d2[k - 1], best_s[k - 1], best_i[k - 1]):
        return count
    place = min(count, k - 1)
    while place > 0 and _before(d2, s, i, best_d2[place - 1], best_s[place - 1], best_i[place - 1]):
        best_d2[place] = best_d2[place - 1]
        best_s[place] = best_s[place - 1]
        best_i[place] = best_i[place - 1]
        place -= 1
    best_d2[place] = d2
    best_s[place] = s
    best_i[place] = i
    return min(count + 1, k)


@njit(nogil=True, cache=True, error_model="numpy")
def _before(d2, s, i, d2b, sb, ib):
    if d2 != d2b:
        return d2 < d2b
    if s != sb:
        return s < sb
    return i < ib


@njit(nogil=True, cache=True, error_model="numpy")
def latest_distances(closes, offsets, rows, starts, qn, m, out_d2):
    """Exact squared distance of one window per series (``starts[b]`` in series ``rows[b]``)."""
    for b in range(rows.shape[0]):
        out_d2[b] = window_distance2(closes, offsets[rows[b]] + starts[b], m, qn)
