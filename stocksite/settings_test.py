"""Settings for the test suite: production's (stocksite.settings), with a fast password hasher.

Production hashes a password with PBKDF2 at a million rounds, over half a second on the 2-core
machine, on every user created and every login; the suite does that hundreds of times. Nothing
else differs. The tests of the production settings themselves run fresh processes with
DJANGO_SETTINGS_MODULE=stocksite.settings (tests/stocksite/test_production_settings.py).

`make test` runs the suite in parallel (pytest-xdist). Each worker process (PYTEST_XDIST_WORKER
gw0, gw1, ...) gets Redis databases and a snapshot folder of its own, so that one worker's
cache.clear(), queue purge or snapshot build never touches another's: worker N uses REDIS_URL's
database index plus N (the cache, the Celery broker and result backend all follow REDIS_URL),
and pytest-django gives it its own test database (test_<name>_gwN). See "Worker-safe tests" in
docs/architecture.md.
"""

import os
from urllib.parse import urlsplit, urlunsplit


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL with its database index moved up by the worker's number: gw1 of .../3 -> .../4."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{database}"))


_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Set in os.environ before production's settings read it, so that everything derived from it and
# the processes the tests start see the worker's database. TEST_REDIS_BASE_URL keeps the URL as
# given, and keeps a child process that loads these settings again (it inherits both variables)
# from moving the index a second time.
if _WORKER and os.environ.get("REDIS_URL") and "TEST_REDIS_BASE_URL" not in os.environ:
    os.environ["TEST_REDIS_BASE_URL"] = os.environ["REDIS_URL"]
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _WORKER)

from stocksite.settings import *  # noqa: E402, F403
from stocksite.settings import SIMILARITY_SNAPSHOT_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if _WORKER and "TEST_SNAPSHOT_BASE_DIR" not in os.environ:
    # The default snapshot folder, for the tests that do not point it at a tmp_path of their own.
    # Kept in os.environ like REDIS_URL: a process a test starts (it inherits both variables)
    # serves the same folder, or the one the test hands it, and never moves it a second time.
    os.environ["TEST_SNAPSHOT_BASE_DIR"] = str(SIMILARITY_SNAPSHOT_DIR)
    SIMILARITY_SNAPSHOT_DIR = SIMILARITY_SNAPSHOT_DIR.with_name(
        f"{SIMILARITY_SNAPSHOT_DIR.name}-{_WORKER}"
    )
    os.environ["SIMILARITY_SNAPSHOT_DIR"] = str(SIMILARITY_SNAPSHOT_DIR)
