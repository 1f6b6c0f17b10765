"""What a hostile or broken J-Quants answer can do to stored data: every row is validated before
it is stored, a bad row is skipped and reported while the rest of its day is stored, and no
answer can stop the sync or leave its run open. Against the local server in the API's shape."""

import datetime
import json
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.utils import translation
from werkzeug import Response

from market.exchanges.tse import jquants
from market.models import (
    DailyBar,
    HeldAdjFactor,
    IndexBar,
    ScrapeRun,
    SplitAdjustment,
    Stock,
)
from market.services import sync as market_sync
from market.services.daily_bars import daily_bars_upsert
from market.services.listing import stocks_ensure
from market.sources.parsing import ParseError
from tests.factories import staff_sign_in
from tests.market.jquants_server import master_row

pytestmark = pytest.mark.django_db

DAY = "2017-06-12"


def sync(*args):
    out = StringIO()
    with translation.override("en"):
        try:
            call_command("sync_prices", *args, stdout=out, stderr=out)
        except Exception as exc:  # the command fails a partial run; the output is what we check
            out.write(str(exc))
    return out.getvalue()


def daily_row(market, code: str, day: str = DAY) -> dict:
    return next(row for row in market.daily if row["Code"] == code + "0" and row["Date"] == day)


def test_a_row_dated_outside_the_day_asked_for_is_skipped_and_reported(market):
    market.add_daily([{**daily_row(market, "7203"), "Date": "2030-01-04"}])
    market._daily_by_date = {DAY: [*market._daily({"date": DAY}), market.daily[-1]]}

    out = sync("--from", DAY, "--to", DAY)

    assert not DailyBar.objects.filter(date="2030-01-04").exists()
    assert Stock.objects.get(code="7203").last_bar_date == datetime.date(2017, 6, 12)
    assert "7203 2030-01-04 skipped" in out
    assert list(ScrapeRun.objects.get().rejected_rows) == ["7203 2030-01-04"]


def test_a_row_with_a_null_price_is_skipped_and_the_rest_of_the_day_stored(market):
    daily_row(market, "7203")["O"] = None

    out = sync("--from", DAY, "--to", DAY)

    run = ScrapeRun.objects.get()
    assert run.status == "succeeded"
    assert list(DailyBar.objects.values_list("stock__code", flat=True)) == ["6098"]
    assert "7203 2017-06-12 skipped" in out and "not a finite number" in out


def test_a_repeated_row_is_stored_once_and_reported(market):
    market.add_daily([dict(daily_row(market, "7203"))])

    sync("--from", DAY, "--to", DAY)

    assert DailyBar.objects.filter(stock__code="7203").count() == 1
    assert "appears twice" in ScrapeRun.objects.get().rejected_rows["7203 2017-06-12"]


@pytest.mark.parametrize("factor", [1e-300, 0.001, 1000.0])
def test_an_implausible_split_factor_is_held_for_staff_not_applied(market, factor):
    sync("--from", DAY, "--to", DAY)
    daily_row(market, "7203", "2017-06-13")["AdjFactor"] = factor

    sync("--from", "2017-06-13", "--to", "2017-06-13")

    bars = {bar.date.isoformat(): bar for bar in DailyBar.objects.filter(stock__code="7203")}
    assert bars[DAY].adj_close == bars[DAY].close  # the history is not re-adjusted
    assert bars["2017-06-13"].adj_close == bars["2017-06-13"].close
    held = HeldAdjFactor.objects.get()
    assert (held.stock.code, held.date.isoformat(), held.factor) == ("7203", "2017-06-13", factor)
    assert not SplitAdjustment.objects.exists()


def test_staff_apply_a_held_factor_as_a_split(market, client, staff_user):
    sync("--from", DAY, "--to", DAY)
    daily_row(market, "7203", "2017-06-13")["AdjFactor"] = 0.005
    sync("--from", "2017-06-13", "--to", "2017-06-13")
    held = HeldAdjFactor.objects.get()
    staff_sign_in(client, staff_user)

    client.post(
        "/admin/market/heldadjfactor/",
        {"action": "apply_as_split", "_selected_action": [held.pk]},
    )

    bar = DailyBar.objects.get(stock__code="7203", date=DAY)
    assert bar.adj_close == pytest.approx(bar.close * 0.005)
    assert SplitAdjustment.objects.get().ratio == pytest.approx(200)
    assert not HeldAdjFactor.objects.exists()
    assert HeldAdjFactor in site._registry


@pytest.mark.parametrize(
    ("code", "name"),
    [("7/03", "トヨタ自動車"), ("7203", "ト" * 300), ("7203", ""), ("7203", "トヨタ\x00")],
)
def test_a_listing_row_breaking_the_exchanges_rules_is_skipped_and_reported(
    jquants, code, name, client
):
    jquants.master = [master_row(code, name), master_row("6098", "リクルートＨＤ")]
    out, err = StringIO(), StringIO()

    with translation.override("en"):
        call_command("sync_listing", stdout=out, stderr=err)

    assert list(Stock.objects.values_list("code", flat=True)) == ["6098"]
    assert "skipped" in err.getvalue()
    assert client.get("/stocks/").status_code == 200


def test_a_listing_row_skipped_keeps_its_stock_listed(jquants):
    jquants.master = [master_row("7203", "トヨタ自動車")]
    call_command("sync_listing", stdout=StringIO())
    jquants.master = [master_row("7203", "ト" * 300)]

    call_command("sync_listing", stdout=StringIO(), stderr=StringIO())

    stock = Stock.objects.get(code="7203")
    assert (stock.name, stock.is_listed) == ("トヨタ自動車", True)


def test_a_step_that_fails_in_any_way_is_recorded_and_the_run_closed():
    run = market_sync.sync_run_start(keys=["listing"], trigger="manual", scope="steps")

    def broken_step():
        raise RuntimeError("a value too long for its column")

    market_sync.step_sync(run_id=run.pk, key="listing", step=broken_step)

    run.refresh_from_db()
    assert run.status == "failed"
    assert "RuntimeError" in run.errors["listing"]


def test_a_repeated_pagination_key_stops_the_list(jquants):
    page = Response(
        '{"data": [{"Date": "2017-06-12", "HolDiv": "1"}], "pagination_key": "same"}',
        content_type="application/json",
    )
    jquants.fail_next("/markets/calendar", page, page, page)
    source = jquants_source()

    with pytest.raises(ParseError, match="pagination_key repeats"):
        source.calendar(start=datetime.date(2017, 6, 12), end=datetime.date(2017, 6, 12))

    assert len(jquants.requested("/markets/calendar")) == 2


def test_a_list_longer_than_the_page_cap_is_stopped(jquants, monkeypatch):
    monkeypatch.setattr(jquants_module(), "MAX_PAGES", 3)
    jquants.page_size = 1
    jquants.master = [master_row(str(code), "名前") for code in range(1301, 1311)]

    with pytest.raises(ParseError, match="more than 3 pages"):
        jquants_source().listing()

    assert len(jquants.requested("/equities/master")) == 3


def test_a_sync_without_from_fills_a_day_that_failed_before(market):
    market.fail_next("/equities/bars/daily", *[Response("{}", status=500)] * 3)
    sync("--from", DAY, "--to", "2017-06-14")
    assert not DailyBar.objects.filter(date=DAY).exists()
    market.requests.clear()

    sync("--to", "2017-06-14")

    assert [args["date"] for args in market.requested("/equities/bars/daily")] == [DAY]
    assert DailyBar.objects.filter(date=DAY).count() == 2


def test_days_the_plan_does_not_serve_are_not_called_up_to_date(market, settings):
    settings.JQUANTS_RATE_PER_MINUTE = 5  # the Free plan: two years, twelve weeks delayed

    out = sync("--from", DAY, "--to", "2017-06-14")

    assert "up to date" not in out
    assert "plan serves none of the days asked for" in out


def jquants_module():
    return jquants


def jquants_source():
    return jquants.JQuantsSource()


def topix_answer(*rows: dict) -> Response:
    return Response(json.dumps({"data": list(rows)}), content_type="application/json")


TOPIX_DAY = {"Date": DAY, "O": 1590.1, "H": 1595.0, "L": 1585.2, "C": 1590.6}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({**TOPIX_DAY, "Date": "2030-01-04"}, "dated outside the days asked for"),
        ({**TOPIX_DAY, "Date": "2017-06-13", "O": None}, "not a finite number"),
        ({**TOPIX_DAY, "Date": "2017-06-13", "C": float("inf")}, "not a finite number"),
        ({**TOPIX_DAY, "Date": "2017-06-13", "L": -1.0}, "positive"),
        ({**TOPIX_DAY, "Date": "2017-06-13", "C": 2000.0}, "outside low-high"),
        (TOPIX_DAY, "appears twice"),
    ],
)
def test_a_bad_index_row_is_skipped_and_reported_and_the_rest_stored(jquants, bad, reason):
    jquants.fail_next("/indices/bars/daily/topix", topix_answer(TOPIX_DAY, bad))
    out, err = StringIO(), StringIO()

    with translation.override("en"):
        call_command(
            "sync_index", "topix", "--from", DAY, "--to", "2017-06-13", stdout=out, stderr=err
        )

    assert list(IndexBar.objects.values_list("date", "close")) == [
        (datetime.date(2017, 6, 12), 1590.6)
    ]
    assert "1 new bars" in out.getvalue()
    assert f"TOPIX {bad['Date']} skipped" in err.getvalue()
    assert reason in err.getvalue()


def test_the_daily_sync_reports_a_bad_index_row_and_stores_the_rest(market, monkeypatch):
    from market.tasks import sync_market

    monkeypatch.setattr("market.tasks.tokyo_today", lambda: datetime.date(2017, 6, 14))
    market.master = [master_row("7203", "トヨタ自動車")]
    market.fail_next(
        "/indices/bars/daily/topix",
        topix_answer({**TOPIX_DAY, "Date": "2017-06-13"}, {**TOPIX_DAY, "Date": "2030-01-04"}),
    )
    stocks_ensure(codes=["7203"])
    daily_bars_upsert(
        stock=Stock.objects.get(code="7203"),
        bars=[b.bar for b in jquants.parse_daily_bars(market._daily({"date": DAY})).bars[:1]],
    )

    run = ScrapeRun.objects.get(pk=sync_market.delay(trigger="schedule").get()["run_id"])

    assert run.status == "succeeded"
    assert "topix" not in run.errors
    assert list(run.rejected_rows) == ["TOPIX 2030-01-04"]
    assert list(IndexBar.objects.values_list("date", flat=True)) == [datetime.date(2017, 6, 13)]
