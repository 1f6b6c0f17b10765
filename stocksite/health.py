"""Health checks for /healthz: each returns a dict with at least {"ok": bool}.

The list lives in settings.HEALTH_CHECKS so that an app adds its own check without this module
knowing about it. A check that raises counts as failed: the exception goes to the log, and only
its type to the report (its text can hold host names and ports).
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.module_loading import import_string

from stocksite.cache import cache_reachable

logger = logging.getLogger(__name__)


def check_database() -> dict:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def check_cache() -> dict:
    started = time.perf_counter()
    # The cache falls back to local memory while Redis is down: ask Redis itself first.
    cache_reachable()
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return {
        "ok": ok,
        "backend": backend,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def run_checks() -> tuple[bool, dict]:
    results = {}
    for name, path in settings.HEALTH_CHECKS.items():
        try:
            results[name] = import_string(path)()
        except Exception as exc:  # a failing dependency is reported, never raised
            logger.exception("health check %s failed", name)
            results[name] = {"ok": False, "error": type(exc).__name__}
    return all(result.get("ok") for result in results.values()), results
