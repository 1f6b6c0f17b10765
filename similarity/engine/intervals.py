"""Weekly and monthly closes from daily ones. No Django here.

A week runs Monday to Sunday, a month is a calendar month. A period's close is the close of its
last trading day *in that series*, dated by that day: a stock halted on a Friday closes its week
on the Thursday. The latest period of a series may be unfinished (a week that has only reached
Wednesday): its bar is the latest close so far, as a broker's chart shows it.
"""

from __future__ import annotations

import numpy as np

from .series import Market

INTERVALS = ("day", "week", "month")
# 1970-01-01, day 0 of datetime64[D], was a Thursday: day + 3 counts from the Monday before.
_MONDAY_SHIFT = 3


def period_keys(dates, interval: str) -> np.ndarray:
    """A number per date, equal for the dates of one week or month and increasing with them."""
    days = np.asarray(dates, dtype="datetime64[D]")
    if interval == "day":
        return days.astype(np.int64)
    if interval == "week":
        return (days.astype(np.int64) + _MONDAY_SHIFT) // 7
    if interval == "month":
        return days.astype("datetime64[M]").astype(np.int64)
    raise ValueError(f"interval is one of {', '.join(INTERVALS)}, not {interval!r}")


def period_ends(dates, interval: str) -> np.ndarray:
    """Indices (int64, increasing) of the last date of each week or month in sorted ``dates``;
    every index for ``"day"``."""
    keys = period_keys(dates, interval)
    last = np.ones(keys.size, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    return np.flatnonzero(last)


def market_resample(market: Market, interval: str) -> Market:
    """The market on weekly or monthly closes (the market itself for ``"day"``).

    Same series in the same order with the same ids (a series may become shorter than a search's
    pattern), each close being that of a period's last trading day and dated by it.

    Raises
    ------
    ValueError
        For an unknown interval, or a market without dates.
    """
    period_keys(np.zeros(0, dtype="datetime64[D]"), interval)  # an unknown interval raises
    if interval == "day":
        return market
    if market.dates is None:
        raise ValueError("weekly and monthly closes need a market with dates")
    if not len(market):
        return market
    keys = period_keys(market.dates, interval)
    offsets = np.asarray(market.offsets)
    last = np.ones(keys.size, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    ends = offsets[1:][offsets[1:] > offsets[:-1]] - 1
    last[ends] = True  # a series' last close ends its period, whatever the next series holds
    keep = np.flatnonzero(last)
    new_offsets = np.searchsorted(keep, offsets)
    closes = np.asarray(market.closes)[keep]
    dates = np.asarray(market.dates)[keep]
    cuts = new_offsets[1:-1]
    return Market.from_series(np.split(closes, cuts), market.ids, np.split(dates, cuts))
