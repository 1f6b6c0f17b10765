"""The screen of a history search: bounds of every selected series' best correlation, in float32.

The sliding dot products of the z-normalised pattern with each series come from the market's
cached float32 spectra (one batched inverse FFT per block of series, in ducc0) or, for patterns
of up to ``DIRECT_MAX_LENGTH`` closes, from direct products; up to ``BLOCK_SUM_MAX_LENGTH``
closes, they are first bounded from the closes' sums over blocks of four (``block_taps``) and
computed directly only where a block of starts may reach the best correlation. The kernels turn
them into an upper and a lower bound of each window's correlation and keep each series' best.
Blocks run on two threads (the kernels release the GIL).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ducc0
import numpy as np
import scipy.fft

from . import kernels
from .series import PREFIX_STEP, Market

# Series per screen task. Larger batches make the batched inverse FFT and the kernels' calls
# cheaper per series; 64 measured best of 8 to 256 (about 15% faster than 32).
BLOCK = 64
# Bound on the float32 rounding error of a dot product screened through the FFT, in units of
# eps32 * (the series' largest deviation from its mean) * m. The largest error measured on the
# 401 real series of jp_daily and on random walks (m from 5 to 500; patterns cut, noised and
# random) was 1.07 units; 16 keeps a margin of 15.
ERR_COEF = 16.0
# Up to this pattern length the screen computes dot products directly, which beats the FFT and,
# below about 45 closes, the block sums. One thread's CPU per search, direct against block sums
# (7 Dec 2026, paired medians): 53.6 against 61.3 ms at m = 40, 53.7/54.2 at 44, 56.4/55.1 at
# 45, 51.3/41.0 at 48, 52.7/34.5 at 52 (39.1/104.3 at 20, 47.9/74.5 at 32).
DIRECT_MAX_LENGTH = 44
# Above it and up to this length, the dot products are first bounded from the closes' sums over
# aligned blocks of four (see ``block_taps``) and computed directly only where a block of
# starts may reach the best correlation; the FFT serves longer patterns, since the block sums'
# products keep growing with m where the FFT's cost does not. One thread's CPU per search, FFT
# against block sums (7 Dec 2026, paired medians): 50.3 against 43.8 ms at m = 251, 47.8/44.6 at
# 300, 50.7/49.3 at 320, 51.4/50.8 at 340, 49.9/50.5 at 360, 49.8/56.2 at 400, 49.3/62.5 at 500.
BLOCK_SUM_MAX_LENGTH = 320
THREADS = max(1, min(2, os.cpu_count() or 1))
# Rows of the first direct tasks (then BLOCK a task).
FIRST_TASKS = (8, 8, 16, 16, 32, 32)
_NO_PATTERN = np.zeros(0, dtype=np.float32)
_NO_TAPS = (np.zeros((4, 0), dtype=np.float32), 0.0, 0.0, 0.0)
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def thread_pool() -> ThreadPoolExecutor:
    """The process's pool of ``THREADS`` search threads (recreated after a fork)."""
    global _pool, _pool_pid
    # A forked child (a pre-forking web server) inherits the pool object but not its threads.
    if _pool is None or _pool_pid != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="similarity")
        _pool_pid = os.getpid()
    return _pool


def _row_stride(length: int) -> int:
    """Floats between rows of the screen's dot products: ``length`` rounded up to 64 bytes, plus
    64, so that rows never lie a power of two apart (batched FFTs whose rows do, as at lengths
    4096 or 5120, run 2.5x slower on cache-set conflicts)."""
    return -(-length // 16) * 16 + 16


@dataclass(frozen=True)
class _Plan:
    """What every block of one screen shares."""

    market: Market
    rows: np.ndarray  # series indices
    lo: np.ndarray  # first allowed start per row
    hi: np.ndarray  # last allowed start per row
    ex_ptr: np.ndarray  # forbidden starts per row, CSR: ex_lo/ex_hi[ex_ptr[t]:ex_ptr[t + 1]]
    ex_lo: np.ndarray
    ex_hi: np.ndarray
    m: int
    q32: np.ndarray  # the pattern in float32 for direct products, else empty
    direct_coef: float  # error coefficient of direct products (0: the FFT gives them)
    shape: tuple  # block_taps of the pattern, or _NO_TAPS
    pattern_spectra: dict[int, np.ndarray]  # conj(rfft(pattern)) per FFT length
    max_len: int
    max_bins: int
    width: int  # most starts of one row
    upper: np.ndarray  # out: per row
    lower: np.ndarray  # out: per row


def screen(
    market: Market,
    rows: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    ex_ptr: np.ndarray,
    ex_lo: np.ndarray,
    ex_hi: np.ndarray,
    qn: np.ndarray,
    k: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of each selected series' best correlation with the z-normalised pattern ``qn``.

    Parameters
    ----------
    market : Market
        The market searched.
    rows : numpy.ndarray of int64
        The series screened.
    lo, hi : numpy.ndarray of int64
        Per row, the first and the last window start allowed.
    ex_ptr, ex_lo, ex_hi : numpy.ndarray of int64
        Per row ``t``, the forbidden starts ``ex_lo[e]..ex_hi[e]`` for ``e`` in
        ``ex_ptr[t]..ex_ptr[t + 1] - 1``.
    qn : numpy.ndarray of float64
        The z-normalised pattern.
    k : int, optional
        The matches the search wants. Once ``k`` series' lower bounds are known, a series'
        windows that cannot reach the ``k``-th of them are not bounded one by one.

    Returns
    -------
    upper, lower : numpy.ndarray of float64
        ``upper[t]`` is at least the correlation of every window ``lo[t]..hi[t]`` of series
        ``rows[t]`` (+inf when the series must be evaluated exactly; with ``k``, below the
        ``k``-th largest ``lower`` when no window can reach it); ``lower[t]`` is at most the
        best correlation among them (-inf when unknown: the best-bounded window is excluded).
    """
    plan, tasks = _plan(market, rows, lo, hi, (ex_ptr, ex_lo, ex_hi), qn)
    local = threading.local()
    floor = _Floor(k)

    def run(task: tuple[int, np.ndarray]) -> None:
        if getattr(local, "buffers", None) is None:
            local.buffers = _Buffers(plan)
        _screen_block(plan, local.buffers, *task, floor.value)
        floor.add(plan.lower[task[1]])

    if THREADS > 1 and len(tasks) > 1:
        # Largest FFT blocks first, handed out one at a time, keep both threads busy to the end;
        # direct tasks keep their order (small first, see _direct_task_sizes).
        if tasks[0][0] != 0:
            tasks.sort(key=lambda task: -task[0] * task[1].size)
        # The calling thread takes tasks too, from the same queue (a list iterator: each next()
        # holds the GIL), instead of waiting on one future per task: it starts at once while
        # the pool's thread wakes, and no thread wakes up per task to collect a result (the
        # screen at m = 60: about 3 ms less wall clock and 4 ms less CPU of 20 and 40).
        queue = iter(tasks)

        def work() -> None:
            try:
                for task in queue:
                    run(task)
            except BaseException:
                for _ in queue:  # leave the other threads nothing more to start
                    pass
                raise

        helpers = [thread_pool().submit(work) for _ in range(THREADS - 1)]
        try:
            work()
        finally:
            for helper in helpers:
                helper.result()
    else:
        for task in tasks:
            run(task)
    return plan.upper, plan.lower


def _plan(market, rows, lo, hi, exclusions, qn) -> tuple[_Plan, list[tuple[int, np.ndarray]]]:
    """The screen's shared inputs, and its tasks: (FFT length or 0 for direct, row positions)."""
    m = qn.shape[0]
    fft_len = market.fft_len[rows]
    spec_offsets = market.spec_offsets[rows]
    pattern_spectra: dict[int, np.ndarray] = {}
    tasks = []
    shape = _NO_TAPS
    if m <= BLOCK_SUM_MAX_LENGTH:
        if m > DIRECT_MAX_LENGTH:
            shape = block_taps(qn)
        q32 = qn.astype(np.float32)
        direct_coef = direct_products_coef(q32)
        b = 0
        for size in _direct_task_sizes(rows.size):
            tasks.append((0, np.arange(b, b + size)))
            b += size
    else:
        q32 = _NO_PATTERN  # the FFT gives the dot products
        direct_coef = 0.0
        for length in np.unique(fft_len).tolist():
            pattern_spectra[length] = np.conj(scipy.fft.rfft(qn, n=length)).astype(np.complex64)
            positions = np.flatnonzero(fft_len == length)
            positions = positions[np.argsort(spec_offsets[positions], kind="stable")]
            for b in range(0, positions.size, BLOCK):
                tasks.append((length, positions[b : b + BLOCK]))
    plan = _Plan(
        market=market,
        rows=rows,
        lo=lo,
        hi=hi,
        ex_ptr=exclusions[0],
        ex_lo=exclusions[1],
        ex_hi=exclusions[2],
        m=m,
        q32=q32,
        direct_coef=direct_coef,
        shape=shape,
        pattern_spectra=pattern_spectra,
        max_len=int(market.lengths[rows].max()),
        max_bins=int(fft_len.max()) // 2 + 1,
        width=int((hi - lo).max()) + 1,
        upper=np.empty(rows.size),
        lower=np.empty(rows.size),
    )
    return plan, tasks


def direct_products_coef(q32: np.ndarray) -> float:
    """The bound of direct float32 dot products with the pattern ``q32``, per unit of the
    series' largest deviation from its mean (``max_dev``)."""
    # Float32 rounding of the pattern and of the closes, and the m-term accumulation, each at
    # most eps32/2 * sum|q| * max|x| a term.
    m = q32.shape[0]
    return kernels.EPS32 * (m + 2) * float(np.abs(q32.astype(np.float64)).sum())


def _direct_task_sizes(count: int) -> list[int]:
    """Rows per direct task: a few small tasks first, so that ``k`` lower bounds are known, and
    the screen's floor rises, after a few series rather than after a whole block on each thread
    (a block screened without a floor lets several times more blocks of starts through)."""
    sizes = []
    for size in FIRST_TASKS:
        if count > 0:
            sizes.append(min(size, count))
            count -= sizes[-1]
    while count > 0:
        sizes.append(min(BLOCK, count))
        count -= sizes[-1]
    return sizes


def block_taps(qn: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """The pattern seen by the block-sum screen: per phase ``r`` (a start ``4a + r``), the
    pattern shifted by ``r`` in whole blocks of four (zeros around it), its block means.

    Parameters
    ----------
    qn : numpy.ndarray of float64
        The z-normalised pattern.

    Returns
    -------
    taps : numpy.ndarray of float32, shape (4, width)
        Each phase's block means (``ceil((m + 3) / 4)`` blocks, then zeros up to a multiple of
        four).
    r_up : float
        At least every phase's distance from its block means (the taps as rounded).
    sum_w : float
        The largest sum of a phase's absolute taps.
    mean_err : float
        The largest sum over a phase's blocks of |its sum - 4 * its tap|: the taps' rounding.
    """
    m = qn.shape[0]
    # Blocks a phase spans, rounded up to a multiple of four (the kernel takes four at a time).
    width = -(-(m + 3) // 16) * 4
    padded = np.zeros((4, width * 4))
    for r in range(4):
        padded[r, r : r + m] = qn
    blocks = padded.reshape(4, width, 4)
    taps = (blocks.sum(axis=2) / 4.0).astype(np.float32)
    residual = blocks - taps.astype(np.float64)[:, :, None]
    r_up = float(np.sqrt((residual**2).sum(axis=(1, 2))).max()) * (1.0 + 64 * kernels.EPS32)
    sum_w = float(np.abs(taps.astype(np.float64)).sum(axis=1).max())
    mean_err = float(np.abs(residual.sum(axis=2)).sum(axis=1).max()) * (1.0 + 1e-9)
    return taps, r_up, sum_w, mean_err


class _Floor:
    """The ``k``-th largest lower bound of the series screened so far (-inf before ``k`` are
    known, or without ``k``): some ``k`` windows reach it, so no window below it is a match.
    Shared by the screen's threads; it only rises."""

    def __init__(self, k: int | None):
        self.k = k
        self.lowers = np.zeros(0)
        self.value = -np.inf
        self.lock = threading.Lock()

    def add(self, lowers: np.ndarray) -> None:
        if self.k is None:
            return
        with self.lock:
            found = np.concatenate((self.lowers, lowers[np.isfinite(lowers)]))
            if found.size >= self.k:
                found = np.partition(found, found.size - self.k)[found.size - self.k :]
                self.value = float(found.min())
            self.lowers = found


class _Buffers:
    """One thread's scratch arrays, reused by every block it screens."""

    def __init__(self, plan: _Plan):
        self.p1 = np.empty(plan.max_len + 1)
        self.p2 = np.empty(plan.max_len + 1)
        self.blocks = np.empty((4, plan.width // PREFIX_STEP + 2))
        self.product = np.empty(BLOCK * plan.max_bins, dtype=np.complex64)
        stride = _row_stride(max(plan.max_len, 2 * plan.max_bins))
        # The FFT gives a block's rows at once; direct and block-sum products need one row.
        self.prof = np.empty((BLOCK if plan.pattern_spectra else 1) * stride, np.float32)
        width = plan.shape[0].shape[1]
        if width:
            self.sums = np.empty(plan.max_len // 4 + width + 4, np.float32)
            self.phase = np.empty((5, plan.max_len // 4 + 2), np.float32)
        else:
            self.sums = np.zeros(0, np.float32)
            self.phase = np.zeros((5, 0), np.float32)


def _screen_block(
    plan: _Plan, buffers: _Buffers, length: int, pos: np.ndarray, floor: float
) -> None:
    """Screen the rows ``pos`` (of one FFT ``length``, or 0 for direct products); windows that
    cannot reach ``floor`` need no bound of their own."""
    market = plan.market
    count = pos.size
    stride = _row_stride(length or plan.max_len)
    prof = buffers.prof[: count * stride]
    if length != 0:
        _fft_dot_products(plan, buffers, length, pos, prof.reshape(count, stride)[:, :length])
    kernels.screen_rows(
        prof,
        stride,
        plan.rows[pos],
        pos,
        market.closes,
        market.closes32,
        market.offsets,
        market.prefix1,
        market.prefix2,
        market.prefix_offsets,
        market.scale,
        market.max_dev,
        plan.lo,
        plan.hi,
        plan.ex_ptr,
        plan.ex_lo,
        plan.ex_hi,
        plan.m,
        ERR_COEF,
        plan.q32,
        plan.direct_coef,
        floor,
        buffers.p1,
        buffers.p2,
        buffers.blocks,
        plan.upper,
        plan.lower,
        market.ssd_prefix,
        plan.shape,
        buffers.sums,
        buffers.phase,
    )


def _fft_dot_products(
    plan: _Plan, buffers: _Buffers, length: int, pos: np.ndarray, out: np.ndarray
) -> None:
    """The sliding dot products of the rows ``pos`` (one FFT ``length``) into ``out``."""
    market = plan.market
    pattern_spectrum = plan.pattern_spectra[length]
    bins = pattern_spectrum.shape[0]
    count = pos.size
    spec_offsets = market.spec_offsets[plan.rows[pos]]
    first = int(spec_offsets[0])
    if int(spec_offsets[-1]) - first == (count - 1) * bins:
        spectra = market.spectra[first : first + count * bins].reshape(count, bins)
    else:
        spectra = market.spectra[(spec_offsets[:, None] + np.arange(bins)).ravel()]
        spectra = spectra.reshape(count, bins)
    product = np.multiply(
        spectra, pattern_spectrum, out=buffers.product[: count * bins].reshape(count, bins)
    )
    # ducc0 (pocketfft's successor) does this inverse transform about 1.5x faster.
    ducc0.fft.c2r(product, axes=(1,), lastsize=length, forward=False, inorm=2, out=out)
