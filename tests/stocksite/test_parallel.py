"""The suite runs on several processes (pytest-xdist, `make test`): each worker has a Redis
database, a test database and a default snapshot folder of its own (stocksite/settings_test.py),
so one worker's cache.clear(), queue purge or snapshot build never reaches another's."""

import os

import pytest
import redis
from django.conf import settings

from stocksite.settings_test import worker_redis_url

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/3", "gw1", "redis://127.0.0.1:6379/4"),
        ("redis://127.0.0.1:6379", "gw2", "redis://127.0.0.1:6379/2"),
        (
            "redis://:secret@cache.internal:6380/1?ssl_cert_reqs=none",
            "gw3",
            "redis://:secret@cache.internal:6380/4?ssl_cert_reqs=none",
        ),
    ],
)
def test_a_worker_s_redis_database_is_the_given_index_plus_its_number(url, worker, expected):
    assert worker_redis_url(url, worker) == expected


@pytest.mark.skipif(not WORKER, reason="runs serially: one Redis database, one test database")
def test_this_worker_uses_its_own_redis_database_test_database_and_snapshot_folder(db, redis_url):
    from django.db import connection

    from stocksite.celery import app

    base = os.environ["TEST_REDIS_BASE_URL"]
    moved = worker_redis_url(base, WORKER)
    assert (settings.REDIS_URL, settings.CACHES["default"]["LOCATION"]) == (moved, moved)
    assert (app.conf.broker_url, app.conf.result_backend) == (moved, moved)
    assert _index(moved) == _index(base) + int(WORKER.removeprefix("gw"))
    assert connection.settings_dict["NAME"].endswith(f"_{WORKER}")
    assert settings.SIMILARITY_SNAPSHOT_DIR.name.endswith(f"-{WORKER}")


def _index(url: str) -> int:
    """The database index redis-py itself reads from a URL."""
    return redis.Redis.from_url(url).connection_pool.connection_kwargs["db"]
