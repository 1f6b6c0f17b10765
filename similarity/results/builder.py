"""The one builder of a search's result (the shape is in `schema`)."""

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from similarity.engine import (
    Benchmark,
    Excess,
    Market,
    Match,
    Outcomes,
    OutcomeStats,
    forward_returns,
    normalize_pattern,
)
from similarity.limits import MINI_CHART_POINTS
from similarity.results.schema import (
    FanChart,
    HorizonStats,
    LimitApplied,
    MatchResult,
    PatternInfo,
    ScenarioGroup,
    SearchResult,
)
from similarity.results.statistics import (
    ForecastInput,
    HistoryStatistics,
    history_statistics,
    result_warnings,
    round_value,
)
from similarity.results.texts import SCENARIO_LETTERS, limit_message, scenario_name
from similarity.selectors import Universe
from similarity.validation import Mode


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
    baselines: list[OutcomeStats] | None = None,
    benchmark: Benchmark | None = None,
    same_period: Sequence[Match] | None = None,
    base_excess: list[float | None] | None = None,
    forecast: ForecastInput | None = None,
    calendar: np.ndarray | None = None,
    interval: str = "day",
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
        "interval": interval,
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
            item["booked"] = [h for j, h in enumerate(horizons) if evidence.booked[t, j]]


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
