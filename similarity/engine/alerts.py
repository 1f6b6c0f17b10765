"""Many patterns at once in latest mode: which series look like each pattern now.

A latest-mode search compares a pattern with one window per series, the one ending at the
series' last close. Patterns of the same length read the same windows, so each length's windows
are z-normalised once and correlated with all the patterns of that length as one matrix product
(BLAS): ``r = z_window . z_pattern / m``, which is ``1 - d²/(2m)`` of the definition, since both
vectors have squared norm ``m``. Flat windows (all closes equal) are skipped, as in the search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .finder import normalize_pattern
from .market import Market

# Patterns correlated per matrix product: bounds the (series x patterns) block of correlations
# (4,000 series x 512 patterns is 16 MB of float64).
_PATTERN_BLOCK = 512


@dataclass(frozen=True)
class LatestHits:
    """Parallel arrays, one entry per (pattern, series) pair at or above the pattern's threshold,
    sorted by pattern then series."""

    pattern: np.ndarray  # index into the patterns given
    series: np.ndarray  # series index in the market
    start: np.ndarray  # first close of the window, within the series
    correlation: np.ndarray

    def __len__(self) -> int:
        return int(self.pattern.size)


def latest_hits(
    market: Market,
    patterns: Sequence,
    thresholds,
    *,
    masks: Sequence[np.ndarray] = (),
    mask_of=None,
    exclude: Iterable[tuple[int, int, int, int]] = (),
) -> LatestHits:
    """Every series whose last window correlates with a pattern at or above its threshold.

    Parameters
    ----------
    market : Market
    patterns : sequence of 1-D arrays
        The patterns, 5 to 500 prices each (validated with :func:`normalize_pattern`, whose
        ``PatternError`` is raised for the first bad one).
    thresholds : array_like of float
        The lowest correlation that counts, one per pattern.
    masks : sequence of boolean arrays of ``len(market)``
        Series filters (segment, sector, turnover...), shared by the patterns that use them.
    mask_of : array_like of int, optional
        ``mask_of[p]`` is the index in ``masks`` of pattern ``p``'s filter, -1 for none.
    exclude : iterable of ``(pattern, series, start, stop)``
        The pattern must not match the series' window when it overlaps closes ``start:stop`` (a
        pattern taken from that series does not match itself).

    Returns
    -------
    LatestHits
    """
    count = len(patterns)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.shape != (count,):
        raise ValueError(f"{count} patterns but {thresholds.shape} thresholds")
    mask_of = (
        np.full(count, -1, dtype=np.int64) if mask_of is None else np.asarray(mask_of, np.int64)
    )
    if mask_of.shape != (count,) or np.any(mask_of >= len(masks)):
        raise ValueError("mask_of must give one index into masks (or -1) per pattern")
    mask_rows = np.asarray(masks, dtype=bool).reshape(len(masks), len(market))
    normalized = [normalize_pattern(pattern) for pattern in patterns]
    lengths = np.fromiter((q.size for q in normalized), dtype=np.int64, count=count)
    excluded: dict[int, list[tuple[int, int, int]]] = {}
    for p, s, start, stop in exclude:
        excluded.setdefault(int(p), []).append((int(s), int(start), int(stop)))

    found_p, found_s, found_i, found_r = [], [], [], []
    series_lengths = market.lengths
    for m in np.unique(lengths):
        m = int(m)
        rows, starts, z = _last_windows(market, series_lengths, m)
        if rows.size == 0:
            continue
        of_length = np.flatnonzero(lengths == m)
        for b in range(0, of_length.size, _PATTERN_BLOCK):
            block = of_length[b : b + _PATTERN_BLOCK]
            q = np.stack([normalized[p] for p in block])
            r = z @ q.T
            r /= m
            hit = r >= thresholds[block]
            for j in np.flatnonzero(mask_of[block] >= 0):
                hit[:, j] &= mask_rows[mask_of[block[j]]][rows]
            for j, p in enumerate(block):
                for s, start, stop in excluded.get(int(p), ()):
                    # Window [i, i + m) overlaps [start, stop) when start - m < i < stop.
                    t = np.searchsorted(rows, s)
                    if t < rows.size and rows[t] == s and start - m < starts[t] < stop:
                        hit[t, j] = False
            t, j = np.nonzero(hit)
            found_p.append(block[j])
            found_s.append(rows[t])
            found_i.append(starts[t])
            found_r.append(r[t, j])

    if not found_p:
        empty = np.zeros(0, dtype=np.int64)
        return LatestHits(empty, empty, empty, np.zeros(0))
    pattern = np.concatenate(found_p)
    series = np.concatenate(found_s)
    order = np.lexsort((series, pattern))
    return LatestHits(
        pattern=pattern[order],
        series=series[order],
        start=np.concatenate(found_i)[order],
        correlation=np.concatenate(found_r)[order],
    )


def _last_windows(market: Market, series_lengths: np.ndarray, m: int):
    """The series long enough for ``m`` closes that are not flat there, the start of their last
    window, and those windows z-normalised (population standard deviation), one per row."""
    rows = np.flatnonzero(series_lengths >= m)
    ends = market.offsets[rows + 1]
    windows = np.asarray(market.closes)[(ends - m)[:, None] + np.arange(m)]
    moving = windows.max(axis=1) != windows.min(axis=1)
    rows, windows = rows[moving], windows[moving]
    windows -= windows.mean(axis=1, keepdims=True)
    windows /= np.sqrt(np.mean(windows * windows, axis=1, keepdims=True))
    return rows, series_lengths[rows] - m, windows
