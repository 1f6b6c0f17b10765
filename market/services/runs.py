"""Scrape runs: one stock at a time from a site, recorded once in its run, closed when done."""

import datetime
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from market.models import ScrapeRun, ScrapeRunItem, Stock
from market.services.daily_bars import BarsRejectedError, market_summary_invalidate
from market.services.splits import scraped_bars_save
from market.signals import prices_changed

if TYPE_CHECKING:
    from market.sources import PriceSource

logger = logging.getLogger(__name__)


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
    """Close the run with its status, and announce the new prices if data changed."""
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
        prices_changed_announce()
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


def prices_changed_announce() -> None:
    """Tell the apps above (a new search snapshot, then alerts) once this transaction commits."""
    transaction.on_commit(lambda: prices_changed.send(sender=ScrapeRun))
