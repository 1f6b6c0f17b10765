"""The watchlist page and its buttons (issue 23, point 4): /account/watchlist/, and the star of
every stock page, the stock list and results rows, as plain form posts."""

import pytest

from alerts.models import WatchlistEntry
from alerts.watchlist.services import watchlist_add
from billing.models import Plan
from tests.factories import SavedSearchFactory, StockFactory

pytestmark = pytest.mark.django_db

# 2018/11/15 closes at 1,500, 2018/11/16 at 1,520: +1.33%.
CLOSES = [1400.0 + n for n in range(60)] + [1500.0, 1520.0]


@pytest.fixture
def toyota(db):
    return StockFactory(code="7203", name="トヨタ自動車", closes=CLOSES)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_page_shows_each_stocks_chart_and_last_move(signed_in, user, toyota):
    watchlist_add(user=user, code="7203")

    response = signed_in.get("/account/watchlist/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "トヨタ自動車" in text
    assert "1,520円" in text
    assert "+1.33%" in text
    assert "2018/11/16" in text
    (row,) = response.context["rows"]
    assert len(row["move"].closes) == 60  # the chart: the last 60 closes
    assert row["chart"].count(",") == 60
    assert 'data-testid="watch-chart"' in text
    assert 'data-testid="similar-now"' in text


def test_the_page_in_english(signed_in, user, toyota):
    watchlist_add(user=user, code="7203")

    text = signed_in.get("/account/watchlist/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "¥1,520" in text
    assert "2018-11-16" in text
    assert "Past charts like now" in text


def test_an_empty_watchlist_says_how_to_fill_it(signed_in):
    response = signed_in.get("/account/watchlist/")

    assert 'data-testid="watchlist-empty"' in response.content.decode()


def test_the_page_needs_a_sign_in_and_is_not_stored(client, user):
    assert client.get("/account/watchlist/").status_code == 302
    client.force_login(user)
    assert "no-store" in client.get("/account/watchlist/")["Cache-Control"]


def test_a_form_post_adds_and_goes_back(signed_in, user, toyota):
    response = signed_in.post(
        "/account/watchlist/add/", {"code": "7203", "next": "/stocks/7203/"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/stocks/7203/"
    assert WatchlistEntry.objects.filter(user=user, stock=toyota).exists()
    text = response.content.decode()
    assert "お気に入りに追加しました" in text
    assert 'aria-pressed="true" data-testid="watch-button"' in text


def test_a_form_post_removes(signed_in, user, toyota):
    watchlist_add(user=user, code="7203")

    response = signed_in.post("/account/watchlist/remove/", {"code": "7203"})

    assert response.status_code == 302
    assert response["Location"] == "/account/watchlist/"
    assert not WatchlistEntry.objects.filter(user=user).exists()


def test_a_form_post_never_goes_back_to_another_site(signed_in, toyota):
    response = signed_in.post(
        "/account/watchlist/add/", {"code": "7203", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/account/watchlist/"


def test_a_form_post_over_the_limit_says_so(signed_in, user, toyota):
    Plan.objects.filter(slug="free").update(max_watchlist=0)

    response = signed_in.post("/account/watchlist/add/", {"code": "7203"}, follow=True)

    assert not WatchlistEntry.objects.exists()
    assert "0銘柄まで" in response.content.decode()


def test_the_add_needs_a_post_and_a_sign_in(client, toyota):
    assert client.get("/account/watchlist/add/").status_code in (302, 405)
    response = client.post("/account/watchlist/add/", {"code": "7203"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not WatchlistEntry.objects.exists()


def test_the_stock_page_has_the_star_and_the_one_tap_search(signed_in, user, toyota):
    text = signed_in.get("/stocks/7203/").content.decode()
    assert 'aria-pressed="false" data-testid="watch-button"' in text
    assert "今のチャートに似た過去" in text

    watchlist_add(user=user, code="7203")
    text = signed_in.get("/stocks/7203/").content.decode()
    assert 'aria-pressed="true" data-testid="watch-button"' in text


def test_anonymous_visitors_get_a_sign_in_link_instead(client, toyota):
    text = client.get("/stocks/7203/").content.decode()

    assert 'data-testid="watch-sign-in"' in text
    assert "/accounts/login/?next=/stocks/7203/" in text


def test_the_stock_list_has_a_star_per_row(signed_in, user, toyota):
    StockFactory(code="6758", name="ソニーグループ")
    watchlist_add(user=user, code="7203")

    text = signed_in.get("/stocks/").content.decode()

    assert text.count('data-testid="watch-button"') == 2
    assert text.count('aria-pressed="true" data-testid="watch-button"') == 1


def test_result_rows_have_a_star(signed_in, user):
    saved = SavedSearchFactory(user=user)

    text = signed_in.get(f"/search/results/{saved.pk}/").content.decode()

    assert text.count('data-testid="watch-button"') == len(saved.result["matches"])


def test_the_pricing_and_account_pages_state_the_watchlist_limit(client, user):
    pricing = client.get("/pricing/").content.decode()
    assert '<dd data-testid="plan-watchlist">10銘柄</dd>' in pricing
    assert '<dd data-testid="plan-watchlist">300銘柄</dd>' in pricing

    client.force_login(user)
    account = client.get("/account/").content.decode()
    assert "最大10銘柄" in account
    assert 'href="/account/watchlist/"' in account


def test_a_long_watchlist_is_shown_50_stocks_a_page(signed_in, user):
    from alerts.models import WatchlistEntry

    stocks = [StockFactory(code=f"{2000 + n}") for n in range(55)]
    WatchlistEntry.objects.bulk_create(WatchlistEntry(user=user, stock=s) for s in stocks)

    first = signed_in.get("/account/watchlist/")
    second = signed_in.get("/account/watchlist/?page=2")

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    assert "55銘柄を登録しています" in first.content.decode()
    assert 'rel="next" href="?page=2"' in first.content.decode()
