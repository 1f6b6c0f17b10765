"""What a user may do now. Every page, API view and service asks this module, never a model.

This first version knows only the Free plan of DESIGN.md; the billing issue adds plans,
subscriptions and complimentary grants behind the same two functions.
"""

from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stocksite.api import DomainError


class SearchQuotaExceeded(DomainError):
    status_code = 429
    default_code = "quota_exceeded"
    default_detail = _("You have used all of today's searches. Upgrade on /pricing/ for more.")


@dataclass(frozen=True)
class Entitlements:
    plan_name: str
    is_paid: bool
    searches_per_day: int
    max_matches: int
    history_years: int | None  # None: all history
    all_horizons: bool  # False: outcome statistics and groups for the first horizon only
    api_access: bool
    csv_export: bool
    searches_today: int

    @property
    def searches_left(self) -> int:
        return max(0, self.searches_per_day - self.searches_today)


FREE = {
    "plan_name": "Free",
    "is_paid": False,
    "searches_per_day": 10,
    "max_matches": 10,
    "history_years": 3,
    "all_horizons": False,
    "api_access": False,
    "csv_export": False,
}


def _usage_key(user_id: int, day: date) -> str:
    return f"usage:searches:{user_id}:{day.isoformat()}"


def entitlements_for(*, user) -> Entitlements:
    searches_today = 0
    if user.is_authenticated:
        searches_today = cache.get(_usage_key(user.pk, timezone.localdate()), 0)
    return Entitlements(**FREE, searches_today=searches_today)


def search_quota_consume(*, user) -> Entitlements:
    """Take one search from today's allowance, atomically, or raise SearchQuotaExceeded."""
    limits = entitlements_for(user=user)
    key = _usage_key(user.pk, timezone.localdate())
    cache.add(key, 0, timeout=60 * 60 * 26)
    used = cache.incr(key)
    if used > limits.searches_per_day:
        cache.decr(key)
        raise SearchQuotaExceeded()
    return Entitlements(**{**limits.__dict__, "searches_today": used})
