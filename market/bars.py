"""Daily bars as plain values, before they touch the database, and what makes one contradictory."""

import datetime
from dataclasses import dataclass

INFINITY = float("inf")


@dataclass(slots=True)
class Bar:
    """One trading day as traded; `adj_close` is None when the source gives raw prices only."""

    date: datetime.date
    open: float
    high: float
    low: float
    close: float
    volume: int
    adj_close: float | None = None


def bar_problem(bar: Bar) -> str | None:
    """Why a bar cannot be right, or None. Shared by the file importers and the page parsers."""
    low = bar.low
    # The common case in one comparison chain (NaN fails it): millions of rows go through here.
    if (
        0 < low <= bar.open <= bar.high < INFINITY
        and low <= bar.close <= bar.high
        and bar.volume >= 0
        and (bar.adj_close is None or 0 < bar.adj_close < INFINITY)
    ):
        return None
    prices = (bar.open, bar.high, bar.low, bar.close)
    if any(not 0 < price < INFINITY for price in prices):
        return "prices must be positive numbers"
    if bar.high < bar.low:
        return f"high {bar.high:g} is below low {bar.low:g}"
    if not (bar.low <= bar.open <= bar.high) or not (bar.low <= bar.close <= bar.high):
        return f"open {bar.open:g} or close {bar.close:g} lies outside low-high"
    if bar.volume < 0:
        return "volume is negative"
    if bar.adj_close is not None and not 0 < bar.adj_close < INFINITY:
        return "adjusted close must be a positive number"
    return None
