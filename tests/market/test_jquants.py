"""J-Quants V2 sync against a local server in the API's shape (tests/market/jquants_server.py):
our HTTP client, paging, retries and writes run for real; values are checked against jp_daily."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from werkzeug import Response

from market.bars import Bar
from market.exchanges.tse.jquants import (
    DayBar,
    JQuantsSource,
    parse_daily_bars,
    plan_for_rate,
    stock_code,
)
from market.models import (
    DailyBar,
    IndexBar,
    ScrapeRun,
    ScrapeRunItem,
    SplitAdjustment,
    Stock,
    TradingDay,
)
from market.selectors import is_trading_day
from market.services.daily_bars import daily_bars_upsert
from market.services.listing import stocks_ensure
from market.services.provider_bars import provider_bars_save
from market.sources import SourceRefusedError
from tests.market.jquants_server import master_row

pytestmark = pytest.mark.django_db

START, END = datetime.date(2017, 6, 12), datetime.date(2017, 7, 14)
CODES = ("7203", "6098")


def sync(*args, out=None):
    out = out or StringIO()
    with translation.override("en"):
        call_command("sync_prices", *args, stdout=out, stderr=out)
    return out.getvalue()


def bars_of(code: str) -> dict[datetime.date, DailyBar]:
    return {bar.date: bar for bar in DailyBar.objects.filter(stock__code=code)}


def table() -> list[tuple]:
    return list(
        DailyBar.objects.order_by("stock_id", "date").values_list(
            "stock_id", "date", "open", "high", "low", "close", "volume", "adj_close"
        )
    )


def test_codes_map_from_five_characters():
    assert [stock_code(code) for code in ("72030", "130A0", "25935")] == ["7203", "130A", "25935"]


def test_the_configured_rate_names_the_plan():
    assert [plan_for_rate(rate).name for rate in (5, 60, 119, 120, 500)] == [
        "Free",
        "Light",
        "Light",
        "Standard",
        "Premium",
    ]


def test_listing_sync_reads_every_page_of_the_master(jquants):
    jquants.page_size = 2
    stocks_ensure(codes=["9999"])
    Stock.objects.filter(code="9999").update(is_listed=True)
    daily_bars_upsert(
        stock=Stock.objects.get(code="9999"),
        bars=[
            parse_daily_bars(
                [{"Date": "2017-06-12", "Code": "99990", "O": 1, "H": 1, "L": 1, "C": 1, "Vo": 5}]
            )[0].bar
        ],
    )
    jquants.master = [
        master_row("7203", "トヨタ自動車", "TOYOTA MOTOR CORPORATION"),
        master_row(
            "130A", "Ｖｅｒｉｔａｓ　Ｉｎ　Ｓｉｌｉｃｏ", "Veritas In Silico Inc.", "グロース"
        ),
        master_row("25935", "伊藤園第1種優先株式", "ITO EN,LTD. Preferred"),
    ]
    out = StringIO()

    with translation.override("en"):
        call_command("sync_listing", stdout=out)

    assert "3 new, 0 changed, 0 unchanged, 1 no longer listed" in out.getvalue()
    assert len(jquants.requested("/equities/master")) == 2
    stocks = {stock.code: stock for stock in Stock.objects.all()}
    assert (stocks["130A"].name_en, stocks["130A"].segment) == (
        "Veritas In Silico Inc.",
        "グロース",
    )
    assert stocks["7203"].sector33 == "輸送用機器"
    assert stocks["25935"].is_listed
    assert not stocks["9999"].is_listed
    assert DailyBar.objects.filter(stock__code="9999").count() == 1


def test_sync_by_date_stores_the_days_as_jp_daily_has_them(market, jp_daily):
    out = sync("--from", START.isoformat(), "--to", END.isoformat())

    days = [row["date"] for row in jp_daily("7203") if START <= row["date"] <= END]
    assert "25 business days from 2017-06-12 to 2017-07-14" in out
    assert [args["date"] for args in market.requested("/equities/bars/daily")] == [
        day.isoformat() for day in days
    ]
    for code in CODES:
        expected = {row["date"]: row for row in jp_daily(code) if START <= row["date"] <= END}
        stored = bars_of(code)
        assert set(stored) == set(expected)
        for day, bar in stored.items():
            row = expected[day]
            assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
                row["open"],
                row["high"],
                row["low"],
                row["close"],
                row["volume"],
            )
    run = ScrapeRun.objects.get()
    assert (run.source, run.status, run.stocks_done, run.bars_written) == (
        "jquants",
        "succeeded",
        25,
        50,
    )


def test_a_split_readjusts_the_stored_history_without_a_cliff(
    market, store_history, jp_daily, django_capture_on_commit_callbacks, prices_announced
):
    store_history("6098", until=START - datetime.timedelta(days=3), days=60)
    before = {day: (bar.close, bar.adj_close) for day, bar in bars_of("6098").items()}

    with django_capture_on_commit_callbacks(execute=True):
        sync("--from", START.isoformat(), "--to", END.isoformat())

    split = SplitAdjustment.objects.get()
    assert (split.stock.code, split.ratio, split.source) == ("6098", 3.0, "jquants")
    assert split.effective_after == datetime.date(2017, 6, 27)
    assert split.bars_adjusted == 60 + 12  # the stored days and the synced ones before the split
    # Raw prices stay as traded; the adjusted closes now match jp_daily's, split-adjusted.
    jp = {row["date"]: row for row in jp_daily("6098")}
    stored = bars_of("6098")
    for day, (close, _adj) in before.items():
        assert stored[day].close == close
    for day, bar in stored.items():
        assert bar.adj_close == pytest.approx(jp[day]["adj_close"], rel=1e-3)
    assert prices_announced  # the apps above are told (a new snapshot follows)


def test_a_day_without_trades_is_no_bar(market):
    quiet = datetime.date(2017, 6, 13)
    for row in market.daily:
        if row["Code"] == "72030" and row["Date"] == quiet.isoformat():
            row.update({key: None for key in ("O", "H", "L", "C", "Vo", "Va")})

    sync("--from", "2017-06-12", "--to", "2017-06-14")

    assert sorted(bars_of("7203")) == [datetime.date(2017, 6, 12), datetime.date(2017, 6, 14)]
    assert len(bars_of("6098")) == 3


def test_a_day_is_read_across_pages(market):
    market.page_size = 1

    sync("--from", "2017-06-12", "--to", "2017-06-12")

    requests = market.requested("/equities/bars/daily")
    assert requests == [{"date": "2017-06-12"}, {"date": "2017-06-12", "pagination_key": "1"}]
    assert DailyBar.objects.count() == 2


@pytest.mark.parametrize(
    ("fault", "wait"),
    [
        (Response("{}", status=429), 0.01),  # JQUANTS_RETRY_WAIT
        (Response("{}", status=429, headers={"Retry-After": "3"}), 3.0),
        (Response("{}", status=500), 0.01),  # the back-off
        (Response("{}", status=503), 0.01),
    ],
)
def test_a_refused_or_failed_request_is_retried_after_the_right_wait(market, fault, wait):
    market.fail_next("/equities/bars/daily", fault)
    waits = []
    source = JQuantsSource(sleep=waits.append)

    day_bars = source.day_bars(datetime.date(2017, 6, 12))

    assert len(day_bars) == 2
    assert len(market.requested("/equities/bars/daily")) == 2
    assert [seconds for seconds in waits if seconds > 0.001] == [wait]


def test_429_then_success_through_the_command(market):
    market.fail_next("/equities/bars/daily", Response("{}", status=429))
    market.fail_next("/equities/bars/daily", Response("{}", status=500))

    sync("--from", "2017-06-12", "--to", "2017-06-13")

    assert DailyBar.objects.count() == 4
    assert ScrapeRun.objects.get().status == "succeeded"


def test_a_bad_key_fails_at_once_naming_the_key_and_writes_nothing(market, settings):
    settings.JQUANTS_API_KEY = "not-the-key"

    with translation.override("en"), pytest.raises(CommandError, match="JQUANTS_API_KEY"):
        sync("--from", START.isoformat(), "--to", END.isoformat())

    assert len(market.requests) == 1  # a 403 is never retried
    assert not DailyBar.objects.exists()
    assert not TradingDay.objects.exists()
    assert not ScrapeRun.objects.exists()


def test_a_missing_key_fails_naming_the_key(market, settings):
    settings.JQUANTS_API_KEY = ""

    with pytest.raises(CommandError, match="JQUANTS_API_KEY is not set"):
        sync()

    assert not market.requests


def test_a_run_stopped_half_way_continues_where_it_left_off(market, monkeypatch):
    from market.progress import ProgressBar

    def stop_after_three(self, done, label):
        if done == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBar, "step", stop_after_three)
    with translation.override("en"), pytest.raises(CommandError, match="continues run"):
        sync("--from", START.isoformat(), "--to", END.isoformat())
    monkeypatch.undo()
    assert DailyBar.objects.count() == 6

    out = sync("--from", START.isoformat(), "--to", END.isoformat())

    assert "Continuing run" in out and "3 of 25 already done" in out
    dates = [args["date"] for args in market.requested("/equities/bars/daily")]
    assert len(dates) == len(set(dates)) == 25  # no day fetched twice
    run = ScrapeRun.objects.get()
    assert (run.status, run.stocks_done, run.bars_written) == ("succeeded", 25, 50)
    assert DailyBar.objects.count() == 50
    assert ScrapeRunItem.objects.filter(run=run).count() == 25


def test_a_rerun_over_the_same_days_changes_nothing(market):
    sync("--from", START.isoformat(), "--to", END.isoformat())
    first = table()

    out = sync("--from", START.isoformat(), "--to", END.isoformat())

    assert table() == first
    assert SplitAdjustment.objects.count() == 1
    assert "0 bars written, 0 splits, 0 disagreements" in out


def test_the_default_range_starts_after_the_latest_stored_bar(market):
    sync("--from", START.isoformat(), "--to", "2017-06-30")
    market.requests.clear()

    sync("--to", END.isoformat())

    assert [args["date"] for args in market.requested("/equities/bars/daily")][0] == "2017-07-03"


def test_a_disagreement_is_reported_and_the_stored_bar_kept(market):
    sync("--from", "2017-06-12", "--to", "2017-06-12")
    DailyBar.objects.filter(stock__code="7203").update(close=5999.0, high=6000.0)

    out = sync("--from", "2017-06-12", "--to", "2017-06-13")

    assert "7203 2017-06-12 differs" in out
    assert "close 5999 stored" in out
    assert DailyBar.objects.get(stock__code="7203", date="2017-06-12").close == 5999.0
    run = ScrapeRun.objects.latest("started_at")
    assert list(run.disagreements) == ["7203 2017-06-12"]


def test_per_stock_sync_adjusts_the_days_before_a_split_in_the_same_answer(market, jp_daily):
    sync("6098", "--from", START.isoformat(), "--to", END.isoformat())

    assert market.requested("/equities/bars/daily") == [
        {"code": "60980", "from": START.isoformat(), "to": END.isoformat()}
    ]
    jp = {row["date"]: row for row in jp_daily("6098")}
    stored = bars_of("6098")
    assert len(stored) == 25
    for day, bar in stored.items():
        assert bar.close == jp[day]["close"]
        assert bar.adj_close == pytest.approx(jp[day]["adj_close"], rel=1e-3)


def test_a_gap_before_stored_days_joins_them_without_a_cliff(market, jp_daily):
    sync("6098", "--from", "2017-06-26", "--to", END.isoformat())

    sync("6098", "--from", START.isoformat(), "--to", "2017-06-23")

    jp = {row["date"]: row for row in jp_daily("6098")}
    for day, bar in bars_of("6098").items():
        assert bar.adj_close == pytest.approx(jp[day]["adj_close"], rel=1e-3)


def test_the_free_plan_says_what_it_allows(market, settings):
    settings.JQUANTS_RATE_PER_MINUTE = 5

    # 2017 is outside the Free plan's two years: nothing to fetch, and it says why.
    out = sync("--from", START.isoformat(), "--to", END.isoformat())

    assert "The Free plan serves" in out
    assert "12 weeks delayed, 2 years deep" in out
    assert "Nothing to sync" in out
    assert not market.requests


def test_the_stored_calendar_decides_trading_days(market):
    sync("--from", START.isoformat(), "--to", START.isoformat())

    assert TradingDay.objects.get(date="2017-07-17").kind == "closed"  # Marine Day
    assert is_trading_day(datetime.date(2017, 7, 14))
    assert not is_trading_day(datetime.date(2017, 7, 17))
    TradingDay.objects.filter(date="2017-07-14").update(kind=TradingDay.Kind.CLOSED)
    assert not is_trading_day(datetime.date(2017, 7, 14))


def test_sync_index_topix(market):
    market.topix = [
        {"Date": "2017-06-12", "O": 1590.1, "H": 1595.0, "L": 1585.2, "C": 1590.6},
        {"Date": "2017-06-13", "O": 1591.0, "H": 1600.3, "L": 1589.9, "C": 1599.1},
    ]
    out = StringIO()

    with translation.override("en"):
        call_command(
            "sync_index", "topix", "--from", "2017-06-12", "--to", "2017-06-13", stdout=out
        )
        call_command(
            "sync_index", "topix", "--from", "2017-06-12", "--to", "2017-06-13", stdout=out
        )

    assert "2 new bars, 0 unchanged" in out.getvalue()
    assert "0 new bars, 2 unchanged" in out.getvalue()
    assert list(IndexBar.objects.values_list("index__code", "date", "close")) == [
        ("TOPIX", datetime.date(2017, 6, 12), 1590.6),
        ("TOPIX", datetime.date(2017, 6, 13), 1599.1),
    ]


def test_the_daily_task_syncs_listing_prices_and_topix_in_one_run(market, monkeypatch):
    from market.tasks import sync_market

    monkeypatch.setattr("market.tasks.tokyo_today", lambda: datetime.date(2017, 6, 14))
    market.master = [master_row("7203", "トヨタ自動車"), master_row("6098", "リクルートＨＤ")]
    market.topix = [{"Date": "2017-06-13", "O": 1, "H": 2, "L": 1, "C": 2}]
    stocks_ensure(codes=["7203"])
    daily_bars_upsert(
        stock=Stock.objects.get(code="7203"),
        bars=[b.bar for b in parse_daily_bars(market._daily({"date": "2017-06-12"}))[:1]],
    )

    result = sync_market.delay(trigger="schedule").get()

    run = ScrapeRun.objects.get(pk=result["run_id"])
    assert (run.status, run.stocks_total, run.stocks_done) == ("succeeded", 4, 4)
    assert set(run.items.values_list("key", flat=True)) == {
        "listing",
        "2017-06-13",
        "2017-06-14",
        "topix",
    }
    assert Stock.objects.get(code="6098").name == "リクルートＨＤ"
    assert DailyBar.objects.count() == 5
    assert IndexBar.objects.count() == 1


def test_the_daily_task_records_a_failed_day_and_goes_on(market, monkeypatch):
    from market.tasks import sync_market

    monkeypatch.setattr("market.tasks.tokyo_today", lambda: datetime.date(2017, 6, 14))
    market.master = [master_row("7203", "トヨタ自動車")]
    market.fail_next("/equities/bars/daily", *[Response("{}", status=500)] * 3)
    stocks_ensure(codes=["7203"])
    daily_bars_upsert(
        stock=Stock.objects.get(code="7203"),
        bars=[b.bar for b in parse_daily_bars(market._daily({"date": "2017-06-09"}))[:1]],
    )

    run = ScrapeRun.objects.get(pk=sync_market.delay(trigger="schedule").get()["run_id"])

    assert run.status == "partial"
    assert list(run.errors) == ["2017-06-12"]
    assert "answered 500" in run.errors["2017-06-12"]
    assert DailyBar.objects.filter(date__gt="2017-06-12").count() == 4


def test_a_source_refusal_is_a_refusal_error(market, settings):
    settings.JQUANTS_API_KEY = "wrong"

    with pytest.raises(SourceRefusedError, match="JQUANTS_API_KEY"):
        JQuantsSource().listing()


def test_a_terminal_gets_a_progress_bar(market):
    class Terminal(StringIO):
        def isatty(self):
            return True

    out = sync("--from", "2017-06-12", "--to", "2017-06-14", out=Terminal())

    assert "\r[##########--------------------] 1/3 2017-06-12" in out
    assert "\r[##############################] 3/3 2017-06-14" in out


def test_the_command_says_how_long_it_expects(market):
    out = sync("--from", "2017-06-12", "--to", "2017-07-14")

    assert "about 26 requests at 600000 a minute (Premium plan): about 1 minute" in out


def test_five_years_on_the_light_plan_take_about_25_minutes():
    from market.progress import expected_time

    with translation.override("en"):
        text = expected_time(requests=1225 + 1, plan=plan_for_rate(60), rate_per_minute=60)

    assert text == "about 1226 requests at 60 a minute (Light plan): about 21 minutes"


def market_day(codes, day: datetime.date) -> list[DayBar]:
    return [
        DayBar(code=code, bar=Bar(day, 100.0, 101.0, 99.0, 100.0, 1000), adj_factor=1.0)
        for code in codes
    ]


def test_storing_a_day_takes_as_many_queries_for_50_stocks_as_for_10():
    first, second = datetime.date(2025, 1, 6), datetime.date(2025, 1, 7)
    counts = {}
    for size, base in ((10, 2000), (50, 3000)):
        codes = [str(base + number) for number in range(size)]
        stocks_ensure(codes=codes)
        provider_bars_save(day_bars=market_day(codes, first), source="jquants")
        counts[size] = []
        for _pass in ("new", "again"):
            with CaptureQueriesContext(connection) as queries:
                saved = provider_bars_save(day_bars=market_day(codes, second), source="jquants")
            counts[size].append(len(queries))
        assert (saved.inserted, saved.unchanged, saved.disagreements) == (0, size, {})
        stored = Stock.objects.filter(code__in=codes)
        assert set(stored.values_list("first_bar_date", "last_bar_date")) == {(first, second)}
        assert DailyBar.objects.filter(stock__in=stored, date=second).count() == size

    assert counts[10] == counts[50]
    assert counts[10][1] < counts[10][0]  # the rerun writes nothing
