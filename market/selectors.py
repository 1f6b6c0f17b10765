from django.core.cache import cache
from django.db.models import Max

from market.models import DailyBar, Stock

MARKET_SUMMARY_CACHE_KEY = "market:summary"


def market_summary() -> dict:
    """Counts of stocks and bars and the last bar date; cached, since counting bars is slow."""
    summary = cache.get(MARKET_SUMMARY_CACHE_KEY)
    if summary is None:
        summary = {
            "stocks": Stock.objects.count(),
            "bars": DailyBar.objects.count(),
            "last_date": DailyBar.objects.aggregate(last=Max("date"))["last"],
        }
        cache.set(MARKET_SUMMARY_CACHE_KEY, summary, timeout=300)
    return summary
