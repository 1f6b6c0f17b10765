import pytest

from market.exchanges.tse.files import ListingRow
from market.models import ScrapeRun, Stock
from market.services.listing import stock_listing_upsert
from market.services.runs import scrape_run_start, scrape_run_stock_record
from tests.factories import staff_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, staff_user):
    staff_sign_in(client, staff_user)
    return client


@pytest.fixture
def listing():
    stock_listing_upsert(
        rows=[
            ListingRow(code="7203", name="トヨタ自動車", segment="プライム（内国株式）"),
            ListingRow(code="1305", name="ｉＦｒｅｅＥＴＦ　ＴＯＰＩＸ（年１回決算型）"),
            ListingRow(code="130A", name="Ｖｅｒｉｔａｓ\u3000Ｉｎ\u3000Ｓｉｌｉｃｏ"),
        ]
    )


@pytest.mark.parametrize(
    ("term", "code"),
    [
        ("７２０３", "7203"),
        ("ｉｆｒｅｅＥＴＦ", "1305"),
        ("iFree", "1305"),
        ("ｖｅｒｉｔａｓ", "130A"),
    ],
)
def test_admin_stock_search_accepts_full_width_input(admin_client_, listing, term, code):
    response = admin_client_.get("/admin/market/stock/", {"q": term})

    assert response.status_code == 200
    assert [stock.code for stock in response.context["cl"].result_list] == [code]


def test_admin_bar_list_does_not_count_every_row(admin_client_, listing, shared_data_dir):
    from django.core.management import call_command

    call_command("import_prices", str(shared_data_dir / "jp_daily" / "6098.csv"), verbosity=0)

    response = admin_client_.get("/admin/market/dailybar/", {"q": "6098"})

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.show_full_result_count is False
    assert changelist.result_count == 1001


def test_admin_scrape_run_shows_errors_per_stock(admin_client_, listing):
    run = scrape_run_start(source="kabutan", codes=["7203"], trigger="manual")
    scrape_run_stock_record(run_id=run.pk, code="7203", error="page structure changed")

    response = admin_client_.get(f"/admin/market/scraperun/{run.pk}/change/")

    assert response.status_code == 200
    assert "<td>7203</td><td>page structure changed</td>" in response.content.decode()


def test_admin_action_scrapes_the_selected_stocks_when_kabutan_is_the_source(
    admin_client_, listing, kabutan_server, settings
):
    settings.MARKET_SOURCE = "kabutan"
    kabutan_server.expect_request("/stock/kabuka").respond_with_data("gone", status=404)

    response = admin_client_.post(
        "/admin/market/stock/",
        {"action": "sync_now", "_selected_action": [Stock.objects.get(code="7203").pk]},
        follow=True,
    )

    assert response.status_code == 200
    run = ScrapeRun.objects.get()
    assert (run.trigger, run.stocks_total, run.status) == ("admin", 1, "failed")
    assert "answered 404" in run.errors["7203"]


def test_admin_action_syncs_the_selected_stocks_from_jquants(admin_client_, listing, market):
    market.master = []

    response = admin_client_.post(
        "/admin/market/stock/",
        {"action": "sync_now", "_selected_action": [Stock.objects.get(code="7203").pk]},
        follow=True,
    )

    assert response.status_code == 200
    run = ScrapeRun.objects.get()
    assert (run.source, run.trigger, run.stocks_total) == ("jquants", "admin", 1)
    assert run.status == "succeeded"
    assert [args["code"] for args in market.requested("/equities/bars/daily")] == ["72030"]


def test_admin_sync_market_now_runs_the_daily_sync(admin_client_, listing, market, settings):
    run = scrape_run_start(source="kabutan", codes=[], trigger="manual")
    settings.JQUANTS_API_KEY = "wrong"

    response = admin_client_.post(
        "/admin/market/scraperun/",
        {"action": "sync_market_now", "_selected_action": [run.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert len(market.requests) == 1  # the refused key, asked once


@pytest.mark.parametrize(
    "page",
    [
        "/admin/market/tradingday/",
        "/admin/market/marketindex/",
        "/admin/market/indexbar/",
        "/admin/market/scraperun/",
    ],
)
def test_admin_lists_the_calendar_indices_and_runs(admin_client_, page):
    assert admin_client_.get(page).status_code == 200


def test_admin_run_page_shows_items_and_disagreements(admin_client_, listing):
    run = scrape_run_start(source="jquants", codes=["2017-06-12"], trigger="manual")
    scrape_run_stock_record(
        run_id=run.pk,
        code="2017-06-12",
        bars_written=2,
        disagreements={"7203 2017-06-12": "close 5999 stored, 6000 from the source"},
    )

    page = admin_client_.get(f"/admin/market/scraperun/{run.pk}/change/").content.decode()

    assert "<td>7203 2017-06-12</td><td>close 5999 stored, 6000 from the source</td>" in page
    assert "2017-06-12" in page
