import csv
import datetime as dt
import functools
from pathlib import Path

import pytest

from market.bars import Bar
from market.models import Stock
from market.services.daily_bars import daily_bars_upsert
from tests.factories import ComplimentaryGrantFactory

# --- A small real market in the database, for the search service and API tests -------------

# code: (name, segment, 33-sector code, 33-sector) as in the exchange's list of 2026-02-28.
STOCKS = {
    "7974": ("任天堂", "プライム（内国株式）", "3800", "その他製品"),
    "7203": ("トヨタ自動車", "プライム（内国株式）", "3700", "輸送用機器"),
    "6758": ("ソニーグループ", "プライム（内国株式）", "3650", "電気機器"),
    "9984": ("ソフトバンクグループ", "プライム（内国株式）", "5250", "情報・通信業"),
    "8306": ("三菱ＵＦＪフィナンシャル・グループ", "プライム（内国株式）", "7050", "銀行業"),
    "1435": ("ｒｏｂｏｔ　ｈｏｍｅ", "スタンダード（内国株式）", "8050", "不動産業"),
    "1321": ("ＮＥＸＴ　ＦＵＮＤＳ　日経２２５連動型上場投信", "ETF・ETN", "", ""),
}
# Enough history to search and to have outcomes, small enough to load per test.
FIRST_DAY = dt.date(2012, 1, 1)


@functools.cache
def _bars(path: Path) -> tuple[Bar, ...]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["Date"].replace("/", "-"))
            if day < FIRST_DAY:
                continue
            rows.append(
                Bar(
                    date=day,
                    open=float(row["Open"]),
                    high=float(row["Hight"]),
                    low=float(row["Low"]),
                    close=float(row["Close"]),
                    volume=int(row["Volume"]),
                    adj_close=float(row["Adj Close"]),
                )
            )
    return tuple(rows)


def market_load(shared_data_dir: Path, codes=tuple(STOCKS)) -> dict[str, Stock]:
    stocks = {}
    for code in codes:
        name, segment, sector_code, sector = STOCKS[code]
        stock = Stock.objects.create(
            code=code, name=name, segment=segment, sector33_code=sector_code, sector33=sector
        )
        daily_bars_upsert(stock=stock, bars=_bars(shared_data_dir / "jp_daily" / f"{code}.csv"))
        stocks[code] = stock
    return stocks


@pytest.fixture
def search_market(db, settings, tmp_path, search_market_template):
    """The stocks of STOCKS with their bars since FIRST_DAY, and a snapshot built from them.

    Built once per session (search_market_template in tests/conftest.py); each test has the
    rows in its own transaction and its own copy of the snapshot, so it may change either.
    """
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    return search_market_template.restore(settings.SIMILARITY_SNAPSHOT_DIR)


@pytest.fixture
def pro_user(user):
    """`user` on the Pro plan, granted by staff for a month."""
    ComplimentaryGrantFactory(user=user)
    return user


def csv_data_rows(rows: list[list[str]]) -> list[list[str]]:
    """An exported CSV's rows without its note (the rows that begin with `#`, after the BOM)."""
    return [row for row in rows if not (row and row[0].lstrip("\ufeff").startswith("#"))]
