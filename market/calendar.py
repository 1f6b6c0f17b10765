"""Trading days of the Tokyo Stock Exchange.

The exchange's own calendar, stored from J-Quants (`TradingDay`), decides. Only for a day it does
not cover (no J-Quants key, or beyond what was synced) the rule is guessed: weekdays that are
not public holidays (jpholiday) and not the year-end break (December 31 to January 3).
"""

import datetime
from zoneinfo import ZoneInfo

import jpholiday

TOKYO = ZoneInfo("Asia/Tokyo")


def is_trading_day(day: datetime.date) -> bool:
    from market.models import Stock, TradingDay

    kind = (
        TradingDay.objects.filter(market=Stock.Market.TSE, date=day)
        .values_list("kind", flat=True)
        .first()
    )
    if kind is not None:
        return kind != TradingDay.Kind.CLOSED
    return is_trading_day_by_rule(day)


def is_trading_day_by_rule(day: datetime.date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in {(12, 31), (1, 1), (1, 2), (1, 3)}:
        return False
    return not jpholiday.is_holiday(day)


def tokyo_today() -> datetime.date:
    return datetime.datetime.now(TOKYO).date()
