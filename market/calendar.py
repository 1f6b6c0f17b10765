"""Trading days of the Tokyo Stock Exchange: weekdays that are not public holidays (jpholiday)
and not the exchange's year-end break (December 31 to January 3)."""

import datetime
from zoneinfo import ZoneInfo

import jpholiday

TOKYO = ZoneInfo("Asia/Tokyo")


def is_trading_day(day: datetime.date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in {(12, 31), (1, 1), (1, 2), (1, 3)}:
        return False
    return not jpholiday.is_holiday(day)


def tokyo_today() -> datetime.date:
    return datetime.datetime.now(TOKYO).date()
