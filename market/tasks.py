"""Celery tasks of the market app: thin, they take codes and ids and call services."""

import logging

from celery import group, shared_task
from django.conf import settings

from market.calendar import is_trading_day, tokyo_today
from market.models import Stock
from market.services import scrape_run_start, stock_scrape
from market.sources import DEFAULT_SOURCE, TransientSourceError, price_source

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
    bind=True,
    name="market.scrape_stock",
    # Per worker; the HTTP client also keeps SCRAPE_RATE_PER_SECOND per host in each process.
    rate_limit=f"{max(1, round(settings.SCRAPE_RATE_PER_SECOND * 60))}/m",
    max_retries=settings.SCRAPE_TASK_RETRIES,
)
def scrape_stock(self, code: str, run_id: int, source: str = DEFAULT_SOURCE) -> None:
    """Scrape one stock into run `run_id`. A site that stays unreachable through the client's
    own retries is tried again later (SCRAPE_TASK_RETRY_SECONDS, doubling); after the last try
    the failure is recorded in the run, never raised."""
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
