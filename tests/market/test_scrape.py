import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from market.exchanges.tse.kabutan import KabutanSource
from market.models import DailyBar, ScrapeRun, SplitAdjustment
from market.selectors import is_trading_day
from market.services.runs import scrape_run_start, stock_scrape
from market.tasks import scrape_market, sync_market
from tests.market.kabutan_pages import PAGES_DIR, kabuka_pages

pytestmark = pytest.mark.django_db

LAST_STORED = datetime.date(2018, 11, 9)
AS_OF = datetime.date(2018, 11, 16)


def serve(server, code, pages):
    for number, html in pages.items():
        server.expect_request(
            "/stock/kabuka", query_string={"code": code, "ashi": "day", "page": str(number)}
        ).respond_with_data(html, content_type="text/html; charset=utf-8")


@pytest.fixture
def toyota_site(kabutan_server, jp_daily):
    serve(
        kabutan_server,
        "7203",
        kabuka_pages(jp_daily("7203"), code="7203", name="トヨタ自動車", as_of=AS_OF),
    )
    return kabutan_server


def test_scrape_stores_the_new_days_as_jp_daily_has_them(toyota_site, store_history, jp_daily):
    store_history("7203", until=LAST_STORED)

    result = scrape_market.delay(codes=["7203"], trigger="manual").get()

    run = ScrapeRun.objects.get(pk=result["run_id"])
    assert (run.status, run.stocks_done, run.bars_written, run.errors) == ("succeeded", 1, 5, {})
    expected = {row["date"]: row for row in jp_daily("7203") if LAST_STORED < row["date"] <= AS_OF}
    stored = DailyBar.objects.filter(stock__code="7203", date__gt=LAST_STORED)
    assert {bar.date for bar in stored} == set(expected)
    for bar in stored:
        row = expected[bar.date]
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.adj_close) == (
            row["open"],
            row["high"],
            row["low"],
            row["close"],
            row["volume"],
            row["close"],
        )


def test_scraping_a_day_twice_writes_nothing_new(toyota_site, store_history):
    store_history("7203", until=LAST_STORED)
    scrape_market.delay(codes=["7203"], trigger="manual").get()
    before = list(DailyBar.objects.order_by("date").values_list())

    second = scrape_market.delay(codes=["7203"], trigger="manual").get()

    run = ScrapeRun.objects.get(pk=second["run_id"])
    assert (run.status, run.bars_written, run.splits_detected) == ("succeeded", 0, 0)
    assert list(DailyBar.objects.order_by("date").values_list()) == before


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("kabutan_changed_structure.html", "page structure changed"),
        ("kabutan_high_below_low.html", "high 6477 is below low 6559"),
        ("kabutan_out_of_order.html", "dates out of order"),
    ],
)
def test_a_bad_page_is_an_error_in_the_run_and_writes_nothing(
    kabutan_server, store_history, page, reason
):
    store_history("7203", until=LAST_STORED)
    kabutan_server.expect_request("/stock/kabuka").respond_with_data(
        (PAGES_DIR / page).read_text(), content_type="text/html"
    )
    count = DailyBar.objects.count()

    result = scrape_market.delay(codes=["7203"], trigger="manual").get()

    run = ScrapeRun.objects.get(pk=result["run_id"])
    assert (run.status, run.stocks_failed) == ("failed", 1)
    assert reason in run.errors["7203"]
    assert "/stock/kabuka?code=7203&ashi=day&page=1" in run.errors["7203"]
    assert DailyBar.objects.count() == count


def test_one_failing_stock_does_not_stop_the_others(toyota_site, store_history):
    store_history("7203", until=LAST_STORED)
    store_history("9984", until=LAST_STORED)
    toyota_site.expect_request(
        "/stock/kabuka", query_string={"code": "9984", "ashi": "day", "page": "1"}
    ).respond_with_data("maintenance", status=500)

    result = scrape_market.delay(codes=["7203", "9984"], trigger="manual").get()

    run = ScrapeRun.objects.get(pk=result["run_id"])
    assert (run.status, run.stocks_done, run.stocks_failed, run.bars_written) == (
        "partial",
        1,
        1,
        5,
    )
    assert "answered 500 (3 attempts)" in run.errors["9984"]
    assert not DailyBar.objects.filter(stock__code="9984", date__gt=LAST_STORED).exists()


def test_a_disagreeing_overlap_that_is_no_split_writes_nothing(
    kabutan_server, store_history, jp_daily
):
    store_history("7203", until=LAST_STORED)
    rows = [dict(row) for row in jp_daily("7203")]
    for row in rows:
        if row["date"] == datetime.date(2018, 11, 8):
            row.update(open=7000, high=7000, low=6900, close=6950)
    serve(kabutan_server, "7203", kabuka_pages(rows, code="7203", name="トヨタ", as_of=AS_OF))
    run = scrape_run_start(source="kabutan", codes=["7203"], trigger="manual")

    stock_scrape(code="7203", run_id=run.pk, source=KabutanSource())

    run.refresh_from_db()
    assert "not by one constant ratio" in run.errors["7203"]
    assert not DailyBar.objects.filter(date__gt=LAST_STORED).exists()


SPLITS = [
    ("8306", datetime.date(2007, 10, 1), 1000),
    ("1605", datetime.date(2013, 9, 26), 400),
    ("9984", datetime.date(2005, 12, 28), 3),
    ("6758", datetime.date(2000, 3, 28), 2),
    ("6098", datetime.date(2017, 6, 28), 3),
    ("4689", datetime.date(2005, 9, 27), 2),
]


@pytest.mark.parametrize(("code", "split_day", "ratio"), SPLITS)
def test_scrape_over_a_split_readjusts_history_and_keeps_raw_prices(
    kabutan_server, store_history, jp_daily, code, split_day, ratio
):
    rows = jp_daily(code)
    index = next(i for i, row in enumerate(rows) if row["date"] == split_day)
    last_stored, as_of = rows[index - 1]["date"], rows[index + 2]["date"]
    store_history(code, until=last_stored)
    serve(
        kabutan_server,
        code,
        kabuka_pages(rows, code=code, name=code, as_of=as_of, splits={split_day: ratio}),
    )
    run = scrape_run_start(source="kabutan", codes=[code], trigger="manual")

    stock_scrape(code=code, run_id=run.pk, source=KabutanSource())

    run.refresh_from_db()
    assert (run.errors, run.splits_detected, run.bars_written) == ({}, 1, 3)
    split = SplitAdjustment.objects.get(stock__code=code)
    assert (split.ratio, split.effective_after, split.bars_adjusted) == (ratio, last_stored, 60)
    bars = list(DailyBar.objects.filter(stock__code=code).order_by("date"))
    by_date = {row["date"]: row for row in rows}
    # Raw prices as traded, before and after the split.
    assert [bar.close for bar in bars] == [by_date[bar.date]["close"] for bar in bars]
    # The adjusted series is jp_daily's, up to one constant: no cliff at the split.
    scales = [bar.adj_close / by_date[bar.date]["adj_close"] for bar in bars]
    assert max(scales) / min(scales) == pytest.approx(1, abs=0.002)
    before, on = bars[-4], bars[-3]
    assert on.date == split_day
    assert 0.75 < on.adj_close / before.adj_close < 1.3
    assert on.close / before.close < 1.3 / ratio


def test_scrape_command_reports_nothing_new_the_second_time(toyota_site, store_history):
    store_history("7203", until=LAST_STORED)
    call_command("scrape", "7203", verbosity=0)
    out = StringIO()
    with translation.override("en"):
        call_command("scrape", "7203", stdout=out)

    assert "0 bars written, 0 splits: nothing new" in out.getvalue()


def test_scrape_command_rejects_an_unknown_code():
    with translation.override("en"), pytest.raises(CommandError, match="unknown stock codes: 0000"):
        call_command("scrape", "0000")


def test_scheduled_sync_does_nothing_on_an_exchange_holiday(monkeypatch):
    monkeypatch.setattr("market.tasks.tokyo_today", lambda: datetime.date(2026, 1, 2))

    result = sync_market.delay(trigger="schedule").get()

    assert "not a trading day" in result["skipped"]
    assert not ScrapeRun.objects.exists()


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        ("2026-11-26", True),  # Thursday
        ("2026-11-28", False),  # Saturday
        ("2026-11-23", False),  # Labour Thanksgiving Day
        ("2026-05-05", False),  # Children's Day
        ("2026-12-31", False),  # year-end break
        ("2027-01-04", True),  # first session of the year
    ],
)
def test_trading_days(day, trading):
    assert is_trading_day(datetime.date.fromisoformat(day)) is trading


def test_the_schedule_syncs_weekdays_after_the_tokyo_close():
    call_command("install_schedule", stdout=StringIO())

    assert not PeriodicTask.objects.filter(task="market.scrape_market").exists()
    task = PeriodicTask.objects.get(task="market.sync_market")
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("0", "18", "1-5")
    assert str(crontab.timezone) == "Asia/Tokyo"
    assert task.enabled
    assert task.kwargs == '{"trigger": "schedule"}'
    reaper = PeriodicTask.objects.get(task="market.reap_stale_runs")
    assert reaper.crontab.minute == "*/30"


def test_a_scrape_that_wrote_bars_announces_new_prices_once(
    toyota_site, store_history, django_capture_on_commit_callbacks, prices_announced
):
    store_history("7203", until=LAST_STORED)

    with django_capture_on_commit_callbacks(execute=True):
        scrape_market.delay(codes=["7203"], trigger="manual").get()
    first = len(prices_announced)
    with django_capture_on_commit_callbacks(execute=True):
        scrape_market.delay(codes=["7203"], trigger="manual").get()

    assert first == 1
    assert len(prices_announced) == 1  # the repeat wrote nothing new


def test_a_redelivered_stock_task_counts_and_writes_nothing_twice(toyota_site, store_history):
    store_history("7203", until=LAST_STORED)
    run = scrape_run_start(source="kabutan", codes=["7203", "9984"], trigger="manual")
    requests_before = len(toyota_site.log)

    stock_scrape(code="7203", run_id=run.pk, source=KabutanSource())
    stock_scrape(code="7203", run_id=run.pk, source=KabutanSource())  # the same task again

    run.refresh_from_db()
    assert (run.status, run.stocks_done, run.bars_written) == ("running", 1, 5)
    assert len(toyota_site.log) - requests_before == 1  # the second delivery fetched nothing
    assert DailyBar.objects.filter(stock__code="7203", date__gt=LAST_STORED).count() == 5


def test_the_reaper_closes_runs_whose_tasks_were_lost():
    from django.utils import timezone

    from market.services.runs import scrape_run_stock_record, scrape_runs_reap

    lost = scrape_run_start(source="kabutan", codes=["7203", "9984", "6758"], trigger="manual")
    scrape_run_stock_record(run_id=lost.pk, code="7203", bars_written=3)
    moving = scrape_run_start(source="kabutan", codes=["7203", "9984"], trigger="manual")
    hours_ago = timezone.now() - datetime.timedelta(hours=4)
    ScrapeRun.objects.filter(pk=lost.pk).update(updated_at=hours_ago)

    assert scrape_runs_reap(stale_after=datetime.timedelta(hours=3)) == [lost.pk]

    lost.refresh_from_db()
    assert (lost.status, lost.stocks_done, lost.stocks_failed) == ("partial", 1, 2)
    assert "closed by the reaper" in lost.errors["(lost)"]
    moving.refresh_from_db()
    assert moving.status == "running"
