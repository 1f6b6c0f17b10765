"""Benchmark of the J-Quants sync: a year of a 4,000-issue market from a local server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stocksite_bench \\
        .venv/bin/python benchmarks/jquants_sync_bench.py [--issues 4000] [--days 245]

The listing is synced first, as on a fresh deployment. A local server in J-Quants V2 shape
(tests/market/jquants_server.py) serves synthetic daily
bars (random walks, a 1:2 split in one issue of fifty) by date, paged by `pagination_key`. The
script syncs every business day through the same services as `manage.py sync_prices` (one
request per day plus pages, one transaction per day, recorded in a run), then again (the
idempotent rerun: every row compared, nothing written). It prints, per pass, the wall clock
split into the HTTP fetch with parsing and our store, rows per second, and the time the plan's
rate alone would take for the same requests: our part should be well under it.
It deletes every stock, bar and run first: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from pytest_httpserver import HTTPServer  # noqa: E402

from market.exchanges.tse.jquants import JQuantsSource  # noqa: E402
from market.models import DailyBar, ScrapeRun, Stock, TradingDay  # noqa: E402
from market.services.sync import (  # noqa: E402
    calendar_sync,
    listing_sync,
    open_days,
    price_item_sync,
    sync_run_start,
)
from similarity import tasks as _similarity_tasks  # noqa: E402, F401  (imported before timing)
from tests.market.jquants_server import API_KEY, FakeJQuants, api_code, master_row  # noqa: E402

FIRST_DAY = datetime.date(2025, 1, 6)
SPLIT_EVERY = 50
PLAN_RATES = {"Light": 60, "Standard": 120, "Premium": 500}


class SyntheticMarket(FakeJQuants):
    """Rows made on request from a precomputed random walk: no million dicts in memory."""

    def __init__(self, server, *, issues: int, days: list[datetime.date], page_size: int):
        super().__init__(server, page_size=page_size)
        rng = np.random.default_rng(13)
        steps = rng.normal(0, 0.015, size=(issues, len(days)))
        self.closes = np.round(1000 * np.exp(np.cumsum(steps, axis=1)), 1)
        self.codes = [api_code(str(1000 + number)) for number in range(issues)]
        self.day_index = {day.isoformat(): index for index, day in enumerate(days)}
        self.split_day = len(days) // 2
        self.calendar = [{"Date": day.isoformat(), "HolDiv": "1"} for day in days]
        self.master = [master_row(code[:4], f"銘柄{code[:4]}") for code in self.codes]

    def _daily(self, args):
        index = self.day_index.get(args.get("date", ""))
        if index is None:
            return []
        rows = []
        for number, code in enumerate(self.codes):
            close = float(self.closes[number, index])
            split = number % SPLIT_EVERY == 0 and index == self.split_day
            rows.append(
                {
                    "Date": args["date"],
                    "Code": code,
                    "O": close,
                    "H": round(close * 1.01, 1),
                    "L": round(close * 0.99, 1),
                    "C": close,
                    "Vo": 1000.0 + number,
                    "AdjFactor": 0.5 if split else 1.0,
                }
            )
        return rows


def business_days(count: int) -> list[datetime.date]:
    days, day = [], FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def sync_pass(source: JQuantsSource, days: list[datetime.date], label: str) -> dict:
    run = sync_run_start(
        keys=[day.isoformat() for day in days], trigger="manual", scope=f"bench {label}"
    )
    fetch_seconds = store_seconds = 0.0
    rows = 0
    started = time.perf_counter()
    for day in days:
        fetch_started = time.perf_counter()
        day_bars = source.day_bars(day)
        fetched = time.perf_counter()
        price_item_sync(
            source=source, run_id=run.pk, key=day.isoformat(), fetch=lambda bars=day_bars: bars
        )
        store_seconds += time.perf_counter() - fetched
        fetch_seconds += fetched - fetch_started
        rows += len(day_bars.bars)
    run.refresh_from_db()
    return {
        "label": label,
        "seconds": time.perf_counter() - started,
        "fetch": fetch_seconds,
        "store": store_seconds,
        "rows": rows,
        "written": run.bars_written,
        "status": run.status,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=4000)
    parser.add_argument("--days", type=int, default=245)
    parser.add_argument("--page-size", type=int, default=2000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    # The snapshot rebuild a run queues when it ends is not the sync's work: queue it nowhere.
    from stocksite.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    DailyBar.objects.all().delete()
    ScrapeRun.objects.all().delete()
    Stock.objects.all().delete()
    TradingDay.objects.all().delete()
    days = business_days(args.days)
    server = HTTPServer(threaded=True)
    server.start()
    market = SyntheticMarket(server, issues=args.issues, days=days, page_size=args.page_size)
    settings.JQUANTS_API_BASE = market.base_url
    settings.JQUANTS_API_KEY = API_KEY
    settings.JQUANTS_RATE_PER_MINUTE = 1_000_000
    source = JQuantsSource()
    try:
        # As a fresh deployment does: the listing first (sync_listing), then the prices.
        listing_sync(source=source)
        calendar_sync(source=source, start=days[0], end=days[-1])
        days = open_days(start=days[0], end=days[-1])
        passes = [sync_pass(source, days, "first"), sync_pass(source, days, "repeat")]
    finally:
        source.close()
        server.stop()
    requests = len(market.requested("/equities/bars/daily")) // 2

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(
        f"market: {args.issues} issues x {len(days)} business days, pages of {args.page_size} "
        f"rows: {requests} requests a pass"
    )
    print()
    print(
        f"{'pass':<8} {'seconds':>8} {'fetch+parse':>12} {'store':>8} {'rows':>9} "
        f"{'written':>9} {'rows/s':>9} {'stored rows/s':>14}"
    )
    for result in passes:
        print(
            f"{result['label']:<8} {result['seconds']:>8.1f} {result['fetch']:>12.1f} "
            f"{result['store']:>8.1f} {result['rows']:>9} {result['written']:>9} "
            f"{result['rows'] / result['seconds']:>9.0f} "
            f"{result['rows'] / result['store']:>14.0f}"
        )
    print()
    for plan, rate in PLAN_RATES.items():
        print(f"the {plan} plan's rate alone ({rate}/min): {requests / rate * 60:,.0f} s a pass")


if __name__ == "__main__":
    main()
