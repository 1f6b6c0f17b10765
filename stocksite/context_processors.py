from django.conf import settings
from django.db import DatabaseError
from django.utils.functional import SimpleLazyObject

from alerts.watchlist.selectors import watchlist_codes
from market.selectors import market_freshness
from stocksite.app import THEME_COLOR


def _freshness() -> dict | None:
    # The error pages render with this context too, also while the database is down.
    try:
        return market_freshness()
    except DatabaseError:
        return None


def site(request):
    return {
        "site_name": "stocksite",
        "site_debug": settings.DEBUG,
        "candle_colors": settings.CANDLE_COLORS,
        "theme_color": THEME_COLOR,
        # The prices' date and age: the stale-data notice of every page, the "as of" line of
        # every page that shows prices.
        "data_freshness": SimpleLazyObject(_freshness),
        # The codes in the user's watchlist: the add/remove button of every stock shown
        # (includes/_watch_button.html) reads it; a page without one asks nothing.
        "watchlist_codes": SimpleLazyObject(lambda: watchlist_codes(user=request.user)),
    }
