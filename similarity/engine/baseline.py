"""Base rates: what followed *every* window that could have been a match.

For a search of pattern length ``m`` and a horizon ``h``, the base rate is the distribution of the
forward returns ``close[t+h] / close[t] - 1`` over every window end ``t`` of the searched series
that the search could have returned: inside the date filters, not overlapping an excluded period,
not flat, with ``h`` closes after it. A pattern's matches mean something only next to it.

Counting those windows on the fly reads the whole market (18 million closes take tens of ms). A
:class:`BaselineIndex`, built once per snapshot, holds cumulative histograms of the returns at a
few horizons over blocks of the market's trading calendar (plus sums and counts of positives,
which make the mean and the share positive exact), and the same over every series' first ends
(the lead table). A query takes the histogram of the blocks inside the search's range, less the
blocks nearest the excluded period (the hole) and less the ends before each series' ``m - 1``-th
close, from a few rows of the cumulative tables, and corrects it exactly, one series at a time
but for all horizons in one pass, only where a series' allowed ends differ from that: the few
ends between a block edge and the range's or the excluded period's own first or last day, and
flat windows. Quantiles read from the histogram are
within half a bin (0.0005) of the exact ones; a quantile that falls in the open-ended first or
last bin, a horizon that was not precomputed, or a subset of the series is computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .baseline_index import MIN_FLAT_RUN, BaselineIndex, flat_runs
from .baseline_query import index_core, indexed_stats
from .outcomes import OutcomeStats, summarize
from .series import Market
from .windows import NO_DAY, as_day, period_starts, selected_series, window_ranges


@dataclass(frozen=True)
class BaseRate:
    """A base rate's statistics, one per horizon, and the horizons it counted exactly, window
    by window (the index could not answer them): what its work cost."""

    stats: list[OutcomeStats]
    exact_horizons: list[int]


def base_rate(
    market: Market,
    m: int,
    horizons,
    *,
    index: BaselineIndex | None = None,
    series=None,
    date_from=None,
    date_to=None,
    exclude_period=None,
    outcome_before=None,
) -> list[OutcomeStats]:
    """Statistics of the forward returns after every window a search could have returned:
    :func:`base_rate_counted`'s statistics."""
    return base_rate_counted(
        market,
        m,
        horizons,
        index=index,
        series=series,
        date_from=date_from,
        date_to=date_to,
        exclude_period=exclude_period,
        outcome_before=outcome_before,
    ).stats


def base_rate_counted(
    market: Market,
    m: int,
    horizons,
    *,
    index: BaselineIndex | None = None,
    series=None,
    date_from=None,
    date_to=None,
    exclude_period=None,
    outcome_before=None,
) -> BaseRate:
    """Statistics of the forward returns after every window a search could have returned, and
    the horizons counted exactly (those :func:`base_rate_exact_horizons` foresees, and any
    whose quantile fell in an open-ended bin of the index, which only the data tell).

    Parameters
    ----------
    market : Market
        The searched market (with dates when any date argument is given).
    m : int
        Pattern length: windows are ``m`` closes long, so a series' first ``m - 1`` closes end
        none.
    horizons : sequence of int
        Closes after a window's last close.
    index : BaselineIndex, optional
        The snapshot's index; without it (or for horizons it lacks, or a subset of the series)
        every window is counted exactly.
    series : array of int or bool, optional
        The series searched (as in :func:`search`); default all.
    date_from, date_to : date, optional
        Windows lying entirely inside, as in :func:`search`.
    exclude_period : (date, date), optional
        Windows overlapping these days (inclusive), in any series, are left out: the market
        moving together with the pattern is no analog of it.
    outcome_before : date, optional
        Only outcomes dated before this day count (walk-forward calibration: nothing the
        pattern's own time could not know).

    Returns
    -------
    BaseRate
        ``stats``, one per horizon: count, mean, median, quartiles (``numpy.percentile``'s
        linear rule) and share positive, None values when no window qualifies; and
        ``exact_horizons``, the horizons counted window by window.
    """

    m = int(m)
    rows = selected_series(market, series)
    lo, hi = window_ranges(market, rows, m, date_from, date_to, index)
    ex_lo, ex_hi = period_starts(market, rows, m, exclude_period, index)
    period, before = _query_days(market, exclude_period, outcome_before)
    days, closes, offsets, flats = _market_arrays(market, index)
    horizons = _positive_horizons(horizons)
    stats = [None] * len(horizons)
    if _index_serves(market, index, rows, outcome_before):
        core = index_core(index, days, offsets, rows, lo, hi, m, period)
        stats = _from_index(index, core, closes, offsets, rows, lo, hi, ex_lo, ex_hi, m, horizons)
    exact = []
    for i, h in enumerate(horizons):
        if stats[i] is None:
            where = (closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m)
            stats[i] = _exact(*where, h, before, *flats)
            exact.append(h)
    return BaseRate(stats=stats, exact_horizons=exact)


def _index_serves(market: Market, index: BaselineIndex | None, rows, outcome_before) -> bool:
    return index is not None and rows.size == len(market) and outcome_before is None


def base_rate_exact_horizons(
    market: Market,
    horizons,
    *,
    index: BaselineIndex | None = None,
    series=None,
    outcome_before=None,
) -> list[int]:
    """The horizons :func:`base_rate` counts exactly, window by window, for these arguments:
    all of them without an index, for a subset of the series or with an outcome cut; else those
    the index lacks. (A quantile that falls in an open-ended bin is also counted exactly; that
    depends on the data and is not foreseen here: :func:`base_rate_counted` reports it.) What a
    search's cost is charged on, before it runs."""
    horizons = _positive_horizons(horizons)
    rows = selected_series(market, series)
    if not _index_serves(market, index, rows, outcome_before):
        return horizons
    return [h for h in horizons if h not in index.horizons]


def _positive_horizons(horizons) -> list[int]:
    """The horizons as ints; ValueError unless each is at least one close."""
    horizons = [int(v) for v in horizons]
    if any(h < 1 for h in horizons):
        raise ValueError("horizons must be positive numbers of closes")
    return horizons


def _query_days(market: Market, exclude_period, outcome_before) -> tuple[tuple | None, int]:
    """The excluded period as ``(first, last)`` days since 1970 (None without one), and the
    day outcomes must fall before (``NO_DAY`` without a cut)."""
    period = None
    if exclude_period is not None:
        period = tuple(
            int(as_day(d, "exclude_period").astype(np.int64)) for d in exclude_period[:2]
        )
    before = NO_DAY
    if outcome_before is not None:
        if market.dates is None:
            raise ValueError("this market has no dates, so outcomes cannot be cut by date")
        before = int(as_day(outcome_before, "outcome_before").astype(np.int64))
    return period, before


def _market_arrays(market: Market, index: BaselineIndex | None):
    """The market's days (``int64``; empty without dates), closes and offsets, and its flat
    runs ``(flat_ends, flat_runs)``, from the index when there is one."""
    days = (
        np.asarray(market.dates).view(np.int64)
        if market.dates is not None
        else np.zeros(0, dtype=np.int64)
    )
    closes = np.asarray(market.closes)
    offsets = np.asarray(market.offsets)
    if index is not None:
        flats = (np.asarray(index.flat_ends), np.asarray(index.flat_runs))
    else:
        flats = flat_runs(closes, offsets, MIN_FLAT_RUN)
    return days, closes, offsets, flats


def _from_index(index, core, closes, offsets, rows, lo, hi, ex_lo, ex_hi, m, horizons) -> list:
    """Per horizon, its statistics from the index, or None where the index has no answer
    (no core, a horizon it lacks, a quantile in an open-ended bin)."""
    ready = sorted({h for h in horizons if h in index.horizons}) if core is not None else []
    found = {}
    if ready:
        found_ready = indexed_stats(
            index, core, closes, offsets, rows, lo, hi, ex_lo, ex_hi, m, ready
        )
        found = dict(zip(ready, found_ready, strict=True))
    return [found.get(h) for h in horizons]


@njit(nogil=True, cache=True)
def _collect(
    closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m, h, before, flat_ends, flat_runs, out
):
    """Every allowed window's return at ``h`` into ``out``; returns how many."""
    count = 0
    for r in range(rows.shape[0]):
        s = rows[r]
        base = offsets[s]
        n = offsets[s + 1] - base
        a = lo[r] + m - 1
        b = min(hi[r] + m - 1, n - 1 - h)
        ex_a = ex_lo[r] + m - 1
        ex_b = ex_hi[r] + m - 1
        k = np.searchsorted(flat_ends, base + a)
        for t in range(a, b + 1):
            while k < flat_ends.shape[0] and flat_ends[k] < base + t:
                k += 1
            if ex_a <= t <= ex_b:
                continue
            if before != NO_DAY and days[base + t + h] >= before:
                continue
            if k < flat_ends.shape[0] and flat_ends[k] == base + t and flat_runs[k] >= m:
                continue
            out[count] = closes[base + t + h] / closes[base + t] - 1.0
            count += 1
    return count


def _exact(closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m, h, before, flat_ends, flat_runs):
    lengths = offsets[rows + 1] - offsets[rows]
    room = int(np.maximum(np.minimum(hi + m - 1, lengths - 1 - h) - (lo + m - 1) + 1, 0).sum())
    out = np.empty(room)
    count = _collect(
        closes, offsets, days, rows, lo, hi, ex_lo, ex_hi, m, h, before, flat_ends, flat_runs, out
    )
    return summarize(out[:count], h)
