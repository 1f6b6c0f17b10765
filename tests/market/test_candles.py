"""Weekly and monthly candles from daily bars: the API and the selector, against a plain
grouping of the daily bars written out here."""

import datetime
import itertools

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from market.models import Stock
from market.selectors import candles_aggregate, chart_candles, daily_bars_range, stock_chart

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def mufg(shared_data_dir):
    Stock.objects.create(code="8306", name="三菱ＵＦＪフィナンシャル・グループ")
    call_command("import_prices", str(shared_data_dir / "jp_daily" / "8306.csv"), verbosity=0)
    return Stock.objects.get(code="8306")


def reference(daily: list[dict], interval: str) -> list[dict]:
    """One candle per ISO week or calendar month, field by field."""

    def key(bar):
        day = bar["date"]
        return day.isocalendar()[:2] if interval == "week" else (day.year, day.month)

    candles = []
    for _key, group in itertools.groupby(daily, key=key):
        days = list(group)
        candles.append(
            {
                "date": days[-1]["date"],
                "open": days[0]["open"],
                "high": max(d["high"] for d in days),
                "low": min(d["low"] for d in days),
                "close": days[-1]["close"],
                "volume": sum(d["volume"] for d in days),
                "adj_factor": days[-1]["adj_factor"],
                "adj_open": days[0]["adj_open"],
                "adj_high": max(d["adj_high"] for d in days),
                "adj_low": min(d["adj_low"] for d in days),
                "adj_close": days[-1]["adj_close"],
            }
        )
    return candles


@pytest.mark.parametrize("interval", ["week", "month"])
def test_candles_match_the_daily_bars_grouped_by_hand(mufg, interval):
    daily = daily_bars_range(stock=mufg)

    assert candles_aggregate(daily, interval) == reference(daily, interval)
    assert daily_bars_range(stock=mufg, interval=interval) == reference(daily, interval)


def test_a_week_is_dated_by_its_last_trading_day_and_sums_its_volume(api, mufg):
    # 2018-11-12 (Mon) to 2018-11-16 (Fri): one week of five trading days.
    response = api.get(
        "/api/v1/stocks/8306/bars/", {"from": "2018-11-10", "to": "2018-11-18", "interval": "week"}
    )

    assert response.status_code == 200
    [week] = response.json()["bars"]
    days = api.get("/api/v1/stocks/8306/bars/", {"from": "2018-11-12", "to": "2018-11-16"}).json()[
        "bars"
    ]
    assert len(days) == 5
    assert week["date"] == "2018-11-16"
    assert week["open"] == days[0]["open"]
    assert week["high"] == max(d["high"] for d in days)
    assert week["low"] == min(d["low"] for d in days)
    assert week["close"] == days[-1]["close"]
    assert week["volume"] == sum(d["volume"] for d in days)


def test_a_range_selects_the_candles_whose_last_trading_day_is_inside(api, mufg):
    months = api.get(
        "/api/v1/stocks/8306/bars/",
        {"from": "2018-01-15", "to": "2018-04-15", "interval": "month"},
    ).json()["bars"]

    # January ends inside, April's last trading day (04-27) is after the end.
    assert [m["date"] for m in months] == ["2018-01-31", "2018-02-28", "2018-03-30"]
    january = daily_bars_range(
        stock=mufg, start=datetime.date(2018, 1, 1), end=datetime.date(2018, 1, 31)
    )
    assert months[0]["open"] == january[0]["open"]  # the whole month, not from the 15th


def test_across_the_2007_split_adjusted_prices_stay_comparable(api, mufg):
    [week] = api.get(
        "/api/v1/stocks/8306/bars/", {"from": "2007-09-25", "to": "2007-10-05", "interval": "week"}
    ).json()["bars"]

    assert week["date"] == "2007-10-05"
    assert week["adj_high"] < 2000  # the split-adjusted high, not the pre-split 1,010,000


@pytest.mark.parametrize("interval", ["year", "Week"])
def test_a_bad_interval_is_400_with_a_clear_message(api, mufg, interval):
    response = api.get("/api/v1/stocks/8306/bars/", {"interval": interval})

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["interval"]
    message = error["fields"]["interval"][0]
    assert "「day」（日足）、「week」（週足）、「month」（月足）" in message and interval in message
    english = api.get(
        "/api/v1/stocks/8306/bars/", {"interval": interval}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()["error"]["fields"]["interval"][0]
    assert english == f'The interval is "day", "week" or "month", not "{interval}".'


def test_the_chart_candles_match_the_api(mufg):
    chart = stock_chart(stock=mufg)
    for interval in ("week", "month"):
        candles = chart_candles(chart["bars"], interval)
        api = daily_bars_range(stock=mufg, interval=interval)
        assert [c[0] for c in candles] == [b["date"].isoformat() for b in api]
        assert [c[5] for c in candles] == [b["volume"] for b in api]
        assert [c[4] for c in candles] == [round(b["adj_close"], 4) for b in api]


def test_the_schema_documents_the_interval(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/stocks/{code}/bars/"]["get"]["parameters"]
    interval = next(p for p in parameters if p["name"] == "interval")
    assert set(interval["schema"]["enum"]) == {"day", "week", "month"}
