import time

from rest_framework.throttling import BaseThrottle

from billing.entitlements import api_rate_for
from core.counters import cache_count

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
        rate = api_rate_for(user=user)
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"throttle:plan:{ident}:{window}"
        count = cache_count(key, timeout=WINDOW_SECONDS * 2)
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return count <= rate

    def wait(self) -> float:
        return self._wait
