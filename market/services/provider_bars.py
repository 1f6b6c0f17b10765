"""Writes of the provider's daily bars (J-Quants) with its split factors: a batch of days of
many stocks, or many days of one stock, in one transaction."""

import datetime
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Least

from market.exchanges.tse.jquants import DayBar
from market.models import (
    DailyBar,
    HeldAdjFactor,
    ScrapeRun,
    SplitAdjustment,
    Stock,
)
from market.services.daily_bars import (
    BAR_VALUE_FIELDS,
    daily_bar_rows_insert,
    market_summary_invalidate,
)
from market.services.listing import stocks_ensure

logger = logging.getLogger(__name__)

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
    held: list[HeldAdjFactor] = field(default_factory=list)
    # Rows of the provider's answer skipped by validation, with the reason (index bars: stock
    # bars carry theirs in ProviderBars).
    rejected: dict[str, str] = field(default_factory=dict)


def values_agree(stored: float, fetched: float) -> bool:
    return abs(stored - fetched) <= 1e-6 * max(1.0, abs(fetched))


def _disagreement(stored: tuple, bar) -> str:
    fetched = (bar.open, bar.high, bar.low, bar.close, bar.volume)
    differing = [
        f"{name} {old:g} stored, {new:g} from the source"
        for name, old, new in zip(RAW_FIELDS, stored, fetched, strict=True)
        if not values_agree(old, new)
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
    the next stored day, so the adjusted series has no cliff. A factor the provider gave outside
    the plausible range (`DayBar.held_factor`) is not applied: a HeldAdjFactor waits for staff.
    Stocks not yet known are created unlisted.
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
        _stock_bars_collect(
            stock_id=stock_id,
            rows=rows,
            stored=stored,
            next_stored=next_stored,
            saved=saved,
            new_rows=new_rows,
            span=span,
            source=source,
            scrape_run=scrape_run,
        )
    daily_bar_rows_insert(rows=new_rows)
    saved.inserted = len(new_rows)
    HeldAdjFactor.objects.bulk_create(saved.held, ignore_conflicts=True)
    _bar_dates_extend(span=span)
    if saved.inserted or saved.splits:
        market_summary_invalidate()
    return saved


def _stock_bars_collect(
    *, stock_id, rows, stored, next_stored, saved, new_rows, span, source, scrape_run
) -> None:
    """One stock's days of the batch: count the stored ones, apply the splits of the new ones
    and add these to new_rows with their adjusted close, widening the stock's span."""
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
            if current == raw or all(map(values_agree, current, raw)):
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
        if row.held_factor is not None:
            saved.held.append(
                HeldAdjFactor(
                    stock_id=stock_id,
                    date=bar.date,
                    factor=row.held_factor,
                    source=source,
                    scrape_run=scrape_run,
                )
            )
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


@transaction.atomic
def held_adj_factor_apply(*, held_id: int) -> SplitAdjustment | None:
    """Apply a held split factor after staff reviewed it: the stored history before its day is
    re-adjusted as for any split, and the hold is gone."""
    held = HeldAdjFactor.objects.select_for_update().select_related("stock").get(pk=held_id)
    _stocks_lock(codes={held.stock.code})
    split = _split_apply(
        stock_id=held.stock_id,
        day_bar=DayBar(
            code=held.stock.code,
            bar=DailyBar.objects.get(stock_id=held.stock_id, date=held.date),
            adj_factor=held.factor,
        ),
        earlier_in_batch=None,
        source=held.source,
        scrape_run=held.scrape_run,
    )
    held.delete()
    market_summary_invalidate()
    return split


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
