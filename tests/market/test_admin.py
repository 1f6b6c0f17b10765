import pytest

from market.files import ListingRow
from market.models import ScrapeRun, Stock
from market.services import scrape_run_start, scrape_run_stock_record, stock_listing_upsert

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, staff_user):
    client.force_login(staff_user)
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


def test_admin_action_scrapes_the_selected_stocks(admin_client_, listing, kabutan_server):
    kabutan_server.expect_request("/stock/kabuka").respond_with_data("gone", status=404)

    response = admin_client_.post(
        "/admin/market/stock/",
        {"action": "scrape_now", "_selected_action": [Stock.objects.get(code="7203").pk]},
        follow=True,
    )

    assert response.status_code == 200
    run = ScrapeRun.objects.get()
    assert (run.trigger, run.stocks_total, run.status) == ("admin", 1, "failed")
    assert "answered 404" in run.errors["7203"]
