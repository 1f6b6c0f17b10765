"""The watchlist (お気に入り): reads. A user only ever sees their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from alerts.models import WatchlistEntry
from market.models import Stock
from market.selectors import stocks_recent_closes
from similarity.limits import LATEST_BARS_BY_INTERVAL

# Closes drawn in each row's chart: the days the one-tap search takes as its pattern.
CHART_BARS = LATEST_BARS_BY_INTERVAL["day"]


def watchlist_entries(*, user) -> QuerySet[WatchlistEntry]:
    """The user's watchlist, the stock added last first."""
    return (
        WatchlistEntry.objects.filter(user=user)
        .select_related("stock")
        .order_by("-added_at", "-id")
    )


def watchlist_codes(*, user) -> frozenset[str]:
    """The codes in the user's watchlist (what the add/remove buttons of every page read)."""
    if not user.is_authenticated:
        return frozenset()
    return frozenset(WatchlistEntry.objects.filter(user=user).values_list("stock__code", flat=True))


def watchlist_series_codes(*, user_ids) -> dict[int, list[str]]:
    """{user id: the codes in their watchlist}, for the alert run (one query for a batch)."""
    found: dict[int, list[str]] = {user_id: [] for user_id in user_ids}
    rows = WatchlistEntry.objects.filter(user_id__in=list(found)).values_list(
        "user_id", "stock__code"
    )
    for user_id, code in rows.order_by("user_id", "stock__code"):
        found[user_id].append(code)
    return found


@dataclass(frozen=True)
class StockMove:
    """A stock's latest close, the change from the close before, and its recent closes."""

    stock: Stock
    closes: list[float]  # the last CHART_BARS split-adjusted closes, oldest first
    last_date: dt.date | None
    last_close: float | None
    change: float | None  # the last close over the one before, minus 1; None without two


def stock_moves(*, entries) -> list[StockMove]:
    """The latest move of each entry's stock, in the entries' order, in one query of bars."""
    entries = list(entries)
    recent = stocks_recent_closes(stocks=[entry.stock for entry in entries], count=CHART_BARS)
    moves = []
    for entry in entries:
        bars = recent.get(entry.stock_id) or []
        closes = [close for _day, close in bars]
        change = None
        if len(closes) > 1 and closes[-2]:
            change = closes[-1] / closes[-2] - 1
        moves.append(
            StockMove(
                stock=entry.stock,
                closes=closes,
                last_date=bars[-1][0] if bars else None,
                last_close=closes[-1] if closes else None,
                change=change,
            )
        )
    return moves


def watchlist_export(*, user) -> dict:
    """The watchlist's section of the account page's download."""
    return {
        "watchlist": list(
            WatchlistEntry.objects.filter(user=user)
            .order_by("added_at", "id")
            .values("stock__code", "stock__name", "added_at")
        )
    }
