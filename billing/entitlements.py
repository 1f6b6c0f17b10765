"""What a user may do now. Every page, API view and service asks this module, never a model.

A user's plan is the highest-ranked of:
- the Free plan (everyone, signed in or not);
- a complimentary plan that staff granted, between its start and end;
- a Stripe subscription that is `trialing` or `active` until PERIOD_END_GRACE after its current
  period ends (a renewal moves the end forward; a subscription whose end passed without one is
  not paid, whatever status a lost webhook left behind, and the hourly reconcile re-reads it),
  or `past_due` for at most PAST_DUE_GRACE after we first saw it past due. `canceled`,
  `unpaid`, `incomplete`, `incomplete_expired` and `paused` give nothing.

Searches a day are counted in the cache (Redis in production) with an atomic INCR, under a key
per user and Tokyo calendar day, so two concurrent requests cannot both take the last search.
"""

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from billing.models import (
    LIVE_STATUSES,
    PAID_STATUSES,
    ComplimentaryGrant,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from core.counters import cache_count
from core.errors import DomainError

PAST_DUE_GRACE = timedelta(days=7)
# Stripe renews at the period end and its webhooks may come late: a day of slack.
PERIOD_END_GRACE = timedelta(days=1)


class SearchQuotaExceeded(DomainError):
    """Today's searches are used up; the message says when the count starts again."""

    code = "quota_exceeded"
    status = 429
    default_message = _("You have used all of today's searches. Upgrade on /pricing/ for more.")

    def __init__(self, *, limit: int, now: datetime | None = None):
        now = timezone.localtime(now)
        resets_at = datetime.combine(
            now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo
        )
        minutes = max(1, math.ceil((resets_at - now).total_seconds() / 60))
        self.resets_at = resets_at
        super().__init__(
            _(
                "You have used all %(limit)d of today's searches. The count starts again at "
                "midnight Japan time (%(resets_at)s, in %(hours)d h %(minutes)d min). "
                "For more searches a day, see the plans on /pricing/."
            )
            % {
                "limit": limit,
                "resets_at": formats.date_format(resets_at, "SHORT_DATETIME_FORMAT"),
                "hours": minutes // 60,
                "minutes": minutes % 60,
            }
        )


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
    plan_slug: str = "free"
    api_requests_per_minute: int = 30
    max_alerts: int = 1
    max_watchlist: int = 10  # stocks in the watchlist
    line_alerts: bool = False  # alert digests may also be pushed to LINE
    # Where the plan comes from: "free", "subscription" or "complimentary".
    source: str = "free"
    # The Stripe status of the subscription in effect, or "" when there is none.
    status: str = ""
    # When the paid plan renews (or ends, if cancel_at_period_end or complimentary).
    period_end: datetime | None = None
    cancel_at_period_end: bool = False
    # Set while a past_due subscription still gives access.
    grace_until: datetime | None = field(default=None)

    @property
    def searches_left(self) -> int:
        return max(0, self.searches_per_day - self.searches_today)

    def history_start(self, *, today: date) -> date | None:
        """The first date a search may cover, or None for all of the history."""
        if not self.history_years:
            return None
        try:
            return today.replace(year=today.year - self.history_years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - self.history_years, day=28)


# The DESIGN.md Free plan; used as is when the database has no Free plan row.
FREE = {
    "plan_name": "Free",
    "is_paid": False,
    "searches_per_day": 10,
    "max_matches": 10,
    "history_years": 3,
    "all_horizons": False,
    "api_access": False,
    "csv_export": False,
    "max_alerts": 1,
    "max_watchlist": 10,
    "line_alerts": False,
}


def _usage_key(user_id: int, day: date) -> str:
    return f"usage:searches:{user_id}:{day.isoformat()}"


def _plan_limits(plan, *, is_paid: bool) -> dict:
    return {
        "plan_name": plan.name,
        "plan_slug": plan.slug,
        "is_paid": is_paid,
        "searches_per_day": plan.searches_per_day,
        "max_matches": plan.max_matches,
        "history_years": plan.history_years,
        "all_horizons": plan.all_horizons,
        "api_access": plan.api_access,
        "csv_export": plan.csv_export,
        "api_requests_per_minute": plan.api_requests_per_minute,
        "max_alerts": plan.max_alerts,
        "max_watchlist": plan.max_watchlist,
        "line_alerts": plan.line_alerts,
    }


def _free_limits() -> dict:
    plan = Plan.objects.filter(slug=Plan.FREE_SLUG).first()
    return _plan_limits(plan, is_paid=False) if plan else dict(FREE)


def _subscription_grants(subscription, *, now: datetime) -> tuple[bool, datetime | None]:
    """Whether a subscription gives its plan now, and until when a past_due grace lasts."""
    if subscription.status in PAID_STATUSES:
        period_end = subscription.current_period_end
        return period_end is None or now < period_end + PERIOD_END_GRACE, None
    if subscription.status == SubscriptionStatus.PAST_DUE:
        since = subscription.past_due_since or now
        grace_until = since + PAST_DUE_GRACE
        return now < grace_until, grace_until
    return False, None


def _paid_limits(user, *, now: datetime) -> dict | None:
    candidates = []
    subscriptions = Subscription.objects.filter(
        user=user,
        plan__isnull=False,
        status__in=LIVE_STATUSES,
    ).select_related("plan")
    for subscription in subscriptions:
        grants, grace_until = _subscription_grants(subscription, now=now)
        if grants:
            candidates.append(
                (
                    subscription.plan.rank,
                    1,
                    {
                        **_plan_limits(subscription.plan, is_paid=not subscription.plan.is_free),
                        "source": "subscription",
                        "status": subscription.status,
                        "period_end": subscription.current_period_end,
                        "cancel_at_period_end": subscription.cancel_at_period_end,
                        "grace_until": grace_until,
                    },
                )
            )
    grants = ComplimentaryGrant.objects.filter(
        Q(user=user), Q(starts_at__lte=now), Q(ends_at__gt=now)
    ).select_related("plan")
    for grant in grants:
        candidates.append(
            (
                grant.plan.rank,
                0,
                {
                    **_plan_limits(grant.plan, is_paid=not grant.plan.is_free),
                    "source": "complimentary",
                    "period_end": grant.ends_at,
                    "cancel_at_period_end": True,
                },
            )
        )
    if not candidates:
        return None
    # Highest rank wins; on a tie a paying subscription is shown rather than a grant.
    return max(candidates, key=lambda candidate: candidate[:2])[2]


# Plan limits already read in this web request, by user id (None: no request, read each time).
_request_limits: ContextVar[dict | None] = ContextVar("request_limits", default=None)


@contextmanager
def entitlements_per_request():
    """Within it, a user's plan limits are read from the database once: an API search asks for
    them in its authentication, permission, throttle and quota (EntitlementsMiddleware wraps
    every request). The searches used today are still read each time."""
    token = _request_limits.set({})
    try:
        yield
    finally:
        _request_limits.reset(token)


def _limits(user) -> dict:
    def read() -> dict:
        if not user.is_authenticated:
            return _free_limits()
        return _paid_limits(user, now=timezone.now()) or _free_limits()

    memo = _request_limits.get()
    if memo is None:
        return read()
    key = user.pk if user.is_authenticated else None
    if key not in memo:
        memo[key] = read()
    return memo[key]


def api_access_for(*, user) -> bool:
    """Whether the user's plan includes the API (as entitlements_for(...).api_access, without
    reading today's search count)."""
    return bool(_limits(user)["api_access"])


def api_rate_for(*, user) -> int:
    """The API requests a minute of the user's plan (as
    entitlements_for(...).api_requests_per_minute, without reading today's search count)."""
    return _limits(user).get("api_requests_per_minute", Entitlements.api_requests_per_minute)


def entitlements_for(*, user) -> Entitlements:
    limits = _limits(user)
    if not user.is_authenticated:
        return Entitlements(**limits, searches_today=0)
    searches_today = cache.get(_usage_key(user.pk, timezone.localdate()), 0)
    return Entitlements(**limits, searches_today=searches_today)


def search_quota_consume(*, user) -> Entitlements:
    """Take one search from today's allowance, atomically, or raise SearchQuotaExceeded.

    INCR is atomic in Redis, so of two requests racing for the last search exactly one sees a
    count within the limit; the loser gives its increment back.
    """
    limits = _limits(user)
    key = _usage_key(user.pk, timezone.localdate())
    used = _increment(key)
    if used > limits["searches_per_day"]:
        cache.decr(key)
        raise SearchQuotaExceeded(limit=limits["searches_per_day"])
    return Entitlements(**limits, searches_today=used)


def search_quota_release(*, user) -> None:
    """Give back a search taken by search_quota_consume that was then refused."""
    cache.decr(_usage_key(user.pk, timezone.localdate()))


class SearchCostExceeded(DomainError):
    code = "search_cost_exceeded"
    status = 429
    default_message = _("Too much searching in one minute.")


COST_WINDOW_SECONDS = 60


def search_cost_consume(*, user, cost_ms: float, budget_ms: float) -> None:
    """Take a search's estimated CPU time from the user's budget for this minute, or raise
    SearchCostExceeded: heavy searches (many matches, stretch, the whole market) weigh more."""
    now = time.time()
    window = int(now // COST_WINDOW_SECONDS)
    key = f"usage:search-cost:{user.pk}:{window}"
    microseconds = max(1, round(cost_ms * 1000))
    used = _increment(key, delta=microseconds, timeout=COST_WINDOW_SECONDS * 2)
    if used > budget_ms * 1000:
        cache.decr(key, microseconds)
        wait = math.ceil((window + 1) * COST_WINDOW_SECONDS - now)
        raise SearchCostExceeded(
            _(
                "This search is too heavy for what is left of this minute's search capacity. "
                "Try again in %(seconds)d seconds, or ask for fewer matches, without stretch, "
                "or in one segment."
            )
            % {"seconds": wait}
        )


def search_cost_add(*, user, cost_ms: float) -> None:
    """Add work a search did beyond what it was charged before it ran (a base rate the index
    could not answer) to the user's budget for this minute, refusing nothing: the next search
    waits for it."""
    window = int(time.time() // COST_WINDOW_SECONDS)
    key = f"usage:search-cost:{user.pk}:{window}"
    _increment(key, delta=max(1, round(cost_ms * 1000)), timeout=COST_WINDOW_SECONDS * 2)


def _increment(key: str, *, delta: int = 1, timeout: int = 60 * 60 * 26) -> int:
    # A day's key lives past midnight in every time zone, then expires on its own.
    return cache_count(key, delta=delta, timeout=timeout)
