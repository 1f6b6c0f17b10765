"""Celery tasks of the market app: thin, they take codes and ids and call services."""

import logging

from celery import group, shared_task
from django.conf import settings

from market.calendar import is_trading_day, tokyo_today
from market.models import Stock
from market.services import scrape_run_start, stock_scrape
from market.sources import DEFAULT_SOURCE, price_source

logger = logging.getLogger(__name__)


@shared_task(name="market.scrape_market")
def scrape_market(
    codes: list[str] | None = None, trigger: str = "schedule", source: str = DEFAULT_SOURCE
) -> dict:
    """Scrape the listed stocks (or `codes`): one task per stock, queued in batches.

    The beat schedule runs it on weekdays after the close; on exchange holidays it does nothing.
    """
    if trigger == "schedule" and not is_trading_day(tokyo_today()):
        logger.info("%s is not a trading day: no scrape", tokyo_today())
        return {"skipped": f"{tokyo_today()} is not a trading day"}
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
    name="market.scrape_stock",
    # Per worker; the HTTP client also keeps SCRAPE_RATE_PER_SECOND per host in each process.
    rate_limit=f"{max(1, round(settings.SCRAPE_RATE_PER_SECOND * 60))}/m",
)
def scrape_stock(code: str, run_id: int, source: str = DEFAULT_SOURCE) -> None:
    """Scrape one stock into run `run_id`; its failure is recorded in the run, never raised."""
    site = price_source(source)
    try:
        stock_scrape(code=code, run_id=run_id, source=site)
    finally:
        site.close()
