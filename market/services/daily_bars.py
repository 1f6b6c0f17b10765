"""Writes of daily bars: the idempotent upsert on (stock, date), in one transaction."""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import connection, transaction

from market.bars import Bar, bar_problem
from market.models import DailyBar, Stock
from market.selectors import MARKET_SUMMARY_CACHE_KEY

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

BAR_VALUE_FIELDS = ("open", "high", "low", "close", "volume", "adj_close")


class BarsRejectedError(ValueError):
    """Bars that cannot be stored as they are; nothing of them was written."""


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: "UpsertResult") -> "UpsertResult":
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def market_summary_invalidate() -> None:
    """Drop the cached summary once the writing transaction commits."""
    transaction.on_commit(lambda: cache.delete(MARKET_SUMMARY_CACHE_KEY))


# --- Daily bars -----------------------------------------------------------------------------


@transaction.atomic
def daily_bars_upsert(*, stock: Stock, bars: Sequence[Bar]) -> UpsertResult:
    """Insert new days and update changed ones of one stock; say how many of each.

    A bar without an adjusted close is stored with adj_close = close (no split since). Repeating
    the same bars writes nothing and returns them all as unchanged.
    """
    if not bars:
        return UpsertResult()
    for bar in bars:
        problem = bar_problem(bar)
        if problem:
            raise BarsRejectedError(f"{stock.code} {bar.date}: {problem}")
    # One writer per stock at a time: the check-then-write below relies on it.
    locked = Stock.objects.select_for_update().only("pk").get(pk=stock.pk)
    first_date = min(bar.date for bar in bars)
    last_date = max(bar.date for bar in bars)
    stored = {
        row[0]: row[1:]
        for row in DailyBar.objects.filter(
            stock=locked, date__gte=first_date, date__lte=last_date
        ).values_list("date", *BAR_VALUE_FIELDS)
    }
    result = UpsertResult()
    new_rows, changed_rows = [], []
    for bar in bars:
        values = (
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
            bar.close if bar.adj_close is None else bar.adj_close,
        )
        current = stored.get(bar.date)
        if current is None:
            new_rows.append((bar.date, *values))
        elif current != values:
            changed_rows.append((bar.date, *values))
        else:
            result.unchanged += 1
    if new_rows:
        _daily_bars_insert(stock_id=locked.pk, rows=new_rows)
    if changed_rows:
        DailyBar.objects.bulk_create(
            [_daily_bar(locked.pk, row) for row in changed_rows],
            update_conflicts=True,
            unique_fields=["stock", "date"],
            update_fields=list(BAR_VALUE_FIELDS),
            batch_size=2000,
        )
    result.inserted, result.updated = len(new_rows), len(changed_rows)
    if new_rows:
        _stock_bar_dates_extend(stock=stock, first=first_date, last=last_date)
    if result.changed:
        market_summary_invalidate()
    return result


def _daily_bar(stock_id: int, row: tuple) -> DailyBar:
    return DailyBar(stock_id=stock_id, **dict(zip(("date", *BAR_VALUE_FIELDS), row, strict=True)))


def _daily_bars_insert(*, stock_id: int, rows: list[tuple]) -> None:
    daily_bar_rows_insert(rows=[(stock_id, *row) for row in rows])


def daily_bar_rows_insert(*, rows: list[tuple]) -> None:
    """Insert rows (stock_id, date, open, high, low, close, volume, adj_close) known to be new:
    the caller holds the locks of their stocks."""
    if connection.vendor == "postgresql":
        # COPY is several times faster than multi-row INSERT for the thousands of days a file
        # holds; the rows are known to be new because the stock row is locked.
        columns = ", ".join(("stock_id", "date", *BAR_VALUE_FIELDS))
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {DailyBar._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    # Elsewhere (SQLite) one prepared INSERT run over all rows: the driver loops in C, where
    # bulk_create would build a model instance and SQL text per batch.
    table = connection.ops.quote_name(DailyBar._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(c) for c in ("stock_id", "date", *BAR_VALUE_FIELDS)
    )
    placeholders = ", ".join(["%s"] * (2 + len(BAR_VALUE_FIELDS)))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


def _stock_bar_dates_extend(*, stock: Stock, first: datetime.date, last: datetime.date) -> None:
    stock.refresh_from_db(fields=["first_bar_date", "last_bar_date"])
    new_first = min(filter(None, (stock.first_bar_date, first)))
    new_last = max(filter(None, (stock.last_bar_date, last)))
    if (new_first, new_last) != (stock.first_bar_date, stock.last_bar_date):
        stock.first_bar_date, stock.last_bar_date = new_first, new_last
        stock.save(update_fields=["first_bar_date", "last_bar_date", "updated_at"])
