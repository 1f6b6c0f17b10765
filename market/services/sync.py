"""Runs of the exchange's own data (J-Quants): the listing, daily bars, the trading calendar and
market indices, day by day or stock by stock, each in one transaction and recorded once in its
run. The bars themselves are written by market.services.provider_bars."""

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef

from market.exchanges.tse.jquants import JQuantsSource, ProviderBars
from market.models import DailyBar, IndexBar, MarketIndex, ScrapeRun, Stock, TradingDay
from market.services.listing import LISTING_FIELDS, ListingResult, stock_listing_upsert
from market.services.provider_bars import BarsSaved, provider_bars_save, values_agree
from market.services.runs import (
    scrape_run_finish,
    scrape_run_item_recorded,
    scrape_run_stock_record,
)
from market.sources.base import SourceError, SourceRefusedError
from market.sources.parsing import ParseError

logger = logging.getLogger(__name__)

TOPIX = {"code": "TOPIX", "name": "東証株価指数", "name_en": "TOPIX"}
INDEX_SOURCES = {"topix": TOPIX}
LISTING_STEP, TOPIX_STEP = "listing", "topix"
# How far ahead the exchange publishes its calendar, and so how far ahead we store it.
CALENDAR_AHEAD = datetime.timedelta(days=366)


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


def open_days(
    *, start: datetime.date, end: datetime.date, without_bars: bool = False
) -> list[datetime.date]:
    """The stored calendar's business and half days from start to end; with `without_bars`,
    only those on which no stock has a stored bar."""
    days = TradingDay.objects.filter(
        market=Stock.Market.TSE, date__gte=start, date__lte=end
    ).exclude(kind=TradingDay.Kind.CLOSED)
    if without_bars:
        days = days.exclude(Exists(DailyBar.objects.filter(date=OuterRef("date"))))
    return list(days.order_by("date").values_list("date", flat=True))


@transaction.atomic
def index_sync(
    *, source: JQuantsSource, name: str, start: datetime.date, end: datetime.date
) -> BarsSaved:
    """An index's daily bars (TOPIX); a stored day the source disagrees with is reported, and a
    row that failed validation (dated outside start..end, prices not finite and positive) is
    skipped and reported in `rejected` while the rest is stored."""
    index, _created = MarketIndex.objects.get_or_create(
        code=INDEX_SOURCES[name]["code"],
        defaults={key: value for key, value in INDEX_SOURCES[name].items() if key != "code"},
    )
    answer = source.topix(start=start, end=end)
    bars = answer.bars
    saved = BarsSaved(rejected=answer.rejected)
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
        elif all(values_agree(old, value) for old, value in zip(current, values, strict=True)):
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
    """The range, kept inside what the plan serves, and, with the calendar of that range synced
    first, its business days. Without `start`: for the whole market, every open day of the
    stored calendar that has no bars, from the first day of the stored calendar or of the stored
    bars (else the plan's first day) to `end`, so a day that failed before is fetched again; for
    codes, from the day after their latest stored bar."""
    first_allowed, last_allowed = source.plan.window(today)
    start_given = start is not None
    if start is None and codes:
        latest = latest_stored_day(codes=codes)
        start = latest + datetime.timedelta(days=1) if latest else first_allowed
    elif start is None:
        start = first_stored_day() or first_allowed
    end = end or today
    limited = start < first_allowed or end > last_allowed
    start, end = max(start, first_allowed), min(end, last_allowed)
    days = []
    if start <= end:
        calendar_sync(source=source, start=start, end=end + CALENDAR_AHEAD)
        days = open_days(start=start, end=end, without_bars=not start_given)
    return PriceSyncPlan(
        start=start,
        end=end,
        days=days,
        codes=list(codes),
        limited_by_plan=limited,
        start_given=start_given,
    )


def first_stored_day() -> datetime.date | None:
    """The first day the market's stored calendar or stored bars know."""
    first_bar = Stock.objects.filter(market=Stock.Market.TSE).aggregate(
        first=Min("first_bar_date")
    )["first"]
    first_calendar_day = TradingDay.objects.filter(market=Stock.Market.TSE).aggregate(
        first=Min("date")
    )["first"]
    return min(filter(None, (first_bar, first_calendar_day)), default=None)


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
    *, source: JQuantsSource, run_id: int, key: str, fetch: Callable[[], ProviderBars]
) -> bool:
    """Fetch one day of the market (or one stock's days) and store it in one transaction that
    also records it in the run. A key already recorded (a redelivered task, a resumed run) is
    skipped. Rows that failed validation are skipped and reported with the rest stored. A failure
    is recorded and the caller goes on; a refusal (a bad key) is raised. Returns whether this
    call recorded the item."""
    if scrape_run_item_recorded(run_id=run_id, key=key):
        return False
    try:
        answer = fetch()
        with transaction.atomic():
            run = ScrapeRun.objects.select_for_update().get(pk=run_id)
            if scrape_run_item_recorded(run_id=run_id, key=key):
                return False
            saved = provider_bars_save(day_bars=answer.bars, source=source.name, scrape_run=run)
            return scrape_run_stock_record(
                run_id=run_id,
                code=key,
                bars_written=saved.inserted,
                split=len(saved.splits),
                disagreements=saved.disagreements,
                rejected=answer.rejected,
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
        if since > plan.end:
            return ProviderBars(bars=[], rejected={})
        return source.stock_bars(code, start=since, end=plan.end)

    return fetch


def step_sync(*, run_id: int, key: str, step: Callable[[], object]) -> bool:
    """The listing or an index as one recorded item of a run; any failure, a refusal included
    (TOPIX needs the Light plan) and a bug, is recorded and the run goes on."""
    if scrape_run_item_recorded(run_id=run_id, key=key):
        return False
    try:
        result = step()
    except (SourceError, ParseError) as exc:
        return scrape_run_stock_record(run_id=run_id, code=key, error=str(exc))
    except Exception as exc:
        logger.exception("the %s step failed", key)
        return scrape_run_stock_record(
            run_id=run_id, code=key, error=f"internal error: {exc.__class__.__name__}: {exc}"
        )
    return scrape_run_stock_record(
        run_id=run_id,
        code=key,
        bars_written=getattr(result, "inserted", 0),
        disagreements=getattr(result, "disagreements", None),
        rejected=getattr(result, "rejected", None),
    )


def sync_run_abort(*, run_id: int, error: str, key: str = "(refused)") -> ScrapeRun:
    """Close a run that cannot go on (the source refused the key, a bug): what was not done
    failed, and `error` is recorded under `key`."""
    with transaction.atomic():
        run = ScrapeRun.objects.select_for_update().get(pk=run_id)
        missing = max(0, run.stocks_total - run.stocks_done - run.stocks_failed)
        run.stocks_failed += max(missing, 1)
        run.errors = {**run.errors, key: error}
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
    the plan's days, then TOPIX; finished with a snapshot rebuild when anything changed. Whatever
    stops it half way closes the run with the error recorded."""
    try:
        step_sync(run_id=run_id, key=LISTING_STEP, step=lambda: listing_sync(source=source))
        prices_sync(source=source, run_id=run_id, plan=plan)
        if source.plan.has_topix:
            topix_start, topix_end = index_range_default(source=source, name="topix", today=today)
            step_sync(
                run_id=run_id,
                key=TOPIX_STEP,
                step=lambda: index_sync(
                    source=source, name="topix", start=topix_start, end=topix_end
                ),
            )
    except SourceRefusedError:
        raise  # prices_sync closed the run
    except Exception as exc:
        logger.exception("the market sync of run %d stopped", run_id)
        sync_run_abort(
            run_id=run_id, key="(stopped)", error=f"internal error: {exc.__class__.__name__}: {exc}"
        )
        raise
    return scrape_run_finish(run_id=run_id)


def market_sync_keys(*, source: JQuantsSource, plan: PriceSyncPlan) -> list[str]:
    """The items of a daily sync's run: TOPIX only on plans that serve it."""
    return [LISTING_STEP, *plan.keys, *([TOPIX_STEP] if source.plan.has_topix else [])]
