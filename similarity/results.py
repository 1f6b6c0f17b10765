"""A search's result: its schema (what SavedSearch.result holds) and the one builder of it.

Numbers are plain floats; dates are ISO strings. Returns are fractions (0.05 is +5%); paths are
ratios to the close at the match's last bar (1.0 at day 0). A value that does not exist (a
horizon past the end of the data) is null. Mini charts: `pattern.normalized` (z-normalised
pattern, length m), and per match `window` (the matched closes z-normalised the same way,
length m) followed by `after` (the next closes on the same scale, up to the longest horizon):
draw window + after on one axis, the pattern over the window, and shade `after`. Beyond
MINI_CHART_POINTS in all, window and after are evenly thinned on one spacing (a chart 168 pixels
wide needs no more; the closes themselves are at /api/v1/stocks/<code>/bars/).

The API answers with this shape through the output serializers in `similarity/serializers.py`.
"""

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import numpy as np

from similarity.engine import HorizonStats as EngineStats
from similarity.engine import Market, Match, Outcomes, forward_returns, normalize_pattern
from similarity.engine.evidence import Benchmark, Excess
from similarity.limits import MINI_CHART_POINTS
from similarity.result_stats import (
    ForecastInput,
    HistoryStatistics,
    history_statistics,
    result_warnings,
    round_value,
)
from similarity.result_texts import SCENARIO_LETTERS, limit_message, scenario_name
from similarity.selectors import Universe
from similarity.validation import Mode


class PatternInfo(TypedDict):
    source: Literal["stock", "prices", "sketch"]
    length: int  # m
    values: list[float]  # the prices searched (split-adjusted closes for a stock)
    normalized: list[float]  # z-normalised values, for the mini charts
    code: str | None  # stock source only
    name: str | None
    start_date: str | None
    end_date: str | None


class MatchResult(TypedDict):
    rank: int  # 1 = closest
    code: str
    name: str
    segment: str
    sector: str
    start_date: str  # first close of the window
    end_date: str  # last close of the window
    length: int  # closes in the window (differs from m only with stretch)
    correlation: float  # Pearson r = 1 - distance^2 / (2 * length)
    distance: float  # z-normalised Euclidean distance
    returns: dict[str, float | None]  # {"5": 0.031, "20": -0.02, "60": null}: by horizon
    # The next two, like the base-rate fields of HorizonStats, are absent from searches saved
    # before base rates existed.
    excess_returns: NotRequired[dict[str, float | None]]  # minus the market over the same days
    # The market those were measured against (null when none could be): TOPIX where its levels
    # cover the days, else the equal-weighted market. Absent from searches saved before it.
    excess_benchmark: NotRequired[Literal["TOPIX", "equal_weighted"] | None]
    episode: NotRequired[int]  # 1, 2, ...: matches of one market episode share it, count once
    # History mode: the stock's last trading day when it stopped trading before a horizon and
    # a return was booked at that last close; absent otherwise.
    stopped_trading: NotRequired[str]
    window: list[float]  # z-normalised closes of the window (resampled to m with stretch; thinned)
    after: list[float]  # closes after the window on the window's scale (history mode)
    last_close: float  # split-adjusted close on end_date
    latest_close: NotRequired[float]  # latest mode: the stock's latest price...
    latest_date: NotRequired[str]  # ...and its date


class Distribution(TypedDict):
    count: int
    mean: float | None
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None  # 0..1
    p10: NotRequired[float | None]  # baseline only: its 10-90 band, drawn behind the fan
    p90: NotRequired[float | None]
    # baseline only: the median excess return (minus the market's over the same days) of every
    # window that could have been a match, what the verdict compares the episodes' with
    excess_median: NotRequired[float | None]


class Interval(TypedDict):
    # [lo, hi]: evidence.INTERVAL_LEVEL bootstrap interval, with result_stats.MIN_EPISODES
    # episodes or more (null below)
    median: list[float] | None
    share_positive: list[float] | None  # [lo, hi]: the same for the share positive
    range: NotRequired[list[float] | None]  # [min, max] of the episodes when too few to bootstrap


class Forecast(TypedDict):
    """The calibrated predictive range at a horizon (returns as fractions): the base rate scaled
    to the pattern's volatility, moved toward the episodes by matches_weight (learned), widened
    by split-conformal factors (engine.forecast). A forecast, unlike the matches' figures."""

    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    matches_weight: float  # 0..1: how far the forecast moved toward the episodes' quantiles


class HorizonStats(TypedDict):
    horizon: int
    count: int  # independent episodes with a return at this horizon (each counted once)
    matches: NotRequired[int]  # matches with a return at this horizon
    mean: float | None  # the statistics are over episodes: one value (the median) each
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None  # 0..1
    baseline: NotRequired[Distribution]  # every window that could have been a match
    excess: NotRequired[Distribution]  # the episodes' returns minus the market's, same days
    interval: NotRequired[Interval]
    # The episodes' excess returns against the base rate's median excess (sign test, Holm over
    # the horizons); "insufficient" below verdicts.MIN_VERDICT_EPISODES episodes.
    verdict: NotRequired[Literal["above", "below", "indistinguishable", "insufficient"]]
    booked: NotRequired[int]  # matches whose stock stopped trading, booked at its last close
    forecast: NotRequired[Forecast | None]  # null before the first calibration


class FanChart(TypedDict):
    horizon: int  # days shown: the longest horizon applied
    days: list[int]  # 0..horizon
    count: int  # matches whose complete path entered the bands
    bands: dict[str, list[float]]  # {"p10": [...], "p25", "p50", "p75", "p90"}, ratios, 1.0 at 0


class ScenarioGroup(TypedDict):
    label: str  # "Rally", "Drift up", "Sideways", "Decline" ... for display
    share: float  # 0..1 of the grouped matches
    count: int
    median_path: list[float]  # ratios, 0..horizon
    median_return: float  # at the horizon
    ranks: list[int]  # the matches (MatchResult.rank) in the group


class LimitApplied(TypedDict):
    code: Literal["k_capped", "history_limited", "first_horizon_only"]
    message: str  # for display, e.g. "Matches capped at 10 on the Free plan." (search's language)
    # The message's numbers, so that a page in either language can say it (result_texts.py);
    # absent from searches saved before them.
    params: NotRequired[dict[str, str | int]]


class ForecastModelInfo(TypedDict):
    version: int  # the ForecastModel applied
    data_date: str | None  # the last trading day of the data it was learned on
    demo: bool  # learned from the demo market's smaller sample


class SnapshotInfo(TypedDict):
    id: str
    date: str | None  # the last trading day in the data searched


class SearchResult(TypedDict):
    mode: Mode
    pattern: PatternInfo
    horizons: list[int]  # horizons applied (Free: the first only)
    matches: list[MatchResult]
    stats: list[HorizonStats]  # one per applied horizon; [] in latest mode
    fan: FanChart | None  # None in latest mode or with no complete path
    groups: list[ScenarioGroup]  # scenario groups for the longest applied horizon; may be []
    groups_horizon: int | None
    limits: list[LimitApplied]  # the plan limits that changed this search
    # What excess_returns are measured against: "mixed" when some matches predate the stored
    # TOPIX and were measured against the equal-weighted market. None in latest mode.
    market_benchmark: Literal["TOPIX", "equal_weighted", "mixed"] | None
    warnings: list[Literal["few_matches", "weak_matches"]]  # fewer than result_stats.MIN_EPISODES;
    # median correlation below WEAK_CORRELATION
    snapshot: SnapshotInfo
    elapsed_ms: float  # from the request's start to the result built
    # With the same_period option only: windows overlapping the pattern's own days (the market at
    # that time, for context), ranked on their own, with returns but no episode or excess return,
    # counted nowhere (stats, fan, groups, warnings, base rate). Empty without a stock's range in
    # history mode. See similarity.same_period.
    same_period: NotRequired[list[MatchResult]]
    # History mode: the forecast model applied to stats[i].forecast (null: none learned yet).
    forecast_model: NotRequired[ForecastModelInfo | None]


@dataclass(frozen=True)
class ResolvedPattern:
    """The prices searched, with where they came from."""

    values: np.ndarray
    label: str
    code: str | None = None
    name: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


def limit_applied(code: str, **params) -> LimitApplied:
    """A plan limit that changed the search, with its message and the numbers in it."""
    return {"code": code, "message": limit_message(code, params), "params": params}


def search_result_build(
    *,
    market: Market,
    universe: Universe,
    snapshot_id: str,
    snapshot_date: dt.date | None,
    pattern: ResolvedPattern,
    source: str,
    mode: Mode,
    found: Sequence[Match],
    horizons: list[int],
    limits: list[LimitApplied],
    started: float,
    baselines: list[EngineStats] | None = None,
    benchmark: Benchmark | None = None,
    same_period: Sequence[Match] | None = None,
    base_excess: list[float | None] | None = None,
    forecast: ForecastInput | None = None,
    calendar: np.ndarray | None = None,
) -> SearchResult:
    """The result of a search from the engine's matches; `started` is a perf_counter() value.

    In history mode, `baselines` are the base rates per horizon, `base_excess` their median
    excess returns, `benchmark` the market that excess returns are measured against, `forecast`
    what the forecast needs (None: no model learned yet) and
    `calendar` the market's trading days. `same_period`, when given, are the windows over the
    pattern's own days, listed apart and counted nowhere.
    """
    evidence = (
        history_statistics(
            market,
            found,
            horizons,
            baselines=baselines,
            benchmark=benchmark,
            twins=universe.twins,
            base_excess=base_excess,
            forecast=forecast,
            calendar=calendar,
        )
        if mode == "history"
        else None
    )
    summary = evidence.summary if evidence is not None else None
    stats: list[HorizonStats] = evidence.stats if evidence is not None else []
    after = 0 if mode == "latest" else horizons[-1]
    shape = (pattern.values.size, after, horizons)
    matches = _match_results(market, universe, found, *shape, _returns(evidence, found))
    if summary is not None:
        _matches_annotate(matches, evidence, horizons, market, found)
    groups = _groups(summary)
    context = _same_period_results(market, universe, same_period, shape)
    result: SearchResult = {
        "mode": mode,
        "pattern": _pattern_info(pattern, source),
        "horizons": horizons,
        "matches": matches,
        "stats": stats,
        "fan": _fan(summary),
        "groups": groups,
        "groups_horizon": horizons[-1] if groups else None,
        "limits": limits,
        "market_benchmark": _benchmark_name(evidence, benchmark),
        "warnings": result_warnings(found, stats) if mode == "history" else [],
        "snapshot": {
            "id": snapshot_id,
            "date": snapshot_date.isoformat() if snapshot_date else None,
        },
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if context is not None:
        result["same_period"] = context
    if mode == "history":
        result["forecast_model"] = forecast.model if forecast is not None else None
    return result


def _returns(evidence: HistoryStatistics | None, found: Sequence[Match]) -> list:
    """Each match's returns by horizon (None past the data; a delisted stock's booked at its
    last close); None for each in latest mode."""
    if evidence is None:
        return [None] * len(found)
    return [[None if np.isnan(v) else float(v) for v in row] for row in evidence.returns]


def _match_results(
    market: Market,
    universe: Universe,
    found: Sequence[Match],
    m: int,
    after: int,
    horizons,
    returns,
) -> list[MatchResult]:
    """The matches ranked 1, 2, ... with `returns[i]` the returns of the i-th."""
    return [
        _match_result(market, universe, match, rank, m, after, horizons, row)
        for rank, (match, row) in enumerate(zip(found, returns, strict=True), start=1)
    ]


def _same_period_results(
    market: Market, universe: Universe, found: Sequence[Match] | None, shape: tuple
) -> list[MatchResult] | None:
    """The same-period windows (None: the option is off) ranked on their own, with their returns
    (None past the data) and nothing that would count them: no episode, no excess return."""
    if found is None:
        return None
    returns = forward_returns(market, found, shape[2])
    rows = [[None if np.isnan(value) else float(value) for value in row] for row in returns]
    return _match_results(market, universe, found, *shape, rows)


def _benchmark_name(evidence, benchmark: Benchmark | None) -> str | None:
    if evidence is None or benchmark is None:
        return None
    return evidence.excess.benchmark_name(default=benchmark.name)


def _matches_annotate(
    matches: list[MatchResult],
    evidence: HistoryStatistics,
    horizons: list[int],
    market: Market,
    found: Sequence[Match],
) -> None:
    """Give each match of a history search its episode (1-based), market-relative returns, and
    the day its stock stopped trading when a return was booked at that last close."""
    excess: Excess = evidence.excess
    for t, item in enumerate(matches):
        item["episode"] = int(evidence.labels[t]) + 1
        item["excess_returns"] = {
            str(h): None if np.isnan(excess.values[t, j]) else round_value(excess.values[t, j])
            for j, h in enumerate(horizons)
        }
        item["excess_benchmark"] = excess.sources[t]
        if evidence.booked[t].any():
            item["stopped_trading"] = str(market.series_dates(found[t].series)[-1])


def _pattern_info(pattern: ResolvedPattern, source: str) -> PatternInfo:
    return {
        "source": source,
        "length": pattern.values.size,
        "values": pattern.values.tolist(),
        "normalized": _rounded(normalize_pattern(pattern.values)),
        "code": pattern.code,
        "name": pattern.name,
        "start_date": pattern.start_date.isoformat() if pattern.start_date else None,
        "end_date": pattern.end_date.isoformat() if pattern.end_date else None,
    }


def _match_result(
    market: Market,
    universe: Universe,
    match: Match,
    rank: int,
    m: int,
    after: int,
    horizons: list[int],
    returns: list[float | None] | None,
) -> MatchResult:
    """One match of the result; `returns` by horizon, None in latest mode (no past to measure)."""
    closes = market.series_closes(match.series)
    dates = market.series_dates(match.series)
    end = match.stop - 1
    window, following = _mini_chart(closes, match.start, match.stop, m, after)
    item: MatchResult = {
        "rank": rank,
        "code": match.series_id,
        "name": universe.names[match.series],
        "segment": universe.segments[match.series],
        "sector": universe.sector_names[match.series],
        "start_date": str(dates[match.start]),
        "end_date": str(dates[end]),
        "length": match.stop - match.start,
        "correlation": round_value(match.correlation),
        "distance": round_value(match.distance),
        "returns": {},
        "window": window,
        "after": following,
        "last_close": float(closes[end]),
    }
    if returns is not None:
        item["returns"] = {
            str(h): None if value is None else round_value(value)
            for h, value in zip(horizons, returns, strict=True)
        }
    else:
        item["latest_close"] = float(closes[-1])
        item["latest_date"] = str(dates[-1])
    return item


def _fan(summary: Outcomes | None) -> FanChart | None:
    if summary is None or summary.fan is None:
        return None
    return {
        "horizon": summary.fan.horizon,
        "days": summary.fan.days,
        "count": summary.fan.count,
        "bands": {name: _rounded(band) for name, band in summary.fan.bands.items()},
    }


def _groups(summary: Outcomes | None) -> list[ScenarioGroup]:
    if summary is None:
        return []
    labels = _distinct_labels([group.median_return for group in summary.groups])
    return [
        {
            "label": label,
            "share": round_value(group.share),
            "count": group.count,
            "median_path": _rounded(group.median_path),
            "median_return": round_value(group.median_return),
            "ranks": [member + 1 for member in group.members],
        }
        for group, label in zip(summary.groups, labels, strict=True)
    ]


def _mini_chart(closes, start: int, stop: int, m: int, after: int) -> tuple[list, list]:
    """The window z-normalised, and what followed on the same scale, resampled to m if stretched,
    then to at most MINI_CHART_POINTS points in all."""
    window = closes[start:stop]
    mean = window.mean()
    sd = window.std() or 1.0
    shown = (closes[start : min(stop + after, closes.size)] - mean) / sd
    length = stop - start
    if length != m:
        # A stretched match is drawn at the pattern's pace: `length` closes become `m` points.
        step = (m - 1) / (length - 1)
        positions = np.arange(shown.size) * step
        shown = np.interp(np.arange(0, positions[-1] + 1e-9), positions, shown)
    if shown.size > MINI_CHART_POINTS:
        # A 100-match search with m=500 and a 250-day horizon would store 75,000 numbers for
        # charts 168 pixels wide: keep evenly spaced points, on one spacing for both parts, so
        # the window still ends exactly where what followed begins.
        kept = max(2, round(MINI_CHART_POINTS * m / shown.size))
        step = (m - 1) / (kept - 1)
        window = np.interp(np.arange(kept) * step, np.arange(shown.size), shown)
        following = np.interp(
            m - 1 + step * np.arange(1, int((shown.size - m) / step) + 1),
            np.arange(shown.size),
            shown,
        )
        return _rounded(window), _rounded(following)
    return _rounded(shown[:m]), _rounded(shown[m:])


def _distinct_labels(median_returns: list[float]) -> list[str]:
    """A name per scenario, in English (shown translated); two that would share one are told
    apart ("Rally A", "Rally B")."""
    names = [scenario_name(value) for value in median_returns]
    out = []
    for i, name in enumerate(names):
        if names.count(name) > 1:
            name = f"{name} {SCENARIO_LETTERS[names[:i].count(name)]}"
        out.append(name)
    return out


def _rounded(values) -> list[float]:
    return np.round(np.asarray(values, dtype=np.float64), 4).tolist()
