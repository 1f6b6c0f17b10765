"""Celery tasks of the market app: thin, they take codes and ids and call services."""

import datetime
import logging

from celery import group, shared_task
from django.conf import settings

from market.exchanges.tse.calendar import tokyo_today
from market.models import Stock
from market.selectors import is_trading_day
from market.services.runs import scrape_run_start, scrape_runs_reap, stock_scrape
from market.services.sync import (
    market_sync,
    market_sync_keys,
    price_sync_plan,
    prices_sync,
    sync_run_start,
)
from market.sources import SourceRefusedError, TransientSourceError, price_source

logger = logging.getLogger(__name__)

# A soft limit first, so that the task records its stock as failed before the hard kill.
SOFT_LIMIT_MARGIN = 30


@shared_task(
    name="market.sync_market",
    time_limit=settings.SYNC_TASK_TIME_LIMIT,
    soft_time_limit=settings.SYNC_TASK_TIME_LIMIT - SOFT_LIMIT_MARGIN,
)
def sync_market(trigger: str = "schedule") -> dict:
    """The daily update through the configured source (MARKET_SOURCE): with J-Quants the
    listing, the days since the latest stored bar, TOPIX, then a snapshot rebuild; with kabutan
    the per-stock scrape. On days the exchange is closed (its stored calendar says so) the
    schedule does nothing. A redelivered task continues its day's run."""
    today = tokyo_today()
    if trigger == "schedule" and not is_trading_day(today):
        logger.info("%s is not a trading day: no sync", today)
        return {"skipped": f"{today} is not a trading day"}
    if settings.MARKET_SOURCE != "jquants":
        return scrape_market(trigger=trigger, source=settings.MARKET_SOURCE)
    try:
        source = price_source("jquants")
    except SourceRefusedError as exc:
        logger.error("J-Quants sync refused: %s", exc)
        return {"error": str(exc)}
    try:
        plan = price_sync_plan(source=source, start=None, end=None, today=today)
        run = sync_run_start(
            keys=market_sync_keys(source=source, plan=plan),
            trigger=trigger,
            scope=f"{trigger} {today}",
        )
        run = market_sync(source=source, run_id=run.pk, plan=plan, today=today)
    except SourceRefusedError as exc:
        logger.error("J-Quants sync refused: %s", exc)
        return {"error": str(exc)}
    finally:
        source.close()
    return {"run_id": run.pk, "status": run.status, "days": len(plan.days)}


@shared_task(
    name="market.sync_stocks",
    time_limit=settings.SYNC_TASK_TIME_LIMIT,
    soft_time_limit=settings.SYNC_TASK_TIME_LIMIT - SOFT_LIMIT_MARGIN,
)
def sync_stocks(codes: list[str], trigger: str = "admin") -> dict:
    """These stocks' days since their latest stored bar, one stock at a time, through the
    configured source ("sync now" in admin)."""
    if settings.MARKET_SOURCE != "jquants":
        return scrape_market(codes=codes, trigger=trigger, source=settings.MARKET_SOURCE)
    try:
        source = price_source("jquants")
    except SourceRefusedError as exc:
        logger.error("J-Quants sync refused: %s", exc)
        return {"error": str(exc)}
    today = tokyo_today()
    try:
        plan = price_sync_plan(source=source, start=None, end=None, codes=codes, today=today)
        run = sync_run_start(keys=plan.keys, trigger=trigger, scope=f"{trigger} {plan.scope}")
        prices_sync(source=source, run_id=run.pk, plan=plan)
    except SourceRefusedError as exc:
        logger.error("J-Quants sync refused: %s", exc)
        return {"error": str(exc)}
    finally:
        source.close()
    return {"run_id": run.pk, "stocks": len(codes)}


@shared_task(name="market.scrape_market")
def scrape_market(
    codes: list[str] | None = None, trigger: str = "schedule", source: str = "kabutan"
) -> dict:
    """Scrape the listed stocks (or `codes`) from a site: one task per stock, in batches."""
    if not codes:
        codes = list(
            Stock.objects.filter(market=Stock.Market.TSE, is_listed=True)
            .order_by("code")
            .values_list("code", flat=True)
        )
    run = scrape_run_start(source=source, codes=codes, trigger=trigger)
    size = max(1, settings.SCRAPE_BATCH_SIZE)
    for start in range(0, len(codes), size):
        group(scrape_stock.s(code, run.pk, source) for code in codes[start : start + size])()
    return {"run_id": run.pk, "stocks": len(codes)}


@shared_task(
    bind=True,
    name="market.scrape_stock",
    # Per worker; the HTTP client also keeps SCRAPE_RATE_PER_SECOND per host in each process.
    rate_limit=f"{max(1, round(settings.SCRAPE_RATE_PER_SECOND * 60))}/m",
    max_retries=settings.SCRAPE_TASK_RETRIES,
    time_limit=settings.SCRAPE_TASK_TIME_LIMIT,
    soft_time_limit=settings.SCRAPE_TASK_TIME_LIMIT - SOFT_LIMIT_MARGIN,
)
def scrape_stock(self, code: str, run_id: int, source: str = "kabutan") -> None:
    """Scrape one stock into run `run_id`. A site that stays unreachable through the client's
    own retries is tried again later (SCRAPE_TASK_RETRY_SECONDS, doubling); after the last try
    the failure is recorded in the run, never raised. A redelivered task finds its stock
    recorded and does nothing."""
    site = price_source(source)
    try:
        stock_scrape(
            code=code,
            run_id=run_id,
            source=site,
            # Run eagerly (no broker), there is no "later": record the failure now.
            retry_transient=not self.request.is_eager and self.request.retries < self.max_retries,
        )
    except TransientSourceError as exc:
        raise self.retry(
            exc=exc, countdown=settings.SCRAPE_TASK_RETRY_SECONDS * 2**self.request.retries
        ) from exc
    finally:
        site.close()


@shared_task(name="market.reap_stale_runs")
def reap_stale_runs() -> list[int]:
    """Close runs whose tasks were lost (see services.scrape_runs_reap)."""
    return scrape_runs_reap(
        stale_after=datetime.timedelta(seconds=settings.SCRAPE_RUN_STALE_SECONDS)
    )
