"""How current the prices are, in sight: the notice on every page while the data are old, the
status page people read (while /healthz stays JSON), alerts worded by the data's date."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from market.models import DailyBar, ScrapeRun
from market.selectors import market_freshness
from tests.factories import StockFactory


def _prices_up_to(day: datetime.date, *, source: str = "jquants") -> None:
    stock = StockFactory(code="7203", name="トヨタ自動車")
    DailyBar.objects.create(
        stock=stock, date=day, open=1, high=1, low=1, close=1, volume=1, adj_close=1
    )
    ScrapeRun.objects.create(
        source=source,
        status=ScrapeRun.Status.SUCCEEDED,
        finished_at=timezone.make_aware(datetime.datetime(2026, 12, 7, 18, 30)),
    )
    cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("last_date", "stale"),
    [
        (datetime.date(2026, 12, 4), False),  # Friday, seen the next Wednesday: 2 days behind
        (datetime.date(2026, 12, 3), False),  # 3 trading days behind
        (datetime.date(2026, 12, 2), True),  # 4 trading days behind
        (datetime.date(2018, 11, 16), True),
    ],
)
def test_data_are_stale_after_three_trading_days(last_date, stale):
    _prices_up_to(last_date)

    assert market_freshness(today=datetime.date(2026, 12, 9))["stale"] is stale


@pytest.mark.django_db
def test_every_page_says_the_demo_data_are_old(client):
    _prices_up_to(datetime.date(2018, 11, 16), source="demo")

    for path in ("/", "/pricing/", "/stocks/"):
        html = client.get(path).content.decode()
        assert "デモデータ：2018/11/16まで" in html, path


@pytest.mark.django_db
def test_current_data_get_no_notice(client):
    _prices_up_to(timezone.localdate())

    assert 'data-testid="stale-notice"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_stock_list_says_the_date_and_time_of_its_prices(client):
    _prices_up_to(datetime.date(2018, 11, 16))

    html = client.get("/stocks/").content.decode()

    assert "株価：2018/11/16終値時点 · 2026/12/07 18:30更新" in html


@pytest.mark.django_db
def test_the_status_page_is_for_people_and_linked_from_the_footer(client):
    _prices_up_to(datetime.date(2018, 11, 16), source="demo")

    response = client.get("/status/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "すべて正常に動いています。" in html
    assert "2018/11/16の終値までの株価があります。" in html
    assert 'href="/status/"' in client.get("/").content.decode()
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_an_alert_not_checked_yet_waits_for_data_after_the_last_date(client, user):
    from alerts.services import alert_create

    _prices_up_to(datetime.date(2018, 11, 16))
    alert_create(user=user, spec={"source": "prices", "prices": [float(p) for p in range(1, 21)]})
    client.force_login(user)

    html = client.get("/account/alerts/").content.decode()

    assert "2018/11/16より後のデータが入ったとき" in html
