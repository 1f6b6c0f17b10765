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
    search_cost_add,
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
    base_rate_counted,
    base_rate_exact_horizons,
    normalize_pattern,
    period_ends,
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
    bars_text,
    pattern_length_check,
    pattern_spec_clean,
    search_options_clean,
)


def search_warm_up() -> bool:
    """Make this process's first search as fast as its second: attach the snapshot and load
    the engine (warm_up_process), then build the per-snapshot caches a history search reads
    (the market benchmark, the base rate's excess sample, of each interval; from the database).
    The WSGI application and each Celery worker process call it before serving."""
    if not warm_up_process():
        return False
    snapshot = snapshot_current()
    for interval in limits.INTERVALS:  # daily, weekly and monthly searches alike
        market_benchmark(snapshot=snapshot.at(interval))
        base_excess_sample(snapshot=snapshot.at(interval))
    return True


@transaction.atomic
def search_run(*, user, spec: dict, options: dict) -> SavedSearch:
    """Validate, resolve the pattern, take one search from the quota, search, save."""
    started = time.perf_counter()
    spec = pattern_spec_clean(spec=spec)
    options = search_options_clean(options=options)
    pattern = pattern_resolve(spec=spec, interval=options["interval"])
    pattern_length_check(length=pattern.values.size, options=options, source=spec["source"])
    return _search_execute(
        user=user,
        spec=spec,
        options=options,
        pattern=pattern,
        rerun_of=None,
        started=started,
    )


@transaction.atomic
def search_rerun(*, user, saved_search: SavedSearch, interval: str | None = None) -> SavedSearch:
    """Run a saved search again on today's data, as a new SavedSearch of the same user.

    A stock-range pattern is read again (the closes may have been adjusted for a split since);
    pasted prices and sketches reuse their values. With another ``interval`` ("day", "week",
    "month"), the search runs on those closes: a stock's range is read as its weeks or months,
    pasted prices and a sketch as closes of that interval, with that interval's default horizons.
    """
    if saved_search.user_id != user.pk:
        raise NotFoundError(_("No saved search with this id."))
    started = time.perf_counter()
    options = dict(saved_search.options or {})
    if interval is not None and interval != options.get("interval", limits.DEFAULT_INTERVAL):
        options["interval"] = interval
        options.pop("horizons", None)  # counted in bars of the other interval
    options = search_options_clean(options=options)
    spec = saved_search.spec
    if spec.get("source") == SavedSearch.Source.STOCK:
        pattern = pattern_resolve(spec=pattern_spec_clean(spec=spec), interval=options["interval"])
        pattern_length_check(length=pattern.values.size, options=options, source=spec["source"])
    else:
        pattern = ResolvedPattern(
            values=np.asarray(saved_search.pattern, dtype=np.float64), label=saved_search.label
        )
        pattern_length_check(length=pattern.values.size, options=options, source=spec["source"])
    return _search_execute(
        user=user,
        spec=spec,
        options=options,
        pattern=pattern,
        rerun_of=saved_search,
        started=started,
    )


# The intervals the one-tap search takes: daily, weekly and monthly bars.
LATEST_BARS_INTERVALS = limits.INTERVALS


def latest_bars_spec(*, code, interval: str = "day") -> dict:
    """The pattern spec of a stock's latest bars (limits.LATEST_BARS_BY_INTERVAL of them): a
    stock range from the first of those trading days to the last, as the search form takes it;
    for weeks or months, from the first period's last trading day to the latest day, which
    selects exactly those periods (the latest one possibly unfinished)."""
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
    count = limits.LATEST_BARS_BY_INTERVAL[interval]
    per_bar = {"day": 1, "week": 7, "month": 23}[interval]  # trading days a bar spans at most
    days = list(
        DailyBar.objects.filter(stock=stock)
        .order_by("-date")
        .values_list("date", flat=True)[: count * per_bar]
    )
    if interval != "day" and days:
        ascending = np.array(days[::-1], dtype="datetime64[D]")
        days = [day.item() for day in ascending[period_ends(ascending, interval)][::-1][:count]]
        if len(days) < limits.MIN_LENGTH:
            raise SearchInputError(
                "code",
                _("%(code)s has only %(count)s: a pattern needs at least %(min)s.")
                % {
                    "code": stock.code,
                    "count": bars_text(len(days), interval),
                    "min": bars_text(limits.MIN_LENGTH, interval),
                },
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
        options={"mode": SavedSearch.Mode.HISTORY, "interval": interval},
    )


def pattern_resolve(*, spec: dict, interval: str = "day") -> ResolvedPattern:
    """The prices a checked spec stands for (a stock's split-adjusted closes over its range,
    daily or of the weeks or months whose last trading day falls inside it; pasted prices, or a
    sketch resampled to its bars: both read as closes of the interval), refused if the engine
    cannot search them. Shape alerts freeze their pattern with it."""
    source = spec["source"]
    if source == "stock":
        pattern = _stock_pattern(spec, interval)
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


def _stock_pattern(spec: dict, interval: str = "day") -> ResolvedPattern:
    stock = stock_by_code(code=spec["code"])
    if stock is None:
        message = _("No stock with code %(code)s.") % {"code": spec["code"]}
        raise NotFoundError(message, fields={"code": [message]})
    start = dt.date.fromisoformat(spec["from"])
    end = dt.date.fromisoformat(spec["to"])
    rows = _stock_closes(stock, start, end, interval)
    if not rows and stock.last_bar_date and start > stock.last_bar_date:
        raise SearchInputError(
            "from",
            _("The prices of %(code)s end on %(day)s: choose days up to then.")
            % {"code": stock.code, "day": day(stock.last_bar_date)},
        )
    longest = limits.MAX_LENGTH_BY_INTERVAL[interval]
    if interval != "day" and not limits.MIN_LENGTH <= len(rows) <= longest:
        raise SearchInputError(
            "to",
            _(
                "%(code)s has %(count)s from %(start)s to %(end)s; choose a range of "
                "%(min)s to %(max)s."
            )
            % {
                "code": stock.code,
                "count": bars_text(len(rows), interval),
                "start": day(start),
                "end": day(end),
                "min": bars_text(limits.MIN_LENGTH, interval),
                "max": bars_text(limits.MAX_LENGTH_BY_INTERVAL[interval], interval),
            },
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


def _stock_closes(stock, start: dt.date, end: dt.date, interval: str) -> list:
    """(date, split-adjusted close) of the stock's trading days from ``start`` to ``end``, or of
    its weeks or months whose last trading day falls inside (dated by that day)."""
    if interval == "day":
        return list(
            DailyBar.objects.filter(stock=stock, date__range=(start, end))
            .order_by("date")
            .values_list("date", "adj_close")
        )
    # Up to a month past the end: a period's last trading day may lie beyond it (then the period
    # is left out), and the days before the start only end periods that are left out too.
    rows = list(
        DailyBar.objects.filter(stock=stock, date__range=(start, end + dt.timedelta(days=31)))
        .order_by("date")
        .values_list("date", "adj_close")
    )
    if not rows:
        return rows
    ends = period_ends(np.array([row[0] for row in rows], dtype="datetime64[D]"), interval)
    return [rows[i] for i in ends if rows[i][0] <= end]


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
    snapshot = snapshot_current().at(options["interval"])
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
        user=user,
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
        interval=snapshot.interval,
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


def _search_evidence(
    *, user, snapshot, history: bool, length: int, horizons, as_of, **scope
) -> dict:
    """A history search's comparison evidence over the same scope (filters, dates, excluded
    period): the base rate, its median excess return, the market benchmark, the market's
    calendar. Latest-mode searches have none. With ``as_of`` (the pattern's first day), only
    excess outcomes dated before it count, as in the calibration. Horizons the base rate had
    to count exactly though the charge foresaw the index answering them (a quantile in an
    open-ended bin: only the data tell) are charged to the user's budget now."""
    if not history:
        return {}
    counted = base_rate_counted(snapshot.market, length, horizons, index=snapshot.baseline, **scope)
    surplus = search_cost_unforeseen(
        snapshot=snapshot,
        mask=scope["series"],
        horizons=horizons,
        exact_horizons=counted.exact_horizons,
    )
    if surplus:
        search_cost_add(user=user, cost_ms=surplus)
    baselines = counted.stats
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
    """The market's trading days, from the base-rate index when the snapshot has one; on weekly
    or monthly closes, one date a period (its latest: a stock halted on a Friday dates its week
    by the Thursday, which is no bar of the market's)."""
    if snapshot.baseline is not None:
        calendar = np.asarray(snapshot.baseline.calendar).astype("datetime64[D]")
    else:
        calendar = np.unique(np.asarray(snapshot.market.dates))
    if snapshot.interval != "day":
        calendar = calendar[period_ends(calendar, snapshot.interval)]
    return calendar


def _forecast_input(*, snapshot, pattern: ResolvedPattern, source: str) -> ForecastInput | None:
    """The latest learned forecast with the pattern's trailing volatility: a stock's from its
    closes up to the pattern's last day, pasted prices' from themselves, none for a sketch
    (whose scale means nothing)."""
    latest = forecast_latest(interval=snapshot.interval)
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
    older = list(older)
    if older:  # Only their ids: a deletion reads each row, its result (15-150 KB) included.
        SavedSearch.objects.filter(pk__in=older).only("pk").delete()


def search_cost_estimate(
    *, snapshot, mask, k: int, horizons, options: dict, length: int, same_period: bool
) -> float:
    """What a search of these options over the series of `mask` is charged, in estimated CPU
    milliseconds (`limits.search_cost_ms`): the search, the same-period one, the base rate."""
    market = snapshot.market
    lengths = _series_lengths(market, mask)
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


def search_cost_unforeseen(*, snapshot, mask, horizons, exact_horizons) -> float:
    """What a history search is charged after it ran, in estimated CPU milliseconds: the
    horizons its base rate counted exactly (`exact_horizons`) though search_cost_estimate
    foresaw the index answering them (a quantile in an open-ended bin: only the data tell)."""
    foreseen = base_rate_exact_horizons(
        snapshot.market, horizons, index=snapshot.baseline, series=mask
    )
    unforeseen = len(set(exact_horizons) - set(foreseen))
    if not unforeseen:
        return 0.0
    return limits.base_rate_exact_ms(
        closes=_scanned_closes(snapshot.market, mask), horizons=unforeseen
    )


def _series_lengths(market: Market, mask) -> np.ndarray:
    lengths = np.diff(market.offsets)
    return lengths if mask is None else lengths[mask]


def _scanned_closes(market: Market, mask) -> int:
    """The closes of the series a search scans (its filters' mask, None for all)."""
    return int(_series_lengths(market, mask).sum())


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
