"""Trading days of the Tokyo Stock Exchange.

The exchange's own calendar, stored from J-Quants (`TradingDay`), decides
(`market.selectors.is_trading_day`). Only for a day it does not cover (no J-Quants key, or beyond
what was synced) the rule here is guessed: weekdays that are not public holidays (jpholiday)
and not the year-end break (December 31 to January 3).
"""

import datetime
from zoneinfo import ZoneInfo

import jpholiday
from django.db import models
from django.utils.translation import gettext_lazy as _

TOKYO = ZoneInfo("Asia/Tokyo")


class DayKind(models.TextChoices):
    """What the exchange's calendar says of a day."""

    BUSINESS = "business", _("business day")
    HALF = "half", _("half day")
    CLOSED = "closed", _("closed")


def is_trading_day_by_rule(day: datetime.date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in {(12, 31), (1, 1), (1, 2), (1, 3)}:
        return False
    return not jpholiday.is_holiday(day)


def tokyo_today() -> datetime.date:
    return datetime.datetime.now(TOKYO).date()
