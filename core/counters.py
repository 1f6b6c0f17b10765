"""Counters in the cache (Redis in production): daily search quotas, per-minute rate limits and
CPU budgets, shared by every web process.

A backend with `count_add` (stocksite.cache.FailSoftRedisCache) creates and increments a counter
in one atomic round trip; any other backend takes Django's `add` then `incr`.
"""

from django.core.cache import cache


def cache_count(key: str, *, delta: int = 1, timeout: int) -> int:
    """Add ``delta`` to the counter at ``key`` and return its new value; a missing counter
    starts at 0 and lives ``timeout`` seconds from its creation (a later count does not extend
    it). Atomic: of two concurrent counts each sees its own total."""
    count_add = getattr(cache, "count_add", None)
    if count_add is not None:
        return count_add(key, delta, timeout=timeout)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, delta)
    except ValueError:  # evicted or expired between add and incr
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key, delta)
