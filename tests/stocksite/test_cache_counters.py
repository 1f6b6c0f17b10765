"""Counters in the cache (core.counters.cache_count): one atomic round trip on Redis, Django's
add and incr on any other backend, and this process's memory while Redis is down."""

import pytest
from django.core.cache import caches

from core.counters import cache_count

pytestmark = pytest.mark.django_db


def test_a_counter_starts_at_zero_counts_and_expires_on_redis(private_redis):
    assert cache_count("counter:a", timeout=60) == 1
    assert cache_count("counter:a", delta=5, timeout=60) == 6
    assert cache_count("counter:b", delta=3, timeout=60) == 3

    redis = private_redis.client()
    (key,) = redis.scan(match="*counter:a")[1]
    assert int(redis.get(key)) == 6
    assert 0 < redis.ttl(key) <= 60
    assert caches["default"].get("counter:a") == 6
    caches["default"].decr("counter:a")
    assert cache_count("counter:a", timeout=60) == 6


def test_one_redis_client_serves_every_call_of_a_process(private_redis):
    backend = caches["default"]
    client = backend._cache.get_client("x", write=True)
    assert backend._cache.get_client("y") is client
    backend.set("kept", 1)
    assert backend.get("kept") == 1
    assert backend._cache.get_client("z", write=True) is client


def test_counting_goes_on_in_memory_while_redis_is_down(private_redis):
    assert cache_count("counter:down", timeout=60) == 1
    private_redis.stop()

    assert cache_count("counter:down", timeout=60) == 1  # this process's own count
    assert cache_count("counter:down", delta=2, timeout=60) == 3


def test_other_backends_count_with_add_and_incr(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert not hasattr(caches["default"], "count_add")
    assert cache_count("counter:local", timeout=60) == 1
    assert cache_count("counter:local", delta=4, timeout=60) == 5
