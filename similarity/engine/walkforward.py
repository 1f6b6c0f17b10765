"""Walk-forward calibration: does the fan hold what it promises?

A past pattern (a stock's ``m`` closes ending on day ``e``) is searched only in what was known
before the pattern began: windows whose outcome, ``h`` closes later, is dated before the
pattern's first day, and a base rate cut the same way. What the stock then did is compared with
the matches' fan (inside the 10-90 band? inside 25-75?), with the sign of the matches' median and
of the base rate's, and with the verdict. Nothing on or after the pattern's first day is read for
the prediction; only the realised outcome is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .baseline import base_rate
from .evidence import bootstrap_intervals, collapse, match_episodes, verdict
from .finder import search
from .outcomes import DEFAULT_HORIZONS
from .pattern import normalize_pattern
from .series import Market

# What a calibration run measures unless told otherwise: pattern lengths and matches per search.
CALIBRATION_LENGTHS = (20, 60, 120)
CALIBRATION_K = 30
# A pattern needs this many trading days of market history before it, or it is not drawn.
MIN_HISTORY_DAYS = 500


@dataclass(frozen=True)
class SampleOutcome:
    """One calibration sample: the prediction made before the pattern and what followed."""

    series: int
    end: int  # index of the pattern's last close in its series
    length: int
    horizon: int
    realised: float
    matches: int  # matches with an outcome at this horizon
    p10: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p90: float | None
    base_median: float | None
    verdict: str


@dataclass(frozen=True)
class CalibrationRow:
    length: int
    horizon: int
    count: int  # samples with at least 5 matches' outcomes
    inside_80: float | None  # share of outcomes inside the 10-90 band (ideal 0.8)
    inside_50: float | None  # share inside 25-75 (ideal 0.5)
    sign_hit: float | None  # share whose sign the matches' median got right
    base_sign_hit: float | None  # the same for the base rate's median
    verdicts: int  # samples with a verdict other than "indistinguishable"
    verdict_hit: float | None  # share of those whose outcome fell on the verdict's side


def sample_outcomes(
    market: Market,
    series: int,
    end: int,
    length: int,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    k: int = CALIBRATION_K,
    calendar: np.ndarray | None = None,
    twins: np.ndarray | None = None,
) -> list[SampleOutcome]:
    """The prediction for the pattern ``closes[end - length + 1 : end + 1]`` of ``series`` made
    from the data before its first day, next to the outcome at each horizon. ``twins`` pairs
    funds of one underlying into one episode, as a search does (see `evidence.episodes`).

    Matches are searched among windows ending at least the longest horizon's number of trading
    days (on the market's ``calendar``, all its days sorted) before the pattern's first day, and
    an outcome dated on or after that day is never used, even where a stock skipped days.
    """
    horizons = [int(h) for h in horizons]
    closes = market.series_closes(series)
    dates = market.series_dates(series)
    first = end - length + 1
    if first < 0 or end + max(horizons) >= closes.shape[0]:
        raise ValueError("the pattern needs its closes and the longest horizon's outcome")
    pattern = np.asarray(closes[first : end + 1])
    cutoff = np.datetime64(dates[first], "D")
    before = cutoff - np.timedelta64(1, "D")
    if calendar is None:
        calendar = market_calendar(market)
    position = int(np.searchsorted(calendar, cutoff)) - 1 - max(horizons)
    found = []
    if position >= 0:
        found = search(market, pattern, k=k, date_to=calendar[position])
    returns = _returns_before(market, found, horizons, cutoff)
    bases = base_rate(market, length, horizons, date_to=before, outcome_before=cutoff)
    labels = match_episodes(market, found, twins) if found else None
    out = []
    for j, h in enumerate(horizons):
        values = returns[:, j][~np.isnan(returns[:, j])] if found else np.zeros(0)
        bands = np.percentile(values, (10, 25, 50, 75, 90)) if values.size else [None] * 5
        interval = bootstrap_intervals(collapse(returns[:, j], labels))["median"] if found else None
        out.append(
            SampleOutcome(
                series=int(series),
                end=int(end),
                length=int(length),
                horizon=h,
                realised=float(closes[end + h] / closes[end] - 1.0),
                matches=int(values.size),
                p10=_float(bands[0]),
                p25=_float(bands[1]),
                p50=_float(bands[2]),
                p75=_float(bands[3]),
                p90=_float(bands[4]),
                base_median=bases[j].median,
                verdict=verdict(bases[j].median, interval),
            )
        )
    return out


def _float(value) -> float | None:
    return None if value is None else float(value)


def _returns_before(market: Market, matches, horizons, cutoff) -> np.ndarray:
    """Forward returns of the matches, absent when the outcome is dated on or after ``cutoff``."""
    out = np.full((len(matches), len(horizons)), np.nan)
    for t, match in enumerate(matches):
        closes = market.series_closes(match.series)
        dates = market.series_dates(match.series)
        end = match.stop - 1
        for j, h in enumerate(horizons):
            if end + h < closes.shape[0] and dates[end + h] < cutoff:
                out[t, j] = closes[end + h] / closes[end] - 1.0
    return out


def market_calendar(market: Market) -> np.ndarray:
    """Every trading day of the market, sorted."""
    return np.unique(np.asarray(market.dates))


def draw_samples(
    market: Market, samples: int, lengths: Sequence[int], longest: int, seed: int = 0
) -> list[tuple[int, int, int]]:
    """``(series, end, length)`` of random past patterns, every close equally likely to end one,
    lengths in turn; each with ``MIN_HISTORY_DAYS`` of market history before it, its outcome
    ``longest`` closes later, and not flat."""
    if market.dates is None:
        raise ValueError("calibration needs a market with dates")
    rng = np.random.default_rng(seed)
    calendar = market_calendar(market)
    earliest = calendar[min(MIN_HISTORY_DAYS, calendar.size - 1)]
    lengths_all = market.lengths
    out: list[tuple[int, int, int]] = []
    attempts = 0
    while len(out) < samples and attempts < samples * 50:
        attempts += 1
        m = int(lengths[len(out) % len(lengths)])
        flat = int(rng.integers(0, market.size))
        s = int(np.searchsorted(market.offsets, flat, side="right") - 1)
        end = flat - int(market.offsets[s])
        if end - m + 1 < 0 or end + longest >= lengths_all[s]:
            continue
        if market.series_dates(s)[end - m + 1] < earliest:
            continue
        pattern = market.series_closes(s)[end - m + 1 : end + 1]
        try:
            normalize_pattern(pattern)
        except ValueError:
            continue
        out.append((s, end, m))
    return out


def calibration_table(
    outcomes: Sequence[SampleOutcome], min_matches: int = 5
) -> list[CalibrationRow]:
    """Per length and horizon, how often the outcomes fell where the fan and verdict said."""
    rows = []
    keys = sorted({(o.length, o.horizon) for o in outcomes})
    for length, horizon in keys:
        group = [
            o
            for o in outcomes
            if o.length == length and o.horizon == horizon and o.matches >= min_matches
        ]
        decided = [o for o in group if o.verdict != "indistinguishable"]
        with_base = [o for o in group if o.base_median is not None]
        rows.append(
            CalibrationRow(
                length=length,
                horizon=horizon,
                count=len(group),
                inside_80=_share([o.p10 <= o.realised <= o.p90 for o in group]),
                inside_50=_share([o.p25 <= o.realised <= o.p75 for o in group]),
                sign_hit=_share([(o.p50 > 0) == (o.realised > 0) for o in group]),
                base_sign_hit=_share([(o.base_median > 0) == (o.realised > 0) for o in with_base]),
                verdicts=len(decided),
                verdict_hit=_share(
                    [(o.verdict == "above") == (o.realised > o.base_median) for o in decided]
                ),
            )
        )
    return rows


def _share(flags: list[bool]) -> float | None:
    return float(np.mean(flags)) if flags else None
