"""The bundled demo market: a real subset of jp_daily and the exchange's rows for it."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from market.exchanges.tse.files import read_listing_file
from market.models import ScrapeRun, Stock
from market.selectors import DEMO_SOURCE
from market.services.daily_bars import UpsertResult, market_summary_invalidate
from market.services.imports import price_files_import
from market.services.listing import stock_listing_upsert, stock_names_en_set

DEMO_DIR = Path(__file__).resolve().parent / "demo"


@dataclass
class DemoLoadResult:
    stocks: int = 0
    bars: UpsertResult = field(default_factory=UpsertResult)
    failures: list[str] = field(default_factory=list)


def demo_market_load(*, force: bool = False) -> DemoLoadResult | None:
    """Load the demo listing and prices; None (nothing done) if stocks exist, unless forced."""
    if not force and Stock.objects.exists():
        return None
    stock_listing_upsert(rows=read_listing_file(DEMO_DIR / "listing.csv"))
    report = price_files_import(paths=[DEMO_DIR / "prices.csv.gz"])
    with (DEMO_DIR / "names_en.csv").open(encoding="utf-8", newline="") as names:
        stock_names_en_set(names={row["code"]: row["name_en"] for row in csv.DictReader(names)})
    # A run of its own, so that every page can say the prices are the demo's, and since when.
    ScrapeRun.objects.create(
        source=DEMO_SOURCE,
        trigger="manual",
        status=ScrapeRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        stocks_total=Stock.objects.count(),
        stocks_done=Stock.objects.count(),
        bars_written=report.totals.inserted,
    )
    market_summary_invalidate()
    return DemoLoadResult(
        stocks=Stock.objects.count(),
        bars=report.totals,
        failures=report.failures,
    )
