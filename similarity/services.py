"""Running pattern searches: validate, resolve the pattern, apply the plan, search, save.

Entry points (pages, API and tasks call only these):

    search_run(*, user, spec: PatternSpec, options: dict) -> SavedSearch
    search_rerun(*, user, saved_search: SavedSearch) -> SavedSearch
    search_latest_bars(*, user, code: str, interval: str) -> SavedSearch

Both raise `core.errors` domain errors: `SearchInputError` for bad input (400, `fields`
naming the field), `NotFoundError` for an unknown stock code (404), `SearchQuotaExceeded` (429)
and `SnapshotMissing` (503). What they accept is checked by `similarity.validation`, what they
store on a SavedSearch is built by `similarity.results.builder`; the limits are in
`similarity.limits`.
"""

import datetime as dt
import time

import numpy as np
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from billing.entitlements import (
    Entitlements,
    SearchCostExceeded,
    search_cost_consume,
    search_quota_consume,
    search_quota_release,
)
from core.errors import NotFoundError
from core.templatetags.site_formats import day
from market.models import DailyBar
from market.selectors import stock_by_code
from similarity import limits
from similarity.engine import (
    Market,
    PatternError,
    as_of_end,
    base_rate,
    base_rate_exact_horizons,
    normalize_pattern,
    search,
    trailing_volatility,
)
from similarity.models import SavedSearch
from similarity.results.builder import ResolvedPattern, limit_applied, search_result_build
from similarity.results.same_period import same_period_applies, same_period_find
from similarity.results.schema import LimitApplied
from similarity.results.statistics import ForecastInput
from similarity.results.texts import pattern_text
from similarity.selectors import (
    base_excess_sample,
    forecast_latest,
    market_benchmark,
    search_universe,
)
from similarity.snapshot import Snapshot, snapshot_current, warm_up_process
from similarity.validation import (
    PATTERN_FIELD,
    SearchInputError,
    pattern_spec_clean,
    search_options_clean,
)


def search_warm_up() -> bool:
    """Make this process's first search as fast as its second: attach the snapshot and load
    the engine (warm_up_process), then build the per-snapshot caches a history search reads
    (the market benchmark, the base rate's excess sample; from the database). The WSGI
    application and each Celery worker process call it before serving."""
    if not warm_up_process():
        return False
    snapshot = snapshot_current()
    market_benchmark(snapshot=snapshot)
    base_excess_sample(snapshot=snapshot)
    return True


@transaction.atomic
def search_run(*, user, spec: dict, options: dict) -> SavedSearch:
    """Validate, resolve the pattern, take one search from the quota, search, save."""
    started = time.perf_counter()
    spec = pattern_spec_clean(spec=spec)
    options = search_options_clean(options=options)
    pattern = pattern_resolve(spec=spec)
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
        pattern = pattern_resolve(spec=pattern_spec_clean(spec=spec))
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


# The intervals the one-tap search takes: daily bars only, until a search runs on weekly or
# monthly closes (a spec of other bars would search daily closes of the wrong span).
LATEST_BARS_INTERVALS = ("day",)


def latest_bars_spec(*, code, interval: str = "day") -> dict:
    """The pattern spec of a stock's latest bars (limits.LATEST_BARS_BY_INTERVAL of them): a
    stock range from the first of those trading days to the last, as the search form takes it."""
    if interval not in LATEST_BARS_INTERVALS:
        raise SearchInputError(
            "interval",
            _("The interval is one of: %(choices)s.")
            % {"choices": ", ".join(LATEST_BARS_INTERVALS)},
        )
    if not isinstance(code, str) or not code.strip() or len(code) > limits.MAX_NAME_LENGTH:
        raise SearchInputError("code", _("Give a stock code such as 7203."))
    stock = stock_by_code(code=code.strip())
    if stock is None:
        message = _("No stock with code %(code)s.") % {"code": code.strip()}
        raise NotFoundError(message, fields={"code": [message]})
    days = list(
        DailyBar.objects.filter(stock=stock)
        .order_by("-date")
        .values_list("date", flat=True)[: limits.LATEST_BARS_BY_INTERVAL[interval]]
    )
    if len(days) < limits.MIN_LENGTH:
        raise SearchInputError(
            "code",
            _("%(code)s has only %(count)d trading days: a pattern needs at least %(min)d.")
            % {"code": stock.code, "count": len(days), "min": limits.MIN_LENGTH},
        )
    return {
        "source": "stock",
        "code": stock.code,
        "from": days[-1].isoformat(),
        "to": days[0].isoformat(),
    }


def search_latest_bars(*, user, code, interval: str = "day") -> SavedSearch:
    """ "今のチャートに似た過去": a history search of the stock's latest bars, with the default
    options, counted and charged like any search (search_run)."""
    return search_run(
        user=user,
        spec=latest_bars_spec(code=code, interval=interval),
        options={"mode": SavedSearch.Mode.HISTORY},
    )


def pattern_resolve(*, spec: dict) -> ResolvedPattern:
    """The prices a checked spec stands for (a stock's split-adjusted closes over its range,
    pasted prices, or a sketch resampled to its days), refused if the engine cannot search them.
    Shape alerts freeze their pattern with it."""
    source = spec["source"]
    if source == "stock":
        pattern = _stock_pattern(spec)
    elif source == "prices":
        pattern = ResolvedPattern(
            values=np.asarray(spec["prices"], dtype=np.float64),
            label=pattern_text(source=source, spec=spec),
        )
    else:
        pattern = ResolvedPattern(
            values=_sketch_values(spec["points"], spec["days"]),
            label=pattern_text(source=source, spec=spec),
        )
    try:
        normalize_pattern(pattern.values)
    except PatternError as exc:
        raise SearchInputError(PATTERN_FIELD[source], str(exc)) from exc
    return pattern


def _stock_pattern(spec: dict) -> ResolvedPattern:
    stock = stock_by_code(code=spec["code"])
    if stock is None:
        message = _("No stock with code %(code)s.") % {"code": spec["code"]}
        raise NotFoundError(message, fields={"code": [message]})
    start = dt.date.fromisoformat(spec["from"])
    end = dt.date.fromisoformat(spec["to"])
    rows = list(
        DailyBar.objects.filter(stock=stock, date__range=(start, end))
        .order_by("date")
        .values_list("date", "adj_close")
    )
    if not rows and stock.last_bar_date and start > stock.last_bar_date:
        raise SearchInputError(
            "from",
            _("The prices of %(code)s end on %(day)s: choose days up to then.")
            % {"code": stock.code, "day": day(stock.last_bar_date)},
        )
    if not limits.MIN_LENGTH <= len(rows) <= limits.MAX_LENGTH:
        raise SearchInputError(
            "to",
            _(
                "%(code)s has %(count)d trading days from %(start)s to %(end)s; "
                "choose a range of %(min)d to %(max)d trading days."
            )
            % {
                "code": stock.code,
                "count": len(rows),
                "start": day(start),
                "end": day(end),
                "min": limits.MIN_LENGTH,
                "max": limits.MAX_LENGTH,
            },
        )
    return ResolvedPattern(
        values=np.array([close for _day, close in rows], dtype=np.float64),
        label=f"{stock.code} {stock.name} {rows[0][0]} – {rows[-1][0]}",
        code=stock.code,
        name=stock.name,
        start_date=rows[0][0],
        end_date=rows[-1][0],
    )


def _sketch_values(points: list[list[float]], days: int) -> np.ndarray:
    """The drawn line resampled to `days` equally spaced values, left to right."""
    pairs = np.asarray(points, dtype=np.float64)
    xs, inverse = np.unique(pairs[:, 0], return_inverse=True)
    # Several points at one x (a vertical stroke) count as their mean.
    ys = np.bincount(inverse, weights=pairs[:, 1]) / np.bincount(inverse)
    return np.interp(np.linspace(xs[0], xs[-1], days), xs, ys)


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
    # An as_of that cannot apply is the user's input error: found before a search is charged
    # (with the horizons asked for, which the plan may only shorten).
    _as_of_date_to(
        snapshot=snapshot,
        options=options,
        pattern=pattern,
        horizons=options["horizons"],
        source=spec["source"],
    )
    plan = search_quota_consume(user=user)
    k, horizons, date_from, applied = _plan_apply(plan=plan, options=options, snapshot=snapshot)
    history = options["mode"] == "history"
    date_to = _as_of_date_to(
        snapshot=snapshot,
        options=options,
        pattern=pattern,
        horizons=horizons,
        source=spec["source"],
    )
    mask = _search_mask(
        user=user,
        snapshot=snapshot,
        universe=universe,
        options=options,
        k=k,
        horizons=horizons,
        pattern=pattern,
    )
    # In history mode, windows of any stock that overlap the pattern's own days are the market
    # moving together, not analogs (and have no outcome yet for a recent pattern).
    period = (pattern.start_date, pattern.end_date) if history and pattern.code else None
    scope = {"series": mask, "date_from": date_from, "date_to": date_to, "exclude_period": period}
    found, same_period = _search_find(
        market=market, pattern=pattern, k=k, options=options, source=spec["source"], scope=scope
    )
    evidence = _search_evidence(
        snapshot=snapshot,
        history=history,
        length=pattern.values.size,
        horizons=horizons,
        as_of=pattern.start_date if options.get("as_of") else None,
        **scope,
    )
    result = search_result_build(
        market=market,
        universe=universe,
        snapshot_id=snapshot.id,
        snapshot_date=snapshot.date,
        pattern=pattern,
        source=spec["source"],
        mode=options["mode"],
        found=found,
        horizons=horizons,
        limits=applied,
        started=started,
        same_period=same_period,
        forecast=_forecast_input(snapshot=snapshot, pattern=pattern, source=spec["source"])
        if history
        else None,
        **evidence,
    )
    saved = _saved_search_create(
        user=user,
        spec=spec,
        options=options,
        pattern=pattern,
        snapshot=snapshot,
        result=result,
        match_count=len(found),
        rerun_of=rerun_of,
    )
    _saved_searches_prune(user=user)
    return saved


def _search_find(
    *, market, pattern: ResolvedPattern, k: int, options: dict, source: str, scope: dict
) -> tuple[list, list | None]:
    """Run the engine's search, and the same-period one when the option asks for it (None when
    it is off); a pattern the engine rejects is the user's input error on its field."""
    own = _own_window(market, pattern)
    try:
        found = search(
            market,
            pattern.values,
            k=k,
            mode=options["mode"],
            exclude=own,
            stretch=options["stretch"],
            **scope,
        )
    except PatternError as exc:
        raise SearchInputError(PATTERN_FIELD[source], str(exc)) from exc
    return found, same_period_find(
        market=market, pattern=pattern, k=k, options=options, scope=scope, exclude=own
    )


def _search_mask(
    *, user, snapshot, universe, options: dict, k: int, horizons, pattern: ResolvedPattern
):
    """The series a search may scan (its filters), after charging the search's cost to the user."""
    mask = universe.mask(
        segment=options["segment"], sector=options["sector"], min_turnover=options["min_turnover"]
    )
    _search_cost_consume(
        user=user,
        cost=search_cost_estimate(
            snapshot=snapshot,
            mask=mask,
            k=k,
            horizons=horizons,
            options=options,
            length=pattern.values.size,
            same_period=same_period_applies(options=options, pattern=pattern),
        ),
    )
    if options["mode"] != "history" and snapshot.listed is not None:
        # Delisted stocks have no "now": latest mode searches the listed ones only.
        mask = snapshot.listed if mask is None else mask & snapshot.listed
    return mask


def _search_evidence(*, snapshot, history: bool, length: int, horizons, as_of, **scope) -> dict:
    """A history search's comparison evidence over the same scope (filters, dates, excluded
    period): the base rate, its median excess return, the market benchmark, the market's
    calendar. Latest-mode searches have none. With ``as_of`` (the pattern's first day), only
    excess outcomes dated before it count, as in the calibration."""
    if not history:
        return {}
    baselines = base_rate(snapshot.market, length, horizons, index=snapshot.baseline, **scope)
    excess = base_excess_sample(snapshot=snapshot).medians(
        length, horizons, outcome_before=as_of, **scope
    )
    return {
        "baselines": baselines,
        "base_excess": excess,
        "benchmark": market_benchmark(snapshot=snapshot),
        "calendar": _calendar(snapshot),
    }


def _calendar(snapshot) -> np.ndarray:
    """The market's trading days, from the base-rate index when the snapshot has one."""
    if snapshot.baseline is not None:
        return np.asarray(snapshot.baseline.calendar).astype("datetime64[D]")
    return np.unique(np.asarray(snapshot.market.dates))


def _forecast_input(*, snapshot, pattern: ResolvedPattern, source: str) -> ForecastInput | None:
    """The latest learned forecast with the pattern's trailing volatility: a stock's from its
    closes up to the pattern's last day, pasted prices' from themselves, none for a sketch
    (whose scale means nothing)."""
    latest = forecast_latest()
    if latest is None:
        return None
    model, params = latest
    volatility = None
    if source == SavedSearch.Source.STOCK and pattern.code in snapshot.market.ids:
        series = snapshot.market.index_of(pattern.code)
        dates = snapshot.market.series_dates(series)
        end = int(np.searchsorted(dates, np.datetime64(pattern.end_date, "D"), side="right"))
        volatility = trailing_volatility(snapshot.market.series_closes(series)[:end])
    elif source == SavedSearch.Source.PRICES:
        volatility = trailing_volatility(pattern.values)
    return ForecastInput(
        params=params,
        length=pattern.values.size,
        volatility=volatility,
        model={
            "version": model.pk,
            "data_date": model.snapshot_date.isoformat() if model.snapshot_date else None,
            "demo": model.calibration.demo,
        },
    )


def _as_of_date_to(*, snapshot, options: dict, pattern: ResolvedPattern, horizons, source: str):
    """The windows' last allowed end: the date_to option, and with as_of no later than the
    longest horizon's trading days before the pattern's first day (only outcomes known then)."""
    date_to = _iso_date(options["date_to"])
    if not options.get("as_of"):
        return date_to
    if source != SavedSearch.Source.STOCK:
        raise SearchInputError(
            "as_of", _("Only the data known then needs a stock's date range as the pattern.")
        )
    last = as_of_end(_calendar(snapshot), pattern.start_date, max(horizons))
    if last is None:
        raise SearchInputError(
            "as_of", _("No data is old enough: the pattern begins too early to replay.")
        )
    last = last.astype(dt.date)
    return last if date_to is None else min(date_to, last)


def _saved_search_create(
    *,
    user,
    spec: dict,
    options: dict,
    pattern: ResolvedPattern,
    snapshot,
    result: dict,
    match_count: int,
    rerun_of: SavedSearch | None,
) -> SavedSearch:
    """Store a finished search with its result for the user's history."""
    history = options["mode"] == "history"
    return SavedSearch.objects.create(
        user=user,
        source=spec["source"],
        mode=options["mode"],
        label=pattern.label[:200],
        spec=spec,
        pattern=pattern.values.tolist(),
        options=options,
        result=result,
        match_count=match_count,
        elapsed_ms=result["elapsed_ms"],
        snapshot_id=snapshot.id,
        snapshot_date=snapshot.date,
        tracks_outcome=bool(
            history and pattern.code and snapshot.date and pattern.end_date == snapshot.date
        ),
        rerun_of=rerun_of,
    )


def _saved_searches_prune(*, user) -> None:
    """Delete the user's saved searches beyond the newest limits.SAVED_SEARCHES_KEPT."""
    older = (
        SavedSearch.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[limits.SAVED_SEARCHES_KEPT :]
    )
    SavedSearch.objects.filter(pk__in=list(older)).delete()


def search_cost_estimate(
    *, snapshot, mask, k: int, horizons, options: dict, length: int, same_period: bool
) -> float:
    """What a search of these options over the series of `mask` is charged, in estimated CPU
    milliseconds (`limits.search_cost_ms`): the search, the same-period one, the base rate."""
    market = snapshot.market
    lengths = np.diff(market.offsets)
    if mask is not None:
        lengths = lengths[mask]
    exact = indexed = 0
    if options["mode"] == "history":
        exact = len(
            base_rate_exact_horizons(market, horizons, index=snapshot.baseline, series=mask)
        )
        indexed = len(horizons) - exact
    return limits.search_cost_ms(
        closes=int(lengths.sum()),
        series=int(lengths.size),
        length=length,
        k=k,
        stretch=options["stretch"],
        mode=options["mode"],
        same_period=same_period,
        base_rate_exact=exact,
        base_rate_indexed=indexed,
    )


def _search_cost_consume(*, user, cost: float) -> None:
    """Charge the search's estimated CPU to the user's budget for this minute; a search refused
    for its weight gives back the day's search it took."""
    try:
        search_cost_consume(user=user, cost_ms=cost, budget_ms=limits.SEARCH_COST_MS_PER_MINUTE)
    except SearchCostExceeded:
        search_quota_release(user=user)
        raise


def _plan_apply(
    *, plan: Entitlements, options: dict, snapshot: Snapshot
) -> tuple[int, list[int], dt.date | None, list[LimitApplied]]:
    """The matches, horizons and first date the plan allows, and the limits that applied."""
    applied: list[LimitApplied] = []
    k = options["k"]
    if k > plan.max_matches:
        k = plan.max_matches
        applied.append(limit_applied("k_capped", max=k, plan=plan.plan_name))
    horizons = options["horizons"]
    if not plan.all_horizons and len(horizons) > 1:
        horizons = horizons[:1]
        applied.append(limit_applied("first_horizon_only", days=horizons[0], plan=plan.plan_name))
    date_from = _iso_date(options["date_from"])
    earliest = plan.history_start(today=snapshot.date) if snapshot.date else None
    if options["mode"] == "history" and earliest and (date_from is None or date_from < earliest):
        date_from = earliest
        applied.append(
            limit_applied(
                "history_limited",
                years=plan.history_years,
                date=earliest.isoformat(),
                plan=plan.plan_name,
            )
        )
    return k, horizons, date_from, applied


def _iso_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _own_window(market: Market, pattern: ResolvedPattern) -> list[tuple[str, int, int]] | None:
    """The query's own range in its own stock, as snapshot indices, so it is not its own match."""
    if pattern.code is None or pattern.code not in market.ids:
        return None
    dates = market.series_dates(market.index_of(pattern.code))
    start = int(np.searchsorted(dates, np.datetime64(pattern.start_date, "D"), side="left"))
    stop = int(np.searchsorted(dates, np.datetime64(pattern.end_date, "D"), side="right"))
    return [(pattern.code, start, stop)] if stop > start else None
