"""The cache is an accelerator and a shared counter, never a reason to fail a page.

`FailSoftRedisCache` is Django's Redis cache that, while Redis does not answer, serves every call
from a local-memory cache in the process instead of raising. What that means, per user of the
cache, and why it is the right trade:

- cached reads (market summary, stock lookups): recomputed or held per process; only slower.
- the daily search quota and the API's plan throttle: counted per process while Redis is away,
  so a user may get up to one allowance per web process for the outage; searches keep working
  for paying users rather than all answering 503, and the counts in Redis resume when it is back.
- allauth's login rate limits: also per process. Failing open would hand an attacker an outage
  as a window for unlimited password guessing; failing closed would lock every user out of
  login. Per-process limits keep guessing bounded (the limit times the number of processes)
  and logins working.

After a failure Redis is left alone for RETRY_SECONDS, so a Redis that hangs costs one socket
timeout per process every few seconds, not one per call. /healthz still reports Redis down
(`cache_reachable`), since the fallback would otherwise answer for it.

Each process keeps one Redis client per connection pool (Django builds a new client, some 0.1 ms
of CPU, for every call), and a counter is created and incremented in one round trip
(`count_add`, read by core.counters): an API search made some ten Redis calls before.
"""

import logging
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class PooledRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client that reuses one redis-py client per connection pool (a
    client is thread-safe: each command takes a connection from the pool)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
        self._fallback = LocMemCache(
            f"fail-soft:{server}",
            {key: params[key] for key in ("TIMEOUT", "KEY_PREFIX", "VERSION") if key in params},
        )
        self._down_until = 0.0

    def _call(self, name: str, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except REDIS_DOWN as exc:
                self._down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("Redis unreachable (%s): using this process's memory cache", exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    def ping(self) -> bool:
        """Whether Redis itself answers, bypassing the fallback (for /healthz)."""
        return bool(self._cache.get_client().ping())

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def count_add(self, key, delta=1, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """`add(key, 0, timeout)` then `incr(key, delta)` in one atomic round trip (MULTI/EXEC
        of SET NX EX and INCRBY); the new count."""
        if time.monotonic() >= self._down_until:
            try:
                return self._count_in_redis(key, delta, timeout, version)
            except REDIS_DOWN as exc:
                self._down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("Redis unreachable (%s): using this process's memory cache", exc)
        self._fallback.add(key, 0, timeout, version)
        return self._fallback.incr(key, delta, version)

    def _count_in_redis(self, key, delta, timeout, version) -> int:
        key = self.make_and_validate_key(key, version=version)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=True)
        pipeline.set(key, 0, ex=self.get_backend_timeout(timeout), nx=True)
        pipeline.incrby(key, delta)
        return int(pipeline.execute()[1])

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")


def cache_reachable() -> bool:
    """Whether the cache server answers; raises Redis's own error when it does not."""
    backend = caches["default"]
    return backend.ping() if isinstance(backend, FailSoftRedisCache) else True
