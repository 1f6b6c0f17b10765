"""Weekly and monthly alerts: checked once the data of a week's or a month's last trading day is
in (by the stored calendar), on weekly or monthly closes."""

import datetime as dt

import numpy as np
import pytest

from accounts.services import api_token_rotate
from alerts.mail import hit_links
from alerts.models import AlertHit
from alerts.runs import alerts_check, alerts_due
from alerts.services import alert_create
from market.models import Stock, TradingDay
from market.selectors import period_last_trading_day

from .conftest import DAYS, spike_pattern

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "interval", "last"),
    [
        (dt.date(2026, 4, 24), "week", True),  # a Friday
        (dt.date(2026, 4, 23), "week", False),
        (dt.date(2026, 4, 24), "month", False),
        (dt.date(2026, 4, 30), "month", True),  # a Thursday; May 1 is in the next month
        (dt.date(2026, 5, 29), "month", True),  # a Friday; the 30th and 31st are a weekend
        (dt.date(2026, 4, 23), "day", True),
    ],
)
def test_the_last_trading_day_of_a_week_or_month_by_the_rule(day, interval, last):
    assert period_last_trading_day(day, interval) is last


def test_the_stored_calendar_decides_a_closed_friday_and_an_open_saturday():
    thursday, friday, saturday = dt.date(2026, 6, 11), dt.date(2026, 6, 12), dt.date(2026, 6, 13)
    TradingDay.objects.create(market=Stock.Market.TSE, date=friday, kind=TradingDay.Kind.CLOSED)
    assert period_last_trading_day(thursday, "week")
    open_kind = next(kind for kind in TradingDay.Kind.values if kind != TradingDay.Kind.CLOSED)
    TradingDay.objects.create(market=Stock.Market.TSE, date=saturday, kind=open_kind)
    assert not period_last_trading_day(thursday, "week")
    assert period_last_trading_day(saturday, "week")
    with pytest.raises(ValueError, match="interval"):
        period_last_trading_day(thursday, "year")


def weekly_spike(weeks: int = 10) -> list[float]:
    """1001's weekly closes on the new Friday: quiet weeks, then the jump."""
    return spike_pattern(weeks)


def test_a_weekly_alert_waits_for_the_weeks_last_trading_day(pro_user, synthetic_market):
    user = pro_user
    weekly = alert_create(
        user=user, spec={"source": "prices", "prices": weekly_spike()}, interval="week"
    )
    daily = alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    assert synthetic_market.previous_day.weekday() == 3  # the data ends on a Thursday

    checked = alerts_check()
    assert checked.alerts == 1  # the daily alert only
    weekly.refresh_from_db()
    daily.refresh_from_db()
    assert weekly.last_checked_date is None
    assert daily.last_checked_date == synthetic_market.previous_day

    synthetic_market.load(DAYS)  # Friday's data: the week is whole
    checked = alerts_check()
    assert checked.alerts == 2
    weekly.refresh_from_db()
    assert weekly.last_checked_date == synthetic_market.new_day
    hit = AlertHit.objects.get(alert=weekly)
    assert hit.code == "1001"
    assert hit.end_date == synthetic_market.new_day
    # Ten weekly bars, each dated by its Friday: the first is nine weeks before.
    assert hit.start_date == synthetic_market.new_day - dt.timedelta(weeks=9)
    assert "interval=week" in hit_links(hit)["chart"]
    assert "interval=week" in hit_links(hit)["search"]


def test_a_monthly_alert_is_not_due_before_the_months_last_trading_day(user, synthetic_market):
    monthly = alert_create(
        user=user, spec={"source": "prices", "prices": [1, 3, 2, 5, 4, 6]}, interval="month"
    )
    new_day = synthetic_market.new_day  # 2026-04-24
    assert monthly not in alerts_due(data_date=new_day)
    assert monthly in alerts_due(data_date=dt.date(2026, 4, 30))


def test_a_weekly_stock_pattern_is_frozen_to_its_weekly_closes(user, synthetic_market):
    synthetic_market.load(DAYS)
    days = synthetic_market.days
    alert = alert_create(
        user=user,
        spec={
            "source": "stock",
            "code": "1003",
            "from": days[0].isoformat(),
            "to": days[-1].isoformat(),
        },
        interval="week",
    )
    closes = list(
        Stock.objects.get(code="1003").bars.order_by("date").values_list("date", "adj_close")
    )
    fridays = [close for day, close in closes if day.weekday() == 4]
    assert alert.interval == "week"
    np.testing.assert_allclose(alert.pattern, fridays)


def test_the_api_makes_a_monthly_alert(client, pro_user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"
    response = client.post(
        "/api/v1/alerts/",
        data={"prices": [1, 3, 2, 5, 4, 6], "interval": "month"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["interval"] == "month"
    bad = client.post(
        "/api/v1/alerts/",
        data={"prices": [1, 3, 2, 5, 4, 6], "interval": "hour"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "interval" in bad.json()["error"]["fields"]
