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

from .pattern import normalize_patterns
from .series import Market

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
    # Column 0 lets every series through; column i + 1 is masks[i].
    allowed = np.ones((len(market), len(masks) + 1), dtype=bool)
    for i, mask in enumerate(masks):
        allowed[:, i + 1] = np.asarray(mask, dtype=bool)
    lengths = np.fromiter((np.size(pattern) for pattern in patterns), dtype=np.int64, count=count)
    excluded: dict[int, list[tuple[int, int, int]]] = {}
    for p, s, start, stop in exclude:
        excluded.setdefault(int(p), []).append((int(s), int(start), int(stop)))
    if count == 0 or len(market) == 0:
        return _no_hits()

    found = _scan(market, patterns, lengths, thresholds, allowed, mask_of, excluded)
    return _collect(*found)


def _scan(market: Market, patterns, lengths, thresholds, allowed, mask_of, excluded):
    """The hits of every pattern, as lists of arrays: pattern, series, window start and
    correlation (arguments prepared by :func:`latest_hits`)."""
    found_p, found_s, found_i, found_r = [], [], [], []
    tails = _Tails(market, int(lengths.max()))
    for m in np.unique(lengths):
        m = int(m)
        of_length = np.flatnonzero(lengths == m)
        qn = normalize_patterns(np.stack([np.asarray(patterns[p], np.float64) for p in of_length]))
        windows, scale = tails.windows(m)
        rows = np.flatnonzero(scale > 0)
        if rows.size == 0:
            continue
        starts = tails.lengths[rows] - m
        for b in range(0, of_length.size, _PATTERN_BLOCK):
            block = of_length[b : b + _PATTERN_BLOCK]
            # The pattern's mean is 0, so the window's own mean (or any shift) drops out of the
            # dot product: only the scale m * sd of each window is needed.
            r = windows @ qn[b : b + _PATTERN_BLOCK].T
            r = r[rows]
            r /= scale[rows, None]
            hit = (r >= thresholds[block]) & allowed[rows][:, mask_of[block] + 1]
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
    return found_p, found_s, found_i, found_r


def _collect(found_p, found_s, found_i, found_r) -> LatestHits:
    """The hits found by :func:`_scan`, sorted by pattern then series."""
    if not found_p:
        return _no_hits()
    pattern = np.concatenate(found_p)
    series = np.concatenate(found_s)
    order = np.lexsort((series, pattern))
    return LatestHits(
        pattern=pattern[order],
        series=series[order],
        start=np.concatenate(found_i)[order],
        correlation=np.concatenate(found_r)[order],
    )


def _no_hits() -> LatestHits:
    empty = np.zeros(0, dtype=np.int64)
    return LatestHits(empty, empty, empty, np.zeros(0))


class _Tails:
    """The last ``longest`` closes of every series, read once: the last window of any length up
    to ``longest`` is the end of that row, and its mean and variance come from sums taken from
    the right, so that each length costs only its matrix product."""

    def __init__(self, market: Market, longest: int):
        self.lengths = market.lengths
        self.longest = longest
        ends = market.offsets[1:]
        # Rows of series shorter than ``longest`` start with copies of their first close; those
        # columns are never read (a series only has windows as long as itself).
        positions = np.maximum(
            ends[:, None] - longest + np.arange(longest), market.offsets[:-1, None]
        )
        closes = np.asarray(market.closes)[positions]
        # Relative to the last close, every value is within the window's range of 0: sums of
        # squares keep the variance's digits, and the products lose none to the price level.
        self.shifted = closes - closes[:, -1:]
        backwards = self.shifted[:, ::-1]
        self.sum1 = np.cumsum(backwards, axis=1)
        self.sum2 = np.cumsum(backwards * backwards, axis=1)
        # Trailing run of equal closes: the last window of m closes is flat when run >= m.
        changed = self.shifted[:, ::-1] != 0
        self.run = np.where(changed.any(axis=1), np.argmax(changed, axis=1), longest)

    def windows(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Every series' last m closes (shifted; a view), and m times their population standard
        deviation, 0 where the series is shorter than m or flat over them."""
        mean = self.sum1[:, m - 1] / m
        variance = np.maximum(self.sum2[:, m - 1] / m - mean * mean, 0.0)
        usable = (self.lengths >= m) & (self.run < m)
        return self.shifted[:, self.longest - m :], np.where(usable, m * np.sqrt(variance), 0.0)
