""" "今のチャートに似た過去" (issue 23, point 5): one tap runs a history search of a stock's latest
60 trading days, counted like any search, and lands on its results, where the days can change."""

import pytest

from billing.entitlements import entitlements_for
from market.models import DailyBar
from similarity.models import SavedSearch
from tests.factories import StockFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _tap(client, code="7203", *, follow=False, **fields):
    return client.post(
        "/search/latest-bars/",
        {"code": code, "next": f"/stocks/{code}/", **fields},
        follow=follow,
    )


def test_one_tap_searches_the_latest_60_trading_days(signed_in, user, search_market):
    response = _tap(signed_in)

    saved = SavedSearch.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/search/results/{saved.pk}/"
    days = list(
        DailyBar.objects.filter(stock=search_market["7203"])
        .order_by("-date")
        .values_list("date", flat=True)[:60]
    )
    assert saved.spec == {
        "source": "stock",
        "code": "7203",
        "from": days[-1].isoformat(),
        "to": days[0].isoformat(),
    }
    assert saved.mode == "history"
    assert len(saved.pattern) == 60
    assert saved.result["pattern"]["end_date"] == days[0].isoformat()


def test_the_results_page_offers_to_change_the_days(signed_in, user, search_market):
    _tap(signed_in)
    saved = SavedSearch.objects.get(user=user)

    text = signed_in.get(f"/search/results/{saved.pk}/").content.decode()

    edit = (
        f"/search/?source=stock&amp;code=7203&amp;date_from={saved.spec['from']}"
        f"&amp;date_to={saved.spec['to']}&amp;mode=history"
    )
    assert edit in text
    form = signed_in.get(edit.replace("&amp;", "&")).context["form"]
    assert form.initial["date_from"] == saved.spec["from"]


def test_one_tap_counts_as_a_search(signed_in, user, search_market):
    _tap(signed_in)
    _tap(signed_in, "7974")

    assert entitlements_for(user=user).searches_today == 2


def test_no_searches_left_is_told_on_the_page_of_the_button(signed_in, user, search_market):
    from billing.models import Plan

    Plan.objects.filter(slug="free").update(searches_per_day=1)
    _tap(signed_in)

    response = _tap(signed_in, follow=True)

    assert response.redirect_chain[-1][0] == "/stocks/7203/"
    (message,) = response.context["messages"]
    assert message.level_tag == "error"
    assert "/pricing/" in str(message)
    assert SavedSearch.objects.filter(user=user).count() == 1


def test_an_unknown_code_or_interval_is_refused_with_a_message(signed_in, user, search_market):
    unknown = signed_in.post("/search/latest-bars/", {"code": "9999"}, follow=True)
    assert "9999" in unknown.content.decode()

    weekly = _tap(signed_in, interval="week", follow=True)
    assert "day" in weekly.content.decode()
    assert not SavedSearch.objects.exists()
    assert entitlements_for(user=user).searches_today == 0


def test_a_stock_with_fewer_days_searches_the_days_it_has(signed_in, user, search_market):
    StockFactory(code="1111", closes=[100.0, 103.0, 101.0, 104.0, 102.0, 107.0, 105.0])

    _tap(signed_in, "1111")

    assert len(SavedSearch.objects.get(user=user).pattern) == 7


def test_a_stock_with_too_few_days_is_refused(signed_in, user, search_market):
    StockFactory(code="1111", closes=[100.0, 103.0, 101.0])

    response = _tap(signed_in, "1111", follow=True)

    assert "1111" in str(list(response.context["messages"])[0])
    assert not SavedSearch.objects.exists()


def test_anonymous_visitors_sign_in_first(client, search_market):
    response = _tap(client)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/stocks/7203/")
    assert not SavedSearch.objects.exists()
