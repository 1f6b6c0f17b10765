"""Brute-force references the engine's tests compare with: every window z-normalised explicitly,
every base-rate window enumerated, one loop at a time (as stumpy's ``tests/naive.py``).

Nothing here is fast or clever; each function is the definition in DESIGN.md written out.
"""

import math

import numpy as np


def distances(x: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Distance of every window of ``x`` to the pattern; NaN for flat windows."""
    m = len(pattern)
    q = (pattern - pattern.mean()) / pattern.std()
    if len(x) < m:
        return np.zeros(0)
    windows = np.lib.stride_tricks.sliding_window_view(x, m)
    flat = windows.max(axis=1) == windows.min(axis=1)
    sd = np.where(flat, 1.0, windows.std(axis=1))
    z = (windows - windows.mean(axis=1, keepdims=True)) / sd[:, None]
    d = np.sqrt(((z - q) ** 2).sum(axis=1))
    d[flat] = np.nan
    return d


def search(series, ids, pattern, k, mode="history", exclude=None, starts=None):
    """The greedy top-k by brute force; ``starts(s, count)``, when given, is a boolean mask of
    the window starts of series ``s`` that may be taken."""
    m = len(pattern)
    spans = {}
    for sid, start, stop in exclude or []:
        spans.setdefault(sid, []).append((start, stop))
    found = []
    for s, x in enumerate(series):
        d = distances(x, pattern)
        allowed = ~np.isnan(d)
        for start, stop in spans.get(ids[s], []):
            lo, hi = max(start - m + 1, 0), min(stop - 1, len(d) - 1)
            if lo <= hi:
                allowed[lo : hi + 1] = False
        if mode == "latest":
            allowed[: len(d) - 1] = False
        if starts is not None:
            allowed &= starts(s, len(d))
        candidates = sorted((d[i], i) for i in np.flatnonzero(allowed))
        taken = []
        for dist, i in candidates:
            if len(taken) == k:
                break
            if all(abs(i - j) > math.ceil(m / 2) for _, j in taken):
                taken.append((dist, i))
        found += [(dist, s, i) for dist, i in taken]
    found.sort()
    return found[:k]


def best_correlations(series, qn):
    """Per series, the best correlation of any window with the z-normalised ``qn`` (-inf when
    every window is flat or the series is too short)."""
    m = len(qn)
    best = []
    for x in series:
        d = distances(x, qn)
        d = d[~np.isnan(d)]
        best.append(1 - d.min() ** 2 / (2 * m) if d.size else -np.inf)
    return np.array(best)


def base_rate_returns(
    market, m, h, *, series=None, date_from=None, date_to=None, period=None, before=None
):
    """The return at ``h`` after every window of length ``m`` that a search could return:
    the series chosen, inside the dates, not touching ``period``, not flat, with its outcome
    dated before ``before``."""
    values = []
    rows = range(len(market)) if series is None else np.flatnonzero(series)
    for s in rows:
        closes = np.asarray(market.series_closes(s))
        dates = np.asarray(market.series_dates(s))
        for i in range(closes.size - m + 1):
            t = i + m - 1
            if t + h >= closes.size:
                continue
            if date_from is not None and dates[i] < np.datetime64(date_from):
                continue
            if date_to is not None and dates[t] > np.datetime64(date_to):
                continue
            if (
                period is not None
                and dates[i] <= np.datetime64(period[1])
                and dates[t] >= np.datetime64(period[0])
            ):
                continue
            if np.ptp(closes[i : t + 1]) == 0:
                continue
            if before is not None and dates[t + h] >= np.datetime64(before):
                continue
            values.append(closes[t + h] / closes[t] - 1)
    return np.asarray(values)


def latest_correlation(market, pattern, s):
    """Pearson r of the pattern with the last window of series ``s``."""
    window = market.series_closes(s)[-len(pattern) :]
    return np.corrcoef(window, pattern)[0, 1]


def period_ends(dates, interval):
    """Index of the last date of each week (Monday to Sunday, by the ISO calendar) or calendar
    month, one date at a time."""
    days = [np.datetime64(d, "D").item() for d in dates]
    if interval == "day":
        return list(range(len(days)))

    def key(day):
        if interval == "week":
            year, week, _weekday = day.isocalendar()
            return (year, week)
        return (day.year, day.month)

    return [i for i in range(len(days)) if i == len(days) - 1 or key(days[i + 1]) != key(days[i])]


def resample(series, dates, interval):
    """Per series, the closes and dates of its periods' last trading days."""
    out = []
    for closes, days in zip(series, dates, strict=True):
        ends = period_ends(days, interval)
        out.append((np.asarray(closes)[ends], np.asarray(days)[ends]))
    return out
