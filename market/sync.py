"""Writes of the exchange's own data (J-Quants): the listing, daily bars with the provider's
split factors, the trading calendar and market indices, day by day or stock by stock, each in one
transaction and recorded once in its run."""

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Least

from market.models import (
    DailyBar,
    IndexBar,
    MarketIndex,
    ScrapeRun,
    SplitAdjustment,
    Stock,
    TradingDay,
)
from market.services import (
    BAR_VALUE_FIELDS,
    LISTING_FIELDS,
    ListingResult,
    daily_bar_rows_insert,
    market_summary_invalidate,
    scrape_run_finish,
    scrape_run_item_recorded,
    scrape_run_stock_record,
    stock_listing_upsert,
    stocks_ensure,
)
from market.sources.base import SourceError, SourceRefusedError
from market.sources.jquants import DayBar, JQuantsSource
from market.sources.parsing import ParseError

logger = logging.getLogger(__name__)

TOPIX = {"code": "TOPIX", "name": "東証株価指数", "name_en": "TOPIX"}
INDEX_SOURCES = {"topix": TOPIX}
LISTING_STEP, TOPIX_STEP = "listing", "topix"
# How far ahead the exchange publishes its calendar, and so how far ahead we store it.
CALENDAR_AHEAD = datetime.timedelta(days=366)
# Above this many stocks in a batch (a day of the market), stored bars are read by date alone:
# cheaper than a list of thousands of ids.
MANY_STOCKS = 200
# A bar as traded, what the provider's days are compared on (adj_close is ours).
RAW_FIELDS = BAR_VALUE_FIELDS[:5]


@dataclass
class BarsSaved:
    inserted: int = 0
    unchanged: int = 0
    splits: list[SplitAdjustment] = field(default_factory=list)
    disagreements: dict[str, str] = field(default_factory=dict)


def _agrees(stored: float, fetched: float) -> bool:
    return abs(stored - fetched) <= 1e-6 * max(1.0, abs(fetched))


def _disagreement(stored: tuple, bar) -> str:
    fetched = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    differing = [
        f"{name} {old:g} stored, {new:g} from the source"
        for name, old, new in zip(RAW_FIELDS, stored, fetched, strict=True)
        if not _agrees(old, new)
    ]
    return "; ".join(differing) + ": kept the stored bar"


@transaction.atomic
def provider_bars_save(
    *, day_bars: Sequence[DayBar], source: str, scrape_run: ScrapeRun | None = None
) -> BarsSaved:
    """Store bars as traded with the provider's split factor of each day, in one transaction.

    New days are inserted; a stored day the provider agrees with is left alone, one it disagrees
    with is reported and kept (a person decides). A new day whose AdjFactor is not 1 is a split
    taking effect that day: every stored adjusted close before it is multiplied by the factor
    (raw prices stay as traded) and a SplitAdjustment records it. The adjusted close of a new day
    carries the factors of the later days in the batch and, when it fills a gap, the factor of
    the next stored day, so the adjusted series has no cliff. Stocks not yet known are created
    unlisted.
    """
    saved = BarsSaved()
    if not day_bars:
        return saved
    codes = {row.code for row in day_bars}
    rows = _stocks_lock(codes=codes)
    if len(rows) < len(codes):
        stocks_ensure(codes=codes - {row[0] for row in rows})
        rows = _stocks_lock(codes=codes)
    stock_ids, last_dates = {}, {}
    for code, stock_id, last_date in rows:
        stock_ids[code], last_dates[stock_id] = stock_id, last_date
    by_stock: dict[int, list[DayBar]] = defaultdict(list)
    for row in day_bars:
        by_stock[stock_ids[row.code]].append(row)
    first = min(row.bar.date for row in day_bars)
    last = max(row.bar.date for row in day_bars)
    stored_bars = DailyBar.objects.filter(date__gte=first, date__lte=last)
    if len(stock_ids) <= MANY_STOCKS:
        stored_bars = stored_bars.filter(stock_id__in=stock_ids.values())
    stored = {
        (row[0], row[1]): row[2:]
        for row in stored_bars.values_list("stock_id", "date", *RAW_FIELDS)
        if row[0] in by_stock
    }
    next_stored = _next_stored_days(by_stock=by_stock, stored=stored, last_dates=last_dates)
    new_rows, span = [], {}
    for stock_id, rows in by_stock.items():
        rows.sort(key=lambda row: row.bar.date)
        code = rows[0].code
        factor_of_day = {row.bar.date: row.adj_factor for row in rows}
        # The factors of this stock's new later days in the batch: stored days already carry
        # theirs in their adjusted close.
        later_new = 1.0
        for index in range(len(rows) - 1, -1, -1):
            row, bar = rows[index], rows[index].bar
            current = stored.get((stock_id, bar.date))
            if current is not None:
                raw = _raw(bar)
                if current == raw or all(map(_agrees, current, raw)):
                    saved.unchanged += 1
                else:
                    saved.disagreements[f"{code} {bar.date}"] = _disagreement(current, bar)
                continue
            factor = later_new
            if (stock_id, bar.date) in next_stored:
                # A gap: join the next stored day, whose own split (if the batch says it had
                # one) its stored adjusted close does not carry.
                next_date, next_factor = next_stored[(stock_id, bar.date)]
                factor *= next_factor * factor_of_day.get(next_date, 1.0)
            new_rows.append((stock_id, bar.date, *_raw(bar)[:4], bar.volume, bar.close * factor))
            low, high = span.get(stock_id, (bar.date, bar.date))
            span[stock_id] = (min(low, bar.date), max(high, bar.date))
            if row.adj_factor != 1.0:
                split = _split_apply(
                    stock_id=stock_id,
                    day_bar=row,
                    earlier_in_batch=rows[index - 1].bar.date if index else None,
                    source=source,
                    scrape_run=scrape_run,
                )
                if split is not None:
                    saved.splits.append(split)
                later_new *= row.adj_factor
    daily_bar_rows_insert(rows=new_rows)
    saved.inserted = len(new_rows)
    _bar_dates_extend(span=span)
    if saved.inserted or saved.splits:
        market_summary_invalidate()
    return saved


def _stocks_lock(*, codes: set[str]) -> list[tuple[str, int, datetime.date | None]]:
    """Lock the stocks of these codes, one writer per stock at a time, in one query ordered by
    id so that two writers cannot deadlock; their (code, id, last bar date)."""
    if connection.vendor == "postgresql":
        # One array parameter: an IN list of a whole market's codes costs more to build and
        # parse than the lock itself.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT code, id, last_bar_date FROM {Stock._meta.db_table} "
                "WHERE market = %s AND code = ANY(%s) ORDER BY id FOR UPDATE",
                [Stock.Market.TSE, sorted(codes)],
            )
            return cursor.fetchall()
    return list(
        Stock.objects.select_for_update()
        .filter(market=Stock.Market.TSE, code__in=codes)
        .order_by("pk")
        .values_list("code", "pk", "last_bar_date")
    )


def _raw(bar) -> tuple:
    return (bar.open, bar.high, bar.low, bar.close, bar.volume)


def _next_stored_days(
    *, by_stock, stored, last_dates
) -> dict[tuple[int, datetime.date], tuple[datetime.date, float]]:
    """For new days before a stock's last stored day (a gap being filled): the first stored day
    after each and its cumulative split factor (adj_close / close), read before any write."""
    gaps: dict[datetime.date, list[int]] = defaultdict(list)
    for stock_id, rows in by_stock.items():
        last_stored = last_dates.get(stock_id)
        for row in rows:
            day = row.bar.date
            if last_stored and day < last_stored and (stock_id, day) not in stored:
                gaps[day].append(stock_id)
    following_days = {}
    for day, stock_ids in gaps.items():
        following = DailyBar.objects.filter(stock=OuterRef("pk"), date__gt=day).order_by("date")
        for stock_id, next_date, close, adj_close in Stock.objects.filter(
            pk__in=stock_ids
        ).values_list(
            "pk",
            Subquery(following.values("date")[:1]),
            Subquery(following.values("close")[:1]),
            Subquery(following.values("adj_close")[:1]),
        ):
            if next_date is not None and close:
                following_days[(stock_id, day)] = (next_date, adj_close / close)
    return following_days


def _split_apply(
    *, stock_id: int, day_bar: DayBar, earlier_in_batch, source: str, scrape_run
) -> SplitAdjustment | None:
    """Re-adjust the stored history before a split day (not yet inserted) and record it."""
    before = DailyBar.objects.filter(stock_id=stock_id, date__lt=day_bar.bar.date)
    last_before = before.aggregate(last=Max("date"))["last"]
    adjusted = before.update(adj_close=F("adj_close") * day_bar.adj_factor)
    effective_after = max(filter(None, (last_before, earlier_in_batch)), default=None)
    if effective_after is None:
        return None  # nothing before it, stored or fetched: nothing to adjust
    logger.info(
        "split 1:%g of %s on %s: %d stored bars re-adjusted",
        1 / day_bar.adj_factor,
        day_bar.code,
        day_bar.bar.date,
        adjusted,
    )
    return SplitAdjustment.objects.create(
        stock_id=stock_id,
        source=source,
        ratio=1 / day_bar.adj_factor,
        effective_after=effective_after,
        bars_adjusted=adjusted,
        scrape_run=scrape_run,
    )


def _bar_dates_extend(*, span: dict[int, tuple[datetime.date, datetime.date]]) -> None:
    """Widen the stocks' first and last bar dates in one UPDATE (on PostgreSQL, whatever the
    spans; rows already wide enough are not written)."""
    if not span:
        return
    if connection.vendor == "postgresql":
        ids = list(span)
        firsts, lasts = [span[pk][0] for pk in ids], [span[pk][1] for pk in ids]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Stock._meta.db_table} AS s"
                " SET first_bar_date = LEAST(s.first_bar_date, v.first),"
                " last_bar_date = GREATEST(s.last_bar_date, v.last)"
                " FROM unnest(%s::bigint[], %s::date[], %s::date[]) AS v(id, first, last)"
                " WHERE s.id = v.id AND (s.first_bar_date IS NULL OR s.first_bar_date > v.first"
                " OR s.last_bar_date IS NULL OR s.last_bar_date < v.last)",
                [ids, firsts, lasts],
            )
        return
    # Elsewhere (SQLite) one UPDATE per distinct span: a day of the whole market is one.
    by_span: dict[tuple[datetime.date, datetime.date], list[int]] = defaultdict(list)
    for stock_id, dates in span.items():
        by_span[dates].append(stock_id)
    for (first, last), stock_ids in by_span.items():
        # LEAST/GREATEST of NULL differ between databases: COALESCE settles both.
        Stock.objects.filter(pk__in=stock_ids).update(
            first_bar_date=Coalesce(Least("first_bar_date", Value(first)), Value(first)),
            last_bar_date=Coalesce(Greatest("last_bar_date", Value(last)), Value(last)),
        )


# --- Listing, calendar, indices ---------------------------------------------------------------


def listing_sync(*, source: JQuantsSource) -> ListingResult:
    """The exchange's master into Stock; a code absent from it becomes unlisted, history kept."""
    entries = source.listing()
    if not entries:
        raise SourceError("the master is empty: nothing changed")
    return stock_listing_upsert(
        rows=entries, delist_missing=True, fields=(*LISTING_FIELDS, "name_en")
    )


@transaction.atomic
def calendar_sync(*, source: JQuantsSource, start: datetime.date, end: datetime.date) -> int:
    """Store the exchange's calendar of these days; returns how many rows changed."""
    days = source.calendar(start=start, end=end)
    stored = dict(
        TradingDay.objects.filter(
            market=Stock.Market.TSE, date__gte=start, date__lte=end
        ).values_list("date", "kind")
    )
    changed = [
        TradingDay(market=Stock.Market.TSE, date=day, kind=kind)
        for day, kind in days.items()
        if stored.get(day) != kind
    ]
    TradingDay.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["market", "date"],
        update_fields=["kind"],
    )
    return len(changed)


def open_days(*, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The stored calendar's business and half days from start to end."""
    return list(
        TradingDay.objects.filter(market=Stock.Market.TSE, date__gte=start, date__lte=end)
        .exclude(kind=TradingDay.Kind.CLOSED)
        .order_by("date")
        .values_list("date", flat=True)
    )


@transaction.atomic
def index_sync(
    *, source: JQuantsSource, name: str, start: datetime.date, end: datetime.date
) -> BarsSaved:
    """An index's daily bars (TOPIX); a stored day the source disagrees with is reported."""
    index, _created = MarketIndex.objects.get_or_create(
        code=INDEX_SOURCES[name]["code"],
        defaults={key: value for key, value in INDEX_SOURCES[name].items() if key != "code"},
    )
    bars = source.topix(start=start, end=end)
    saved = BarsSaved()
    if not bars:
        return saved
    stored = {
        row[0]: row[1:]
        for row in IndexBar.objects.filter(
            index=index, date__gte=bars[0][0], date__lte=bars[-1][0]
        ).values_list("date", "open", "high", "low", "close")
    }
    new = []
    for day, *values in bars:
        current = stored.get(day)
        if current is None:
            new.append(
                IndexBar(
                    index=index,
                    date=day,
                    open=values[0],
                    high=values[1],
                    low=values[2],
                    close=values[3],
                )
            )
        elif all(_agrees(old, value) for old, value in zip(current, values, strict=True)):
            saved.unchanged += 1
        else:
            saved.disagreements[f"{index.code} {day}"] = (
                f"stored {current}, source {tuple(values)}: kept the stored bar"
            )
    IndexBar.objects.bulk_create(new, batch_size=2000)
    saved.inserted = len(new)
    return saved


# --- Runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceSyncPlan:
    """What a price sync will fetch: business days of the whole market, or stocks' ranges."""

    start: datetime.date
    end: datetime.date
    days: list[datetime.date]
    codes: list[str]
    limited_by_plan: bool
    start_given: bool = False

    @property
    def keys(self) -> list[str]:
        return self.codes or [day.isoformat() for day in self.days]

    @property
    def scope(self) -> str:
        span = f"{self.start}..{self.end}"
        return f"{span} {','.join(self.codes)}"[:200] if self.codes else span

    def requests(self) -> int:
        """At least one request per day or stock, and the calendar's."""
        return len(self.keys) + 1


def price_sync_plan(
    *,
    source: JQuantsSource,
    start: datetime.date | None,
    end: datetime.date | None,
    codes: Sequence[str] = (),
    today: datetime.date,
) -> PriceSyncPlan:
    """The range (by default from the day after the latest stored bar to today, kept inside what
    the plan serves) and, with the calendar of that range synced first, its business days."""
    first_allowed, last_allowed = source.plan.window(today)
    start_given = start is not None
    if start is None:
        latest = latest_stored_day(codes=codes)
        start = latest + datetime.timedelta(days=1) if latest else first_allowed
    end = end or today
    limited = start < first_allowed or end > last_allowed
    start, end = max(start, first_allowed), min(end, last_allowed)
    days = []
    if start <= end:
        calendar_sync(source=source, start=start, end=end + CALENDAR_AHEAD)
        days = open_days(start=start, end=end)
    return PriceSyncPlan(
        start=start,
        end=end,
        days=days,
        codes=list(codes),
        limited_by_plan=limited,
        start_given=start_given,
    )


def latest_stored_day(*, codes: Sequence[str] = ()) -> datetime.date | None:
    """The market's latest stored day; with codes, the earliest of their latest days (None when
    one of them has none), so that no stock misses a day."""
    stocks = Stock.objects.filter(market=Stock.Market.TSE)
    if not codes:
        return stocks.aggregate(last=Max("last_bar_date"))["last"]
    last_dates = list(stocks.filter(code__in=codes).values_list("last_bar_date", flat=True))
    if len(last_dates) < len(set(codes)) or None in last_dates:
        return None
    return min(last_dates)


def sync_run_start(*, keys: Sequence[str], trigger: str, scope: str) -> ScrapeRun:
    """A J-Quants run over these days, stocks or steps (its items); an unfinished run of the same
    scope (stopped half way) is continued instead, its recorded items skipped."""
    running = ScrapeRun.objects.filter(
        source="jquants", scope=scope, status=ScrapeRun.Status.RUNNING
    )
    stopped = running.first()
    if stopped is not None:
        return stopped
    try:
        with transaction.atomic():
            run = ScrapeRun.objects.create(
                source="jquants", trigger=trigger, scope=scope, stocks_total=len(keys)
            )
    except IntegrityError:
        return running.get()  # another delivery started it a moment ago
    if not keys:
        run = scrape_run_finish(run_id=run.pk)
    return run


def price_item_sync(
    *, source: JQuantsSource, run_id: int, key: str, fetch: Callable[[], list[DayBar]]
) -> bool:
    """Fetch one day of the market (or one stock's days) and store it in one transaction that
    also records it in the run. A key already recorded (a redelivered task, a resumed run) is
    skipped. A failure is recorded and the caller goes on; a refusal (a bad key) is raised.
    Returns whether this call recorded the item."""
    if scrape_run_item_recorded(run_id=run_id, key=key):
        return False
    try:
        day_bars = fetch()
        with transaction.atomic():
            run = ScrapeRun.objects.select_for_update().get(pk=run_id)
            if scrape_run_item_recorded(run_id=run_id, key=key):
                return False
            saved = provider_bars_save(day_bars=day_bars, source=source.name, scrape_run=run)
            return scrape_run_stock_record(
                run_id=run_id,
                code=key,
                bars_written=saved.inserted,
                split=len(saved.splits),
                disagreements=saved.disagreements,
            )
    except SourceRefusedError:
        raise
    except (SourceError, ParseError) as exc:
        return scrape_run_stock_record(run_id=run_id, code=key, error=str(exc))
    except Exception as exc:
        # A bug must not leave the run waiting forever for this item.
        logger.exception("syncing %s failed", key)
        return scrape_run_stock_record(
            run_id=run_id, code=key, error=f"internal error: {exc.__class__.__name__}: {exc}"
        )


def prices_sync(
    *,
    source: JQuantsSource,
    run_id: int,
    plan: PriceSyncPlan,
    on_item: Callable[[int, str], None] | None = None,
) -> None:
    """Every day (or stock) of the plan into the run, in order; a refusal closes the run failed
    and is raised."""
    try:
        for index, key in enumerate(plan.keys, start=1):
            if plan.codes:
                fetch = _stock_fetch(source=source, code=key, plan=plan)
            else:
                fetch = _day_fetch(source=source, day=datetime.date.fromisoformat(key))
            price_item_sync(source=source, run_id=run_id, key=key, fetch=fetch)
            if on_item is not None:
                on_item(index, key)
    except SourceRefusedError as exc:
        sync_run_abort(run_id=run_id, error=str(exc))
        raise


def _day_fetch(*, source: JQuantsSource, day: datetime.date):
    return lambda: source.day_bars(day)


def _stock_fetch(*, source: JQuantsSource, code: str, plan: PriceSyncPlan):
    def fetch():
        since = plan.start
        last = (
            Stock.objects.filter(market=Stock.Market.TSE, code=code)
            .values_list("last_bar_date", flat=True)
            .first()
        )
        if not plan.start_given and last is not None:
            # From its own last stored day: that one day overlaps, and checks agreement.
            since = max(since, last)
        return source.stock_bars(code, start=since, end=plan.end) if since <= plan.end else []

    return fetch


def step_sync(*, run_id: int, key: str, step: Callable[[], object]) -> bool:
    """The listing or an index as one recorded item of a run; a failure, a refusal included
    (TOPIX needs the Light plan), is recorded and the run goes on."""
    if scrape_run_item_recorded(run_id=run_id, key=key):
        return False
    try:
        result = step()
    except (SourceError, ParseError) as exc:
        return scrape_run_stock_record(run_id=run_id, code=key, error=str(exc))
    return scrape_run_stock_record(
        run_id=run_id,
        code=key,
        bars_written=getattr(result, "inserted", 0),
        disagreements=getattr(result, "disagreements", None),
    )


def sync_run_abort(*, run_id: int, error: str) -> ScrapeRun:
    """Close a run that cannot go on (the source refused the key): what was not done failed."""
    with transaction.atomic():
        run = ScrapeRun.objects.select_for_update().get(pk=run_id)
        missing = max(0, run.stocks_total - run.stocks_done - run.stocks_failed)
        run.stocks_failed += max(missing, 1)
        run.errors = {**run.errors, "(refused)": error}
        run.save(update_fields=["stocks_failed", "errors", "updated_at"])
    return scrape_run_finish(run_id=run_id)


def index_range_default(
    *, source: JQuantsSource, name: str, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """From the day after the index's latest stored bar (or the plan's first day) to today."""
    first_allowed, last_allowed = source.plan.window(today)
    latest = IndexBar.objects.filter(index__code=INDEX_SOURCES[name]["code"]).aggregate(
        last=Max("date")
    )["last"]
    start = latest + datetime.timedelta(days=1) if latest else first_allowed
    return max(start, first_allowed), last_allowed


def market_sync(*, source: JQuantsSource, run_id: int, plan: PriceSyncPlan, today) -> ScrapeRun:
    """The daily sync's steps in one run: the listing (names first, so new issues arrive named),
    the plan's days, then TOPIX; finished with a snapshot rebuild when anything changed."""
    step_sync(run_id=run_id, key=LISTING_STEP, step=lambda: listing_sync(source=source))
    prices_sync(source=source, run_id=run_id, plan=plan)
    if source.plan.has_topix:
        topix_start, topix_end = index_range_default(source=source, name="topix", today=today)
        step_sync(
            run_id=run_id,
            key=TOPIX_STEP,
            step=lambda: index_sync(source=source, name="topix", start=topix_start, end=topix_end),
        )
    return scrape_run_finish(run_id=run_id)


def market_sync_keys(*, source: JQuantsSource, plan: PriceSyncPlan) -> list[str]:
    """The items of a daily sync's run: TOPIX only on plans that serve it."""
    return [LISTING_STEP, *plan.keys, *([TOPIX_STEP] if source.plan.has_topix else [])]
