"""Writes of market data: daily bars and scrape runs.

The listed issues are written by `market.listing`, split re-adjustments of scraped bars by
`market.splits`, price file imports by `market.imports`.
"""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from market.bars import Bar, bar_problem
from market.models import DailyBar, ScrapeRun, ScrapeRunItem, Stock
from market.selectors import MARKET_SUMMARY_CACHE_KEY

if TYPE_CHECKING:
    from market.sources import PriceSource

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


# --- Scrape runs ----------------------------------------------------------------------------


def scrape_run_start(*, source: str, codes: Sequence[str], trigger: str) -> ScrapeRun:
    """A run over these codes; finished at once when there is nothing to scrape."""
    run = ScrapeRun.objects.create(source=source, trigger=trigger, stocks_total=len(codes))
    if not codes:
        scrape_run_finish(run_id=run.pk)
        run.refresh_from_db()
    return run


def stock_scrape(
    *, code: str, run_id: int, source: "PriceSource", retry_transient: bool = False
) -> None:
    """Fetch one stock's new days and store them, then count it in the run: one transaction.

    Days from SCRAPE_OVERLAP_DAYS before the last stored bar are fetched again so that a split
    shows up as a constant ratio (see scraped_bars_save). A failure is recorded against the
    stock in the run and writes nothing; the other stocks go on. With `retry_transient`, a
    TransientSourceError is raised instead of recorded, for the caller to try again later.
    """
    from market.sources import SourceError, TransientSourceError
    from market.splits import scraped_bars_save

    if scrape_run_item_recorded(run_id=run_id, key=code):
        return  # a redelivered task: this stock is already done
    stock = Stock.objects.filter(market=Stock.Market.TSE, code=code).first()
    if stock is None:
        scrape_run_stock_record(run_id=run_id, code=code, error="unknown stock code")
        return
    since = None
    if stock.last_bar_date is not None:
        since = stock.last_bar_date - datetime.timedelta(days=settings.SCRAPE_OVERLAP_DAYS)
    try:
        bars = source.fetch_daily_bars(code, since=since)
        with transaction.atomic():
            run = ScrapeRun.objects.select_for_update().get(pk=run_id)
            if scrape_run_item_recorded(run_id=run_id, key=code):
                return  # another delivery of this task stored it meanwhile
            result = scraped_bars_save(stock=stock, bars=bars, source=source.name, scrape_run=run)
            scrape_run_stock_record(
                run_id=run_id,
                code=code,
                bars_written=result.upsert.changed,
                split=result.split is not None,
            )
    except TransientSourceError as exc:
        if retry_transient:
            raise
        scrape_run_stock_record(run_id=run_id, code=code, error=str(exc))
    except (SourceError, BarsRejectedError) as exc:
        scrape_run_stock_record(run_id=run_id, code=code, error=str(exc))
    except Exception as exc:
        # A bug must not leave the run waiting forever for this stock.
        logger.exception("scraping %s failed", code)
        scrape_run_stock_record(
            run_id=run_id, code=code, error=f"internal error: {exc.__class__.__name__}: {exc}"
        )


def scrape_run_item_recorded(*, run_id: int, key: str) -> bool:
    return ScrapeRunItem.objects.filter(run_id=run_id, key=key).exists()


# Provider rows skipped that a run keeps with their reasons; beyond them it counts (REJECTED_MORE).
REJECTED_ROWS_KEPT = 200
REJECTED_MORE = "(more)"


def _rejected_rows_merge(kept: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    merged = dict(kept)
    more = int(merged.pop(REJECTED_MORE, 0))
    for key, reason in new.items():
        if len(merged) < REJECTED_ROWS_KEPT:
            merged[key] = reason
        else:
            more += 1
    if more:
        merged[REJECTED_MORE] = str(more)
    return merged


@transaction.atomic
def scrape_run_stock_record(
    *,
    run_id: int,
    code: str,
    bars_written: int = 0,
    split: bool | int = False,
    error: str = "",
    disagreements: dict[str, str] | None = None,
    rejected: dict[str, str] | None = None,
) -> bool:
    """Count one stock (or day, or step) as done or failed, once: a second report of the same
    key in the run (a redelivered task) counts nothing. The last one to report finishes the run.
    `rejected` are the provider's rows skipped by validation (the item itself is done), kept up to
    REJECTED_ROWS_KEPT a run and counted beyond. Returns whether this report counted."""
    run = ScrapeRun.objects.select_for_update().get(pk=run_id)
    _item, created = ScrapeRunItem.objects.get_or_create(
        run=run, key=code, defaults={"bars_written": bars_written, "error": error}
    )
    if not created:
        return False
    if error:
        run.stocks_failed += 1
        run.errors = {**run.errors, code: error}
    else:
        run.stocks_done += 1
        run.bars_written += bars_written
        run.splits_detected += int(split)
    if disagreements:
        run.disagreements = {**run.disagreements, **disagreements}
    if rejected:
        run.rejected_rows = _rejected_rows_merge(run.rejected_rows, rejected)
    run.save(
        update_fields=[
            "stocks_done",
            "stocks_failed",
            "bars_written",
            "splits_detected",
            "errors",
            "disagreements",
            "rejected_rows",
            "updated_at",
        ]
    )
    if (
        run.status == ScrapeRun.Status.RUNNING
        and run.stocks_total
        and run.stocks_done + run.stocks_failed >= run.stocks_total
    ):
        scrape_run_finish(run_id=run_id)
    return True


@transaction.atomic
def scrape_run_finish(*, run_id: int) -> ScrapeRun:
    """Close the run with its status, and ask for a new similarity snapshot if data changed.

    The snapshot task belongs to the similarity app; it is queued after this commits.
    """
    run = ScrapeRun.objects.select_for_update().get(pk=run_id)
    if run.status != ScrapeRun.Status.RUNNING:
        return run
    if run.stocks_failed == 0:
        run.status = ScrapeRun.Status.SUCCEEDED
    elif run.stocks_done == 0:
        run.status = ScrapeRun.Status.FAILED
    else:
        run.status = ScrapeRun.Status.PARTIAL
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "updated_at"])
    if run.bars_written or run.splits_detected:
        market_summary_invalidate()
        snapshot_rebuild_request()
    return run


def scrape_runs_reap(*, stale_after: datetime.timedelta) -> list[int]:
    """Close the runs still "running" whose records have not moved for `stale_after`: their
    tasks were lost (a worker killed, a broker flushed). The items never reported count as
    failed. Returns the ids closed."""
    cutoff = timezone.now() - stale_after
    reaped = []
    for run_id in ScrapeRun.objects.filter(
        status=ScrapeRun.Status.RUNNING, updated_at__lt=cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            run = ScrapeRun.objects.select_for_update().get(pk=run_id)
            if run.status != ScrapeRun.Status.RUNNING or run.updated_at >= cutoff:
                continue
            missing = max(0, run.stocks_total - run.stocks_done - run.stocks_failed)
            run.stocks_failed += missing
            run.errors = {
                **run.errors,
                "(lost)": f"no progress since {run.updated_at:%Y-%m-%d %H:%M %Z}: "
                f"{missing} never reported, closed by the reaper",
            }
            run.save(update_fields=["stocks_failed", "errors", "updated_at"])
            scrape_run_finish(run_id=run_id)
            reaped.append(run_id)
    return reaped


def snapshot_rebuild_request() -> None:
    """Queue similarity.tasks.snapshot_rebuild once the current transaction commits."""
    from similarity.tasks import snapshot_rebuild  # similarity depends on market, not back

    transaction.on_commit(snapshot_rebuild.delay)
