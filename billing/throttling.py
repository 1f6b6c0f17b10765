import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from billing.entitlements import entitlements_for

WINDOW_SECONDS = 60


class PlanRateThrottle(BaseThrottle):
    """API requests a minute at the rate of the user's plan (Plan.api_requests_per_minute).

    A fixed one-minute window per user (per address when anonymous), counted with the cache's
    atomic INCR, so every web process shares the count in Redis.
    """

    def allow_request(self, request, view) -> bool:
        user = request.user
        ident = (
            f"user:{user.pk}" if user and user.is_authenticated else f"ip:{self.get_ident(request)}"
        )
        rate = entitlements_for(user=user).api_requests_per_minute
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"throttle:plan:{ident}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
            count = cache.incr(key)
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= rate

    def wait(self) -> float:
        return self._wait
