"""Walk-forward evaluation of the forecast and the verdicts, and what ``calibrate`` learns.

A past pattern (a stock's ``m`` closes ending on day ``e``) is searched only in what was known
before its first day: windows whose furthest horizon closed before it (the search's ``as_of``),
a base rate and base excess cut the same way, returns dated before it. What the stock then did is
compared with the forecast (inside its 10-90 and 25-75 ranges? its quantile score and Brier score
against the plain base rate's), with the matches' own percentiles, and with the verdict. A
date-only control keeps each match's dates and swaps in a random stock that traded then: the
verdicts it issues are what chance issues.

The forecast's parameters are themselves learned walk-forward: the patterns are cut into
calendar quarters (by their first day), and a quarter is forecast with the parameters learned
from the samples whose outcomes were known before it began, recent ones weighing more (see
:func:`.forecast.recency_weights`), as the site applies the latest calibration to today's
searches. The earliest BURN_IN share of each length's patterns is only learned from, never
scored: little or nothing was known before them. The table's intervals come from a bootstrap that
resamples calendar quarters (patterns of one quarter share its market).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .baseline import base_rate
from .baseline_index import BaselineIndex
from .buy_and_hold import ExcessSample, booked_returns, chain_returns
from .evidence import INTERVAL_LEVEL, match_episodes
from .finder import search
from .forecast import (
    LEVELS,
    ForecastParams,
    Samples,
    episode_quantiles,
    forecast_fit,
    forecast_predict,
    inside,
    probability_up,
    quantile_score,
    recency_weights,
    trailing_volatility,
)
from .pattern import normalize_pattern
from .series import Market
from .verdict import verdicts

# What a calibration run measures unless told otherwise: pattern lengths and matches per search.
CALIBRATION_LENGTHS = (20, 60, 120)
CALIBRATION_K = 30
# A pattern needs this many trading days of market history before it, or it is not drawn.
MIN_HISTORY_DAYS = 500
# The earliest share of each length's patterns, learned from and not scored.
BURN_IN = 0.1
RESAMPLES = 1000
SEED = 20261206
# The site claims that the look-alikes beat the base rate only on this many patterns or more,
# and only where the lower end of the CRPS skill's interval is above zero.
MIN_SKILL_PATTERNS = 5000
# Tries at drawing a control stock that traded on a match's last day.
_CONTROL_TRIES = 30


class _Window(NamedTuple):
    series: int
    start: int
    stop: int


@dataclass(frozen=True)
class SampleRow:
    """One past pattern at one horizon: what was known before it, and what followed."""

    series: int
    end: int
    length: int
    horizon: int
    first_day: np.datetime64
    outcome_day: np.datetime64
    realised: float
    volatility: float  # NaN: none
    base: tuple[float, ...]  # the plain base rate's five quantiles (NaN: none)
    base_up: float  # its share positive
    matches: tuple[float, ...]  # the episodes' five quantiles (NaN: too few)
    raw: tuple[float, ...]  # the matches' own percentiles, every match counted (NaN: none)
    raw_count: int
    episodes: int
    booked: int  # matches booked at their stock's last close
    verdict: str
    control_verdict: str
    realised_excess: float
    base_excess: float  # NaN: none
    control_gap: float  # control episodes' median excess minus the base's (NaN: none)


def market_calendar(market: Market) -> np.ndarray:
    """Every trading day of the market, sorted."""
    return np.unique(np.asarray(market.dates))


def draw_samples(
    market: Market,
    samples: int,
    lengths: Sequence[int],
    longest: int,
    seed: int = 0,
    min_history: int = MIN_HISTORY_DAYS,
) -> list[tuple[int, int, int]]:
    """``(series, end, length)`` of random past patterns, every close equally likely to end one,
    lengths in turn; each with ``min_history`` bars of market history before it (days of a
    daily market, weeks or months of a resampled one), its outcome ``longest`` closes later,
    and not flat."""
    if market.dates is None:
        raise ValueError("calibration needs a market with dates")
    rng = np.random.default_rng(seed)
    calendar = market_calendar(market)
    earliest = calendar[min(min_history, calendar.size - 1)]
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


def pattern_rows(
    market: Market,
    series: int,
    end: int,
    length: int,
    horizons: Sequence[int],
    *,
    k: int,
    calendar: np.ndarray,
    benchmark,
    excess: ExcessSample,
    rng: np.random.Generator,
    twins: np.ndarray | None = None,
    index: BaselineIndex | None = None,
) -> list[SampleRow]:
    """The walk-forward record of the pattern ``closes[end - length + 1 : end + 1]`` of
    ``series``, one row per horizon, searched as a search with ``as_of`` searches: windows
    ending at least the longest horizon's trading days (on the market's ``calendar``) before
    the pattern's first day, the base rate over the same windows (from ``index``, the
    snapshot's base-rate index, when given)."""
    horizons = [int(h) for h in horizons]
    closes = market.series_closes(series)
    dates = market.series_dates(series)
    first = end - length + 1
    if first < 0 or end + max(horizons) >= closes.shape[0]:
        raise ValueError("the pattern needs its closes and the longest horizon's outcome")
    cutoff = np.datetime64(dates[first], "D")
    last_end = as_of_end(calendar, cutoff, max(horizons))
    if last_end is None:
        raise ValueError("the pattern needs history before it")
    found = search(market, closes[first : end + 1], k=k, date_to=last_end)
    known = calendar[calendar < cutoff]
    returns, excess_values, booked = _known_returns(market, found, horizons, known, benchmark)
    labels = match_episodes(market, found, twins) if found else np.zeros(0, dtype=np.int64)
    control = _control(market, found, length, known, rng)
    _returns, c_excess, _booked = _known_returns(market, control, horizons, known, benchmark)
    c_labels = match_episodes(market, control) if control else np.zeros(0, dtype=np.int64)
    bases = base_rate(market, length, horizons, index=index, date_to=last_end)
    base_excess = excess.medians(length, horizons, date_to=last_end, outcome_before=cutoff)
    own = [_episodes(excess_values[:, j], labels) for j in range(len(horizons))]
    theirs = [_episodes(c_excess[:, j], c_labels) for j in range(len(horizons))]
    judged, control_judged = verdicts(own, base_excess), verdicts(theirs, base_excess)
    volatility = trailing_volatility(closes[: end + 1])
    realised_excess = chain_returns(
        benchmark, dates[[end] * len(horizons)], dates[[end + h for h in horizons]]
    )
    out = []
    for j, h in enumerate(horizons):
        values = returns[:, j][~np.isnan(returns[:, j])]
        episode_values = _episodes(returns[:, j], labels)
        base = bases[j]
        centre = base_excess[j]
        out.append(
            SampleRow(
                series=int(series),
                end=int(end),
                length=int(length),
                horizon=h,
                first_day=cutoff,
                outcome_day=np.datetime64(dates[end + h], "D"),
                realised=float(closes[end + h] / closes[end] - 1.0),
                volatility=np.nan if volatility is None else volatility,
                base=tuple(
                    np.nan if v is None else float(v)
                    for v in (base.p10, base.q25, base.median, base.q75, base.p90)
                ),
                base_up=np.nan if base.share_positive is None else float(base.share_positive),
                matches=tuple(float(v) for v in episode_quantiles(episode_values)),
                raw=tuple(float(v) for v in np.percentile(values, LEVELS * 100))
                if values.size
                else (np.nan,) * LEVELS.size,
                raw_count=int(values.size),
                episodes=int(episode_values.size),
                booked=int(booked[:, j].sum()),
                verdict=judged[j],
                control_verdict=control_judged[j],
                realised_excess=float(closes[end + h] / closes[end] - 1.0 - realised_excess[j]),
                base_excess=np.nan if centre is None else centre,
                control_gap=np.nan
                if centre is None or theirs[j].size == 0
                else float(np.median(theirs[j]) - centre),
            )
        )
    return out


def as_of_end(calendar: np.ndarray, first_day, longest: int):
    """The last day a window may end on to be known on ``first_day`` at the ``longest``
    horizon: ``longest`` trading days (of the market's ``calendar``) before it; None when the
    calendar does not reach back that far."""
    position = int(np.searchsorted(calendar, np.datetime64(first_day, "D"))) - 1 - int(longest)
    return calendar[position] if position >= 0 else None


def _episodes(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`.evidence.collapse` (one median per episode, NaN members ignored, empty episodes
    dropped) by one sort instead of a median per episode."""
    ok = ~np.isnan(values)
    values, labels = values[ok], labels[ok]
    if values.size == 0:
        return np.zeros(0)
    order = np.lexsort((values, labels))
    values, labels = values[order], labels[order]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    sizes = np.diff(np.r_[starts, values.size])
    low = values[starts + (sizes - 1) // 2]
    high = values[starts + sizes // 2]
    return (low + high) / 2.0


def _known_returns(market, matches, horizons, known: np.ndarray, benchmark):
    """Returns (delisted matches booked at their last close), excess returns and the booked
    mask, with every outcome dated after the last ``known`` day left out (NaN)."""
    returns, booked = booked_returns(market, matches, horizons, known)
    if not len(matches) or known.size == 0:
        nothing = np.full(returns.shape, np.nan)
        return nothing, nothing.copy(), booked & False
    offsets = np.asarray(market.offsets)
    dates = np.asarray(market.dates)
    series = np.array([match.series for match in matches])
    end = offsets[series] + np.array([match.stop for match in matches]) - 1
    later = np.minimum(end[:, None] + np.asarray(horizons)[None, :], offsets[series + 1, None] - 1)
    returns[dates[later] > known[-1]] = np.nan
    start = np.broadcast_to(dates[end][:, None], later.shape)
    excess = returns - chain_returns(benchmark, start, dates[later])
    return returns, excess, booked & ~np.isnan(returns)


def _control(market: Market, matches, length: int, known: np.ndarray, rng) -> list[_Window]:
    """Per match, a random series that had closed on the match's last day (with ``length``
    closes by then), over the same days; a match with no such series drawn is left out."""
    out = []
    if market.dates is None:
        return out
    offsets = np.asarray(market.offsets)
    dates = np.asarray(market.dates)
    for match in matches:
        day = dates[offsets[match.series] + match.stop - 1]
        for _try in range(_CONTROL_TRIES):
            s = int(rng.integers(0, len(market)))
            own = dates[offsets[s] : offsets[s + 1]]
            i = int(np.searchsorted(own, day))
            if i < own.size and own[i] == day and i >= length - 1:
                out.append(_Window(s, i - length + 1, i + 1))
                break
    return out


def samples_of(rows: Sequence[SampleRow]) -> Samples:
    """The forecast's view of the rows."""
    return Samples(
        length=np.array([r.length for r in rows], dtype=np.int64),
        horizon=np.array([r.horizon for r in rows], dtype=np.int64),
        base=np.array([r.base for r in rows], dtype=np.float64).reshape(-1, LEVELS.size),
        matches=np.array([r.matches for r in rows], dtype=np.float64).reshape(-1, LEVELS.size),
        volatility=np.array([r.volatility for r in rows], dtype=np.float64),
        realised=np.array([r.realised for r in rows], dtype=np.float64),
    )


def usable(rows: Sequence[SampleRow]) -> list[SampleRow]:
    """The rows with a base rate to forecast from."""
    return [r for r in rows if np.isfinite(r.base).all() and np.isfinite(r.base_up)]


def walk_forward_predict(
    rows: Sequence[SampleRow], lengths, horizons, folds: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's forecast quantiles and matches' weight, from parameters learned only on rows
    whose outcome was dated before the row's fold began, weighted by their recency then: one
    fold per calendar quarter of the patterns' first days (``folds``: that many folds of equal
    size instead). A fold with nothing learned before it gets the plain base rate."""
    samples = samples_of(rows)
    first = np.array([r.first_day for r in rows], dtype="datetime64[D]")
    outcome = np.array([r.outcome_day for r in rows], dtype="datetime64[D]")
    order = np.argsort(first, kind="stable")
    if folds is None:
        quarter = np.array([_quarter(day) for day in first[order]], dtype=np.int64)
        chunks = np.split(order, np.flatnonzero(np.diff(quarter)) + 1)
    else:
        chunks = np.array_split(order, folds)
    quantiles = np.empty_like(samples.base)
    weights = np.zeros(len(rows))
    for chunk in chunks:
        if chunk.size == 0:
            continue
        start = first[chunk].min()
        training = np.flatnonzero(outcome < start)
        if training.size:
            recency = recency_weights(outcome[training], start)
            params = forecast_fit(samples.subset(training), lengths, horizons, recency)
        else:
            params = ForecastParams.neutral(lengths, horizons)
        quantiles[chunk], weights[chunk] = forecast_predict(params, samples.subset(chunk))
    return quantiles, weights


def scored(rows: Sequence[SampleRow], burn_in: float = BURN_IN) -> np.ndarray:
    """Which rows the table scores: all but those of the earliest ``burn_in`` share of each
    length's patterns (by first day), which are only learned from."""
    keys = [(r.series, r.end, r.length) for r in rows]
    firsts: dict[int, dict[tuple, np.datetime64]] = {}
    for key, r in zip(keys, rows, strict=True):
        firsts.setdefault(r.length, {})[key] = r.first_day
    dropped: set[tuple] = set()
    for days in firsts.values():
        ordered = sorted(days, key=lambda key: (days[key], key))
        dropped.update(ordered[: int(len(ordered) * burn_in)])
    return np.array([key not in dropped for key in keys], dtype=bool)


def calibration_draws(samples: int, burn_in: float = BURN_IN) -> int:
    """How many patterns to draw so that ``samples`` are scored after the burn-in."""
    return int(np.ceil(samples / (1.0 - burn_in)))


def final_recency(rows: Sequence[SampleRow]) -> np.ndarray:
    """The recency weights of the parameters a calibration stores: as of its last outcome."""
    outcome = np.array([r.outcome_day for r in rows], dtype="datetime64[D]")
    return recency_weights(outcome, outcome.max()) if outcome.size else np.zeros(0)


def calibration_table(
    rows: Sequence[SampleRow], quantiles: np.ndarray, params: ForecastParams
) -> dict:
    """Per length x horizon x volatility third (and over all thirds, and per horizon x third and
    per horizon over every length), the coverage, skill and verdict figures with their
    intervals (see module doc)."""
    samples = samples_of(rows)
    quarter = np.array([_quarter(r.first_day) for r in rows], dtype=np.int64)
    _, cluster = np.unique(quarter, return_inverse=True)
    third = np.array([params.third(v if np.isfinite(v) else None) for v in samples.volatility])
    figures = _figures(rows, samples, quantiles)
    boot = _Bootstrap(cluster, RESAMPLES, SEED)
    cells = []
    for h in sorted({r.horizon for r in rows}):
        for m in [*sorted({r.length for r in rows}), None]:
            for t in (None, 0, 1, 2):
                keep = (samples.horizon == h) & (True if m is None else samples.length == m)
                keep = keep & (True if t is None else third == t)
                if keep.any():
                    cells.append(_cell(m, h, t, keep, figures, boot))
    return {
        "cells": cells,
        "horizons": [
            _horizon_summary(h, figures, samples, boot) for h in sorted({*samples.horizon})
        ],
        "verdicts_any": _any_horizon(rows),
    }


def _quarter(day: np.datetime64) -> int:
    month = np.datetime64(day, "M").astype(np.int64)
    return int(month // 3)


def _figures(rows, samples: Samples, quantiles: np.ndarray) -> dict[str, np.ndarray]:
    realised = samples.realised
    raw = np.array([r.raw for r in rows], dtype=np.float64).reshape(-1, LEVELS.size)
    has_raw = np.isfinite(raw).all(axis=1)
    raw_filled = np.where(has_raw[:, None], raw, 0.0)
    matches = np.array([r.matches for r in rows], dtype=np.float64).reshape(-1, LEVELS.size)
    has_matches = np.isfinite(matches).all(axis=1)
    base_up = np.array([r.base_up for r in rows])
    up = (realised > 0).astype(float)
    count = np.array([r.raw_count for r in rows], dtype=float)
    fired = np.array([r.verdict in ("above", "below") for r in rows])
    control = np.array([r.control_verdict in ("above", "below") for r in rows])
    base_excess = np.array([r.base_excess for r in rows])
    beyond = np.array([r.realised_excess for r in rows]) > base_excess
    return {
        "inside_80": inside(quantiles, realised, 0).astype(float),
        "inside_50": inside(quantiles, realised, 1).astype(float),
        "raw_inside_80": np.where(has_raw, inside(raw_filled, realised, 0), np.nan),
        "raw_inside_50": np.where(has_raw, inside(raw_filled, realised, 1), np.nan),
        # The best a percentile band of n draws can do: E[F(q_hi) - F(q_lo)] = width (n-1)/(n+1).
        "raw_ideal_80": np.where(has_raw, 0.8 * (count - 1) / (count + 1), np.nan),
        "raw_ideal_50": np.where(has_raw, 0.5 * (count - 1) / (count + 1), np.nan),
        "score": quantile_score(quantiles, realised),
        "base_score": quantile_score(samples.base, realised),
        "matches_score": np.where(
            has_matches, quantile_score(np.nan_to_num(matches), realised), np.nan
        ),
        "brier": (probability_up(quantiles) - up) ** 2,
        "base_brier": (base_up - up) ** 2,
        "fired": fired.astype(float),
        "hit": np.where(fired, (np.array([r.verdict for r in rows]) == "above") == beyond, np.nan),
        "control_fired": control.astype(float),
        "control_hit": np.where(
            control, (np.array([r.control_verdict for r in rows]) == "above") == beyond, np.nan
        ),
        "control_gap": np.array([r.control_gap for r in rows]),
        "booked": np.array([r.booked for r in rows], dtype=float),
    }


class _Bootstrap:
    """Cluster bootstrap: each resample draws the clusters (quarters) with replacement; a
    statistic's interval is the percentile interval of its resampled values."""

    def __init__(self, cluster: np.ndarray, resamples: int, seed: int):
        self.cluster = cluster
        clusters = int(cluster.max()) + 1 if cluster.size else 0
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, max(clusters, 1), size=(resamples, clusters))
        self.weights = np.zeros((resamples, clusters))
        for b in range(resamples):
            self.weights[b] = np.bincount(draws[b], minlength=clusters)

    def ratio(self, numerator: np.ndarray, denominator: np.ndarray, keep: np.ndarray):
        """``sum(numerator) / sum(denominator)`` over ``keep`` (NaN rows left out), and its
        interval; None values where the denominator is zero."""
        ok = keep & ~np.isnan(numerator) & ~np.isnan(denominator)
        if not ok.any() or denominator[ok].sum() == 0:
            return None, None, 0
        clusters = self.weights.shape[1]
        num = np.bincount(self.cluster[ok], weights=numerator[ok], minlength=clusters)
        den = np.bincount(self.cluster[ok], weights=denominator[ok], minlength=clusters)
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = (self.weights @ num) / (self.weights @ den)
        draws = draws[np.isfinite(draws)]
        tail = (1 - INTERVAL_LEVEL) / 2 * 100
        interval = np.percentile(draws, (tail, 100 - tail)).tolist() if draws.size else None
        return float(num.sum() / den.sum()), interval, int(ok.sum())

    def share(self, values: np.ndarray, keep: np.ndarray):
        return self.ratio(values, np.ones_like(values), keep)

    def skill(self, score: np.ndarray, reference: np.ndarray, keep: np.ndarray):
        """``1 - sum(score) / sum(reference)`` and its interval."""
        ok = keep & ~np.isnan(score) & ~np.isnan(reference)
        value, interval, count = self.ratio(score, reference, ok)
        if value is None:
            return None, None, 0
        flipped = None if interval is None else [1 - interval[1], 1 - interval[0]]
        return 1 - value, flipped, count


def _rounded(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [round(float(v), 4) for v in value]
    return round(float(value), 4)


def _cell(m, h, t, keep, figures, boot: _Bootstrap) -> dict:
    out = {"length": m, "horizon": int(h), "third": t, "count": int(keep.sum())}
    for name in ("inside_80", "inside_50", "raw_inside_80", "raw_inside_50"):
        value, interval, _n = boot.share(figures[name], keep)
        out[name], out[f"{name}_interval"] = _rounded(value), _rounded(interval)
    for name in ("raw_ideal_80", "raw_ideal_50"):
        values = figures[name][keep]
        values = values[~np.isnan(values)]
        out[name] = _rounded(values.mean()) if values.size else None
    out.update(_skills(keep, figures, boot))
    out.update(_verdict_figures(keep, figures, boot))
    return out


def _skills(keep, figures, boot: _Bootstrap) -> dict:
    out = {}
    pairs = (
        ("crps_skill", "score", "base_score"),
        ("matches_crps_skill", "matches_score", "base_score"),
        ("brier_skill", "brier", "base_brier"),
    )
    for name, score, reference in pairs:
        value, interval, count = boot.skill(figures[score], figures[reference], keep)
        out[name], out[f"{name}_interval"] = _rounded(value), _rounded(interval)
        out[f"{name}_count"] = count
    return out


def _verdict_figures(keep, figures, boot: _Bootstrap) -> dict:
    out = {}
    for prefix in ("", "control_"):
        fired, _interval, _n = boot.share(figures[f"{prefix}fired"], keep)
        hit, hit_interval, hits = boot.share(figures[f"{prefix}hit"], keep)
        out[f"{prefix}fired"] = _rounded(fired)
        out[f"{prefix}verdicts"] = hits
        out[f"{prefix}hit"] = _rounded(hit)
        out[f"{prefix}hit_interval"] = _rounded(hit_interval)
    gaps = figures["control_gap"][keep]
    gaps = gaps[~np.isnan(gaps)]
    out["control_gap_median"] = _rounded(np.median(gaps)) if gaps.size else None
    out["booked"] = int(np.nansum(figures["booked"][keep]))
    return out


def _horizon_summary(h, figures, samples: Samples, boot: _Bootstrap) -> dict:
    """Per horizon over every length: the skills, and whether the look-alikes may be said to
    beat the base rate (the matches' CRPS skill interval above zero on enough patterns)."""
    keep = samples.horizon == h
    out = {"horizon": int(h), "count": int(keep.sum())}
    out.update(_skills(keep, figures, boot))
    interval = out["matches_crps_skill_interval"]
    out["matches_beat_base"] = bool(
        interval is not None
        and interval[0] > 0
        and out["matches_crps_skill_count"] >= MIN_SKILL_PATTERNS
    )
    return out


def _any_horizon(rows: Sequence[SampleRow]) -> dict:
    """The share of patterns with a verdict on at least one horizon, and of the control's."""
    by_pattern: dict[tuple, list[SampleRow]] = {}
    for r in rows:
        by_pattern.setdefault((r.series, r.end, r.length), []).append(r)
    fired = [any(r.verdict in ("above", "below") for r in group) for group in by_pattern.values()]
    control = [
        any(r.control_verdict in ("above", "below") for r in group) for group in by_pattern.values()
    ]
    return {
        "patterns": len(by_pattern),
        "fired": _rounded(np.mean(fired)) if fired else None,
        "control_fired": _rounded(np.mean(control)) if control else None,
    }
