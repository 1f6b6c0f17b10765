"""A search's result: its schema (what SavedSearch.result holds) and the one builder of it.

Numbers are plain floats; dates are ISO strings. Returns are fractions (0.05 is +5%); paths are
ratios to the close at the match's last bar (1.0 at day 0). A value that does not exist (a
horizon past the end of the data) is null. Mini charts: `pattern.normalized` (z-normalised
pattern, length m), and per match `window` (the matched closes z-normalised the same way,
length m) followed by `after` (the next closes on the same scale, up to the longest horizon):
draw window + after on one axis, the pattern over the window, and shade `after`.

The API answers with this shape through the output serializers in `similarity/serializers.py`.
"""

import datetime as dt
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import numpy as np
from django.utils.translation import gettext_lazy as _
from threadpoolctl import ThreadpoolController

from similarity.engine import Market, Match, Outcomes, normalize_pattern, outcomes
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
    window: list[float]  # z-normalised closes of the window (resampled to m with stretch)
    after: list[float]  # closes after the window on the window's scale (history mode)
    last_close: float  # split-adjusted close on end_date
    latest_close: NotRequired[float]  # latest mode: the stock's latest price...
    latest_date: NotRequired[str]  # ...and its date


class HorizonStats(TypedDict):
    horizon: int
    count: int  # matches with a return at this horizon
    mean: float | None
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None  # 0..1


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
    message: str  # for display, e.g. "Matches capped at 10 on the Free plan."


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
    snapshot: SnapshotInfo
    elapsed_ms: float  # from the request's start to the result built


@dataclass(frozen=True)
class ResolvedPattern:
    """The prices searched, with where they came from."""

    values: np.ndarray
    label: str
    code: str | None = None
    name: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@functools.cache
def _threadpools() -> ThreadpoolController:
    import sklearn.cluster  # noqa: F401  (loads the OpenMP runtime, so that limits reach it)

    return ThreadpoolController()


def limit_applied(code: str, message) -> LimitApplied:
    return {"code": code, "message": str(message)}


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
) -> SearchResult:
    """The result of a search from the engine's matches; `started` is a perf_counter() value."""
    summary = None
    if mode == "history" and found:
        # Scenario clustering (scikit-learn) on one OpenMP thread: with several web workers per
        # core, a thread team per request spins and waits; one thread is 10x faster under load.
        with _threadpools().limit(limits=1):
            summary = outcomes(market, found, horizons)
    after = 0 if mode == "latest" else horizons[-1]
    matches = [
        _match_result(market, universe, match, rank, pattern.values.size, after, horizons, summary)
        for rank, match in enumerate(found, start=1)
    ]
    groups = _groups(summary)
    return {
        "mode": mode,
        "pattern": _pattern_info(pattern, source),
        "horizons": horizons,
        "matches": matches,
        "stats": _stats(summary),
        "fan": _fan(summary),
        "groups": groups,
        "groups_horizon": horizons[-1] if groups else None,
        "limits": limits,
        "snapshot": {
            "id": snapshot_id,
            "date": snapshot_date.isoformat() if snapshot_date else None,
        },
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }


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
    summary: Outcomes | None,
) -> MatchResult:
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
        "correlation": _round(match.correlation),
        "distance": _round(match.distance),
        "returns": {},
        "window": window,
        "after": following,
        "last_close": float(closes[end]),
    }
    if summary is not None:
        item["returns"] = {
            str(h): None if value is None else _round(value)
            for h, value in zip(horizons, summary.returns[rank - 1], strict=True)
        }
    else:
        item["latest_close"] = float(closes[-1])
        item["latest_date"] = str(dates[-1])
    return item


def _stats(summary: Outcomes | None) -> list[HorizonStats]:
    if summary is None:
        return []
    return [
        {
            "horizon": stat.horizon,
            "count": stat.count,
            **{
                name: None if getattr(stat, name) is None else _round(getattr(stat, name))
                for name in ("mean", "median", "q25", "q75", "share_positive")
            },
        }
        for stat in summary.stats
    ]


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
    return [
        {
            "label": str(_group_label(group.median_return)),
            "share": _round(group.share),
            "count": group.count,
            "median_path": _rounded(group.median_path),
            "median_return": _round(group.median_return),
            "ranks": [member + 1 for member in group.members],
        }
        for group in summary.groups
    ]


def _mini_chart(closes, start: int, stop: int, m: int, after: int) -> tuple[list, list]:
    """The window z-normalised, and what followed on the same scale, resampled to m if stretched."""
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
    return _rounded(shown[:m]), _rounded(shown[m:])


def _group_label(median_return: float):
    if median_return >= 0.05:
        return _("Rally")
    if median_return >= 0:
        return _("Drift up")
    if median_return > -0.05:
        return _("Drift down")
    return _("Decline")


def _round(value: float) -> float:
    return round(float(value), 6)


def _rounded(values) -> list[float]:
    return np.round(np.asarray(values, dtype=np.float64), 4).tolist()
