"""Running pattern searches: validate, resolve the pattern, apply the plan, search, save.

Entry points (pages, API and tasks call only these):

    search_run(*, user, spec: PatternSpec, options: dict) -> SavedSearch
    search_rerun(*, user, saved_search: SavedSearch) -> SavedSearch

Both raise `stocksite.api.DomainError` subclasses for bad input (400 with `fields` naming the
field), `NotFoundError` for an unknown stock code (404) and `SearchQuotaExceeded` (429).

The schema of what is stored on a SavedSearch (and answered by the API) is below.

PatternSpec (SavedSearch.spec), one of:
    {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
    {"source": "prices", "prices": [100.0, 101.5, ...]}                      5..500 numbers
    {"source": "sketch", "points": [[x, y], ...], "days": 60}
        points: the drawn line as pairs, x to the right, y UP (flip canvas coordinates);
        they are sorted by x and linearly resampled to `days` equally spaced values.

SearchOptions (SavedSearch.options): every key present after validation.

SearchResult (SavedSearch.result): see the TypedDicts. Numbers are plain floats; dates are ISO
strings. Returns are fractions (0.05 is +5%); paths are ratios to the close at the match's last
bar (1.0 at day 0). A value that does not exist (a horizon past the end of the data) is null.
Mini charts: `pattern.normalized` (z-normalised pattern, length m), and per match `window`
(the matched closes z-normalised the same way, length m) followed by `after` (the next closes on
the same scale, up to the longest horizon): draw window + after on one axis, the pattern over
the window, and shade `after`.
"""

import datetime as dt
import functools
import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import numpy as np
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from threadpoolctl import ThreadpoolController

from billing.entitlements import search_quota_consume
from market.models import DailyBar, Stock
from similarity.engine import (
    DEFAULT_HORIZONS,
    MAX_LENGTH,
    MIN_LENGTH,
    PatternError,
    normalize_pattern,
    outcomes,
    search,
)
from similarity.models import SavedSearch
from similarity.selectors import search_universe
from similarity.snapshot import snapshot_current
from stocksite.api import NotFoundError

Mode = Literal["history", "latest"]


# Functional form: "from" is a Python keyword.
StockPatternSpec = TypedDict(
    "StockPatternSpec", {"source": Literal["stock"], "code": str, "from": str, "to": str}
)


class PricesPatternSpec(TypedDict):
    source: Literal["prices"]
    prices: list[float]


class SketchPatternSpec(TypedDict):
    source: Literal["sketch"]
    points: list[list[float]]  # [[x, y], ...], y up
    days: int  # 5..500


PatternSpec = StockPatternSpec | PricesPatternSpec | SketchPatternSpec


class SearchOptions(TypedDict):
    mode: Mode  # "history" (default) or "latest"
    k: int  # matches asked for, 1..100 (default 10); the plan may cap it (see limits)
    horizons: list[int]  # trading days after a match, 1..250, sorted, unique (default 5, 20, 60)
    segment: str  # market segment such as "プライム"; "" for all
    sector: str  # 33-sector code ("3650") or name ("電気機器"); "" for all
    min_turnover: float  # minimum average daily turnover in yen (close x volume); 0 for all
    date_from: str | None  # windows starting on or after this date (ISO)
    date_to: str | None  # windows ending on or before this date (ISO)
    stretch: bool  # also search the pattern 0.8x, 0.9x, 1.1x and 1.25x as long


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
    elapsed_ms: float


class SearchInputError(exceptions.ValidationError):
    """Bad search input. `detail` maps each field to its messages, for a form or the API."""

    def __init__(self, field_name: str, message):
        super().__init__({field_name: [message]})


@dataclass(frozen=True)
class ResolvedPattern:
    values: np.ndarray
    label: str
    code: str | None = None
    name: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


# Where a pattern that the engine refuses (flat, NaN...) is reported, by source.
PATTERN_FIELD = {"stock": "from", "prices": "prices", "sketch": "points"}
OPTION_FIELDS = frozenset(SearchOptions.__annotations__)
MAX_K = 100
MAX_HORIZON = 250
MAX_HORIZONS = 5
# Beyond this, squares of deviations overflow float64 and a pattern cannot be normalised.
MAX_ABS_VALUE = 1e12


@functools.cache
def _threadpools() -> ThreadpoolController:
    import sklearn.cluster  # noqa: F401  (loads the OpenMP runtime, so that limits reach it)

    return ThreadpoolController()


@transaction.atomic
def search_run(*, user, spec: dict, options: dict) -> SavedSearch:
    """Validate, resolve the pattern, take one search from the quota, search, save."""
    started = time.perf_counter()
    spec = pattern_spec_clean(spec=spec)
    options = search_options_clean(options=options)
    pattern = _pattern_resolve(spec=spec)
    return _search_execute(
        user=user,
        spec=spec,
        options=options,
        pattern=pattern,
        rerun_of=None,
        started=started,
    )


@transaction.atomic
def search_rerun(*, user, saved_search: SavedSearch) -> SavedSearch:
    """Run a saved search again on today's data, as a new SavedSearch of the same user.

    A stock-range pattern is read again (the closes may have been adjusted for a split since);
    pasted prices and sketches reuse their values.
    """
    if saved_search.user_id != user.pk:
        raise NotFoundError(_("No saved search with this id."))
    started = time.perf_counter()
    options = search_options_clean(options=saved_search.options)
    spec = saved_search.spec
    if spec.get("source") == SavedSearch.Source.STOCK:
        pattern = _pattern_resolve(spec=pattern_spec_clean(spec=spec))
    else:
        pattern = ResolvedPattern(
            values=np.asarray(saved_search.pattern, dtype=np.float64), label=saved_search.label
        )
    return _search_execute(
        user=user,
        spec=spec,
        options=options,
        pattern=pattern,
        rerun_of=saved_search,
        started=started,
    )


# --- Input --------------------------------------------------------------------------------------


def pattern_spec_clean(*, spec: dict) -> dict:
    """The spec checked and in canonical form; SearchInputError names the bad field."""
    if not isinstance(spec, dict):
        raise SearchInputError("source", _("The pattern is missing."))
    source = spec.get("source")
    allowed = {
        "stock": {"source", "code", "from", "to"},
        "prices": {"source", "prices"},
        "sketch": {"source", "points", "days"},
    }
    if source not in allowed:
        raise SearchInputError(
            "source", _("Give a stock and a date range, a list of prices, or a sketch.")
        )
    unknown = sorted(set(spec) - allowed[source])
    if unknown:
        raise SearchInputError(unknown[0], _("This field is not allowed with this pattern."))
    if source == "stock":
        code = spec.get("code")
        if not isinstance(code, str) or not code.strip():
            raise SearchInputError("code", _("Give a stock code such as 7203."))
        start = _date_clean(spec.get("from"), "from", required=True)
        end = _date_clean(spec.get("to"), "to", required=True)
        if start > end:
            raise SearchInputError(
                "from", _("from (%(start)s) is after to (%(end)s).") % {"start": start, "end": end}
            )
        code = unicodedata.normalize("NFKC", code).strip().upper()
        return {"source": source, "code": code, "from": start.isoformat(), "to": end.isoformat()}
    if source == "prices":
        return {"source": source, "prices": _numbers_clean(spec.get("prices"), "prices")}
    points = spec.get("points")
    if not isinstance(points, list | tuple) or not points:
        raise SearchInputError("points", _("The sketch has no points: draw the pattern first."))
    if len(points) > 10_000:
        raise SearchInputError("points", _("The sketch has more than 10,000 points."))
    pairs = []
    for point in points:
        if not (
            isinstance(point, list | tuple)
            and len(point) == 2
            and all(_is_number(value) for value in point)
        ):
            raise SearchInputError(
                "points", _("Each point of a sketch is a pair of numbers [x, y].")
            )
        pairs.append([float(point[0]), float(point[1])])
    if not np.all(np.isfinite(pairs)) or np.any(np.abs(pairs) > MAX_ABS_VALUE):
        raise SearchInputError(
            "points", _("The sketch's coordinates must be finite numbers within ±1e12.")
        )
    if len({x for x, _y in pairs}) < 2:
        raise SearchInputError("points", _("The sketch needs points at two different places."))
    days = spec.get("days")
    if not _is_integer(days) or not MIN_LENGTH <= days <= MAX_LENGTH:
        raise SearchInputError(
            "days",
            _("days must be a whole number from %(low)d to %(high)d.")
            % {"low": MIN_LENGTH, "high": MAX_LENGTH},
        )
    return {"source": source, "points": pairs, "days": int(days)}


def search_options_clean(*, options: dict | None) -> dict:
    """Options checked, with every key present; SearchInputError names the bad option."""
    options = dict(options or {})
    unknown = sorted(set(options) - OPTION_FIELDS)
    if unknown:
        raise SearchInputError(unknown[0], _("Unknown option."))
    mode = options.get("mode") or "history"
    if mode not in SavedSearch.Mode.values:
        raise SearchInputError("mode", _('mode must be "history" or "latest".'))
    k = options.get("k", 10)
    if not _is_integer(k) or not 1 <= k <= MAX_K:
        raise SearchInputError(
            "k", _("k must be a whole number from 1 to %(max)d.") % {"max": MAX_K}
        )
    horizons = options.get("horizons") or list(DEFAULT_HORIZONS)
    if (
        not isinstance(horizons, list | tuple)
        or len(horizons) > MAX_HORIZONS
        or not all(_is_integer(h) and 1 <= h <= MAX_HORIZON for h in horizons)
    ):
        raise SearchInputError(
            "horizons",
            _("horizons are 1 to %(count)d whole numbers of days from 1 to %(max)d.")
            % {"count": MAX_HORIZONS, "max": MAX_HORIZON},
        )
    cleaned = {
        "mode": mode,
        "k": int(k),
        "horizons": sorted({int(h) for h in horizons}),
        "segment": _text_clean(options.get("segment"), "segment"),
        "sector": _text_clean(options.get("sector"), "sector"),
        "min_turnover": 0.0,
        "date_from": None,
        "date_to": None,
        "stretch": options.get("stretch") or False,
    }
    turnover = options.get("min_turnover") or 0
    if not _is_number(turnover) or not math.isfinite(turnover) or turnover < 0:
        raise SearchInputError(
            "min_turnover", _("min_turnover must be a number of yen, 0 or more.")
        )
    cleaned["min_turnover"] = float(turnover)
    if not isinstance(cleaned["stretch"], bool):
        raise SearchInputError("stretch", _("stretch must be true or false."))
    date_from = _date_clean(options.get("date_from"), "date_from")
    date_to = _date_clean(options.get("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise SearchInputError(
            "date_from",
            _("date_from (%(start)s) is after date_to (%(end)s).")
            % {"start": date_from, "end": date_to},
        )
    cleaned["date_from"] = date_from.isoformat() if date_from else None
    cleaned["date_to"] = date_to.isoformat() if date_to else None
    return cleaned


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _text_clean(value, field_name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 100:
        raise SearchInputError(field_name, _("Give a name of at most 100 characters."))
    return value.strip()


def _date_clean(value, field_name: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise SearchInputError(field_name, _("Give a date such as 2015-01-05."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SearchInputError(
            field_name, _("%(value)r is not a date such as 2015-01-05.") % {"value": value}
        ) from None


def _numbers_clean(values, field_name: str) -> list[float]:
    if not isinstance(values, list | tuple):
        raise SearchInputError(field_name, _("Give a list of prices."))
    if not all(_is_number(value) for value in values):
        raise SearchInputError(field_name, _("Every price must be a number."))
    if not all(math.isfinite(value) for value in values):
        raise SearchInputError(field_name, _("The prices contain NaN or infinite values."))
    if any(abs(value) > MAX_ABS_VALUE for value in values):
        raise SearchInputError(field_name, _("Every price must lie between -1e12 and 1e12."))
    if len(values) < MIN_LENGTH:
        raise SearchInputError(
            field_name,
            _("There are %(count)d prices; at least %(min)d are needed.")
            % {"count": len(values), "min": MIN_LENGTH},
        )
    if len(values) > MAX_LENGTH:
        raise SearchInputError(
            field_name,
            _("There are %(count)d prices; at most %(max)d are allowed.")
            % {"count": len(values), "max": MAX_LENGTH},
        )
    return [float(value) for value in values]


def _pattern_resolve(*, spec: dict) -> ResolvedPattern:
    source = spec["source"]
    if source == "stock":
        stock = Stock.objects.filter(code=spec["code"]).order_by("market").first()
        if stock is None:
            raise NotFoundError(_("code: no stock with code %(code)s.") % {"code": spec["code"]})
        start = dt.date.fromisoformat(spec["from"])
        end = dt.date.fromisoformat(spec["to"])
        rows = list(
            DailyBar.objects.filter(stock=stock, date__range=(start, end))
            .order_by("date")
            .values_list("date", "adj_close")
        )
        if not MIN_LENGTH <= len(rows) <= MAX_LENGTH:
            raise SearchInputError(
                "to",
                _(
                    "%(code)s has %(count)d trading days from %(start)s to %(end)s; "
                    "choose a range of %(min)d to %(max)d trading days."
                )
                % {
                    "code": stock.code,
                    "count": len(rows),
                    "start": start,
                    "end": end,
                    "min": MIN_LENGTH,
                    "max": MAX_LENGTH,
                },
            )
        values = np.array([close for _day, close in rows], dtype=np.float64)
        pattern = ResolvedPattern(
            values=values,
            label=f"{stock.code} {stock.name} {rows[0][0]} – {rows[-1][0]}",
            code=stock.code,
            name=stock.name,
            start_date=rows[0][0],
            end_date=rows[-1][0],
        )
    elif source == "prices":
        values = np.asarray(spec["prices"], dtype=np.float64)
        pattern = ResolvedPattern(
            values=values, label=str(_("%(count)d pasted prices") % {"count": values.size})
        )
    else:
        points = np.asarray(spec["points"], dtype=np.float64)
        xs, inverse = np.unique(points[:, 0], return_inverse=True)
        # Several points at one x (a vertical stroke) count as their mean.
        ys = np.bincount(inverse, weights=points[:, 1]) / np.bincount(inverse)
        values = np.interp(np.linspace(xs[0], xs[-1], spec["days"]), xs, ys)
        pattern = ResolvedPattern(
            values=values, label=str(_("Sketch over %(days)d days") % {"days": spec["days"]})
        )
    try:
        normalize_pattern(pattern.values)
    except PatternError as exc:
        raise SearchInputError(PATTERN_FIELD[source], str(exc)) from exc
    return pattern


# --- Search -------------------------------------------------------------------------------------


def _search_execute(
    *,
    user,
    spec: dict,
    options: dict,
    pattern: ResolvedPattern,
    rerun_of: SavedSearch | None,
    started: float,
) -> SavedSearch:
    snapshot = snapshot_current()
    market = snapshot.market
    universe = search_universe(snapshot_id=snapshot.id, series_ids=market.ids)
    plan = search_quota_consume(user=user)

    limits: list[LimitApplied] = []
    mode = options["mode"]
    k = options["k"]
    if k > plan.max_matches:
        k = plan.max_matches
        limits.append(
            _limit(
                "k_capped",
                _("Matches capped at %(max)d on the %(plan)s plan.")
                % {"max": plan.max_matches, "plan": plan.plan_name},
            )
        )
    horizons = options["horizons"]
    if not plan.all_horizons and len(horizons) > 1:
        horizons = horizons[:1]
        limits.append(
            _limit(
                "first_horizon_only",
                _("Outcomes for the first horizon (%(days)d days) only on the %(plan)s plan.")
                % {"days": horizons[0], "plan": plan.plan_name},
            )
        )
    date_from = _date_clean(options["date_from"], "date_from")
    date_to = _date_clean(options["date_to"], "date_to")
    if mode == "history" and plan.history_years and snapshot.date:
        earliest = _years_before(snapshot.date, plan.history_years)
        if date_from is None or date_from < earliest:
            date_from = earliest
            limits.append(
                _limit(
                    "history_limited",
                    _("History limited to the last %(years)d years (since %(date)s) on %(plan)s.")
                    % {"years": plan.history_years, "date": earliest, "plan": plan.plan_name},
                )
            )

    mask = universe.mask(
        segment=options["segment"], sector=options["sector"], min_turnover=options["min_turnover"]
    )
    try:
        found = search(
            market,
            pattern.values,
            k=k,
            mode=mode,
            exclude=_own_window(market, pattern),
            series=mask,
            date_from=date_from,
            date_to=date_to,
            stretch=options["stretch"],
        )
    except PatternError as exc:
        raise SearchInputError(PATTERN_FIELD[spec["source"]], str(exc)) from exc

    result = _result_build(
        market=market,
        universe=universe,
        snapshot=snapshot,
        pattern=pattern,
        source=spec["source"],
        mode=mode,
        found=found,
        horizons=horizons,
        limits=limits,
    )
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    result["elapsed_ms"] = elapsed_ms
    return SavedSearch.objects.create(
        user=user,
        source=spec["source"],
        mode=mode,
        label=pattern.label[:200],
        spec=spec,
        pattern=pattern.values.tolist(),
        options=options,
        result=result,
        match_count=len(found),
        elapsed_ms=elapsed_ms,
        snapshot_id=snapshot.id,
        snapshot_date=snapshot.date,
        rerun_of=rerun_of,
    )


def _limit(code: str, message) -> LimitApplied:
    return {"code": code, "message": str(message)}


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _own_window(market, pattern: ResolvedPattern) -> list[tuple[str, int, int]] | None:
    """The query's own range in its own stock, as snapshot indices, so it is not its own match."""
    if pattern.code is None or pattern.code not in market.ids:
        return None
    dates = market.series_dates(market.index_of(pattern.code))
    start = int(np.searchsorted(dates, np.datetime64(pattern.start_date, "D"), side="left"))
    stop = int(np.searchsorted(dates, np.datetime64(pattern.end_date, "D"), side="right"))
    return [(pattern.code, start, stop)] if stop > start else None


def _result_build(
    *, market, universe, snapshot, pattern, source, mode, found, horizons, limits
) -> SearchResult:
    m = pattern.values.size
    longest = horizons[-1]
    after = 0 if mode == "latest" else longest
    summary = None
    if mode == "history" and found:
        # Scenario clustering (scikit-learn) on one OpenMP thread: with several web workers per
        # core, a thread team per request spins and waits; one thread is 10x faster under load.
        with _threadpools().limit(limits=1):
            summary = outcomes(market, found, horizons)
    matches: list[MatchResult] = []
    for rank, match in enumerate(found, start=1):
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
        matches.append(item)

    stats, fan, groups = [], None, []
    if summary is not None:
        stats = [
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
        if summary.fan is not None:
            fan = {
                "horizon": summary.fan.horizon,
                "days": summary.fan.days,
                "count": summary.fan.count,
                "bands": {name: _rounded(band) for name, band in summary.fan.bands.items()},
            }
        groups = [
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
    return {
        "mode": mode,
        "pattern": {
            "source": source,
            "length": m,
            "values": pattern.values.tolist(),
            "normalized": _rounded(normalize_pattern(pattern.values)),
            "code": pattern.code,
            "name": pattern.name,
            "start_date": pattern.start_date.isoformat() if pattern.start_date else None,
            "end_date": pattern.end_date.isoformat() if pattern.end_date else None,
        },
        "horizons": horizons,
        "matches": matches,
        "stats": stats,
        "fan": fan,
        "groups": groups,
        "groups_horizon": longest if groups else None,
        "limits": limits,
        "snapshot": {
            "id": snapshot.id,
            "date": snapshot.date.isoformat() if snapshot.date else None,
        },
        "elapsed_ms": 0.0,
    }


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
