import datetime

import pytest

from market.bars import Bar
from market.services.daily_bars import daily_bars_upsert
from market.services.listing import stocks_ensure
from tests.http_server import LocalHTTPServer
from tests.market.kabutan_pages import jp_daily_rows


@pytest.fixture
def kabutan_server(settings):
    """A local threaded HTTP server standing in for kabutan.jp, with quick, short retries."""
    server = LocalHTTPServer(threaded=True)
    server.start()
    settings.SCRAPE_BASE_URL = server.url_for("")
    settings.SCRAPE_RATE_PER_SECOND = 1000.0
    settings.SCRAPE_BACKOFF_SECONDS = 0.01
    settings.SCRAPE_MAX_RETRIES = 2
    settings.SCRAPE_TIMEOUT_SECONDS = 0.5
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def jp_daily(shared_data_dir):
    """Rows of a jp_daily file by code, oldest first."""
    cache: dict[str, list[dict]] = {}

    def rows(code: str) -> list[dict]:
        if code not in cache:
            cache[code] = jp_daily_rows(shared_data_dir / "jp_daily" / f"{code}.csv")
        return cache[code]

    return rows


@pytest.fixture
def store_history(jp_daily):
    """Store a stock's jp_daily days up to a date, adjusted as they were on that date."""

    def store(code: str, *, until: datetime.date, days: int = 60):
        rows = [row for row in jp_daily(code) if row["date"] <= until][-days:]
        # The adjusted close relative to `until`: later splits had not happened yet.
        scale = rows[-1]["close"] / rows[-1]["adj_close"]
        stock = stocks_ensure(codes=[code])[code]
        daily_bars_upsert(
            stock=stock,
            bars=[
                Bar(
                    date=row["date"],
                    open=row["open"],
                    high=row["high"],
                    low=row["low"],
                    close=row["close"],
                    volume=row["volume"],
                    adj_close=row["adj_close"] * scale,
                )
                for row in rows
            ],
        )
        stock.refresh_from_db()
        return stock

    return store


@pytest.fixture
def jquants(settings):
    """A local J-Quants V2 server; the Premium rate (so no waits, and 20 years of history)."""
    from tests.market.jquants_server import API_KEY, FakeJQuants

    server = LocalHTTPServer(threaded=True)
    server.start()
    fake = FakeJQuants(server)
    settings.JQUANTS_API_BASE = fake.base_url
    settings.JQUANTS_API_KEY = API_KEY
    settings.JQUANTS_RATE_PER_MINUTE = 600_000
    settings.JQUANTS_RETRY_WAIT = 0.01
    settings.MARKET_SOURCE = "jquants"
    settings.SCRAPE_BACKOFF_SECONDS = 0.01
    settings.SCRAPE_MAX_RETRIES = 2
    settings.SCRAPE_TIMEOUT_SECONDS = 2
    yield fake
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def market(jquants, jp_daily):
    """The fake API serving 7203 and 6098 through 2017, and the exchange's calendar of 2017."""
    from tests.market.jquants_server import calendar_rows, rows_from_jp_daily

    year = (datetime.date(2017, 1, 1), datetime.date(2017, 12, 31))
    for code in ("7203", "6098"):
        rows = [row for row in jp_daily(code) if year[0] <= row["date"] <= year[1]]
        jquants.add_daily(rows_from_jp_daily(rows, code))
    trading = [row["date"] for row in jp_daily("7203")]
    jquants.calendar = calendar_rows(trading, *year)
    return jquants


@pytest.fixture
def prices_announced():
    """market's prices_changed as sent, recorded instead of handed on to the pipeline (which
    would rebuild the snapshot): what market promises the apps above it."""
    from market.signals import prices_changed
    from stocksite import pipeline

    sent = []

    def record(**kwargs):
        sent.append(kwargs)

    prices_changed.disconnect(dispatch_uid="pipeline.snapshot_rebuild")
    prices_changed.connect(record, weak=False, dispatch_uid="tests.prices_announced")
    yield sent
    prices_changed.disconnect(dispatch_uid="tests.prices_announced")
    pipeline.connect()
