"""Fixtures shared by the whole suite.

Services: with REQUIRE_SERVICES=1 (CI), the run starts only if PostgreSQL (DATABASE_URL) and Redis
(REDIS_URL) answer, and a test that needs Redis fails rather than skips. Without it the suite runs
on SQLite and skips, with a reason, only the tests that need a service.
"""

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _redis_ping(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=3).ping()


def _compile_messages() -> None:
    """Build the .mo catalogs that are missing or older than their .po (`make test` does too)."""
    stale = [
        po
        for po in REPO_ROOT.glob("locale/*/LC_MESSAGES/*.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    if shutil.which("msgfmt") is None:
        raise pytest.UsageError(
            "gettext's msgfmt is needed to build locale/ (apt-get install gettext)"
        )
    for po in stale:
        # Written beside, then renamed: a process reading the catalog never sees half of it.
        partial = po.with_suffix(f".mo.{os.getpid()}")
        subprocess.run(["msgfmt", "--check", "-o", str(partial), str(po)], check=True)
        partial.replace(po.with_suffix(".mo"))


def _temporary_files_in_memory() -> None:
    """Temporary files (tmp_path, the snapshots the tests build) in /dev/shm, a tmpfs, where
    TMPDIR is not set and it has room: a snapshot build writes and fsyncs some 85 MB (the
    base-rate tables have a fixed size), a few hundred times in a run, all of it written to
    disk otherwise (test_snapshot.py and test_run.py alone: 50 against 40 s)."""
    shm = Path("/dev/shm")
    if "TMPDIR" in os.environ or not shm.is_dir() or not os.access(shm, os.W_OK):
        return
    room = os.statvfs(shm)
    if room.f_bavail * room.f_frsize < 4 << 30:  # a container's 64 MB default, say
        return
    os.environ["TMPDIR"] = str(shm)  # for the workers and every process the tests start
    tempfile.tempdir = None  # read again from TMPDIR


_STARTED = pytest.StashKey()


def pytest_configure(config):
    _temporary_files_in_memory()
    # Under pytest-xdist the controller builds the catalogs before it starts the workers, and
    # starts compiling the engine's kernels (tests/engine_kernels.py) and migrating a template
    # of their test databases (tests/database_template.py) beside them.
    if not hasattr(config, "workerinput"):
        _compile_messages()
        if config.getoption("numprocesses", None):
            # The workers already fill the cores: OpenMP and BLAS thread pools (scikit-learn's
            # k-means, NumPy's BLAS) in each of them would spin waiting for one another: the
            # k-means reference tests took 34 s of CPU in the suite; alone, 14.5 s with their
            # threads and 9.7 s with one.
            for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(variable, "1")
            from tests.database_template import template_start
            from tests.engine_kernels import engine_kernels_start

            folder = Path(tempfile.mkdtemp(prefix="stocksite-test-"))
            config.stash[_STARTED] = (
                folder,
                engine_kernels_start(folder / "kernels"),
                template_start(os.environ.get("DATABASE_URL", ""), folder / "database"),
            )
    if not REQUIRE_SERVICES:
        return
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    problems = []
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append(f"DATABASE_URL must point at PostgreSQL, got {database_url!r}")
    else:
        import psycopg

        try:
            psycopg.connect(
                database_url.replace("postgres://", "postgresql://", 1), connect_timeout=3
            ).close()
        except psycopg.OperationalError as exc:
            if "does not exist" not in str(exc):  # pytest-django creates the test database itself
                problems.append(f"PostgreSQL at {database_url} does not answer: {exc}")
    if not redis_url:
        problems.append("REDIS_URL is not set")
    else:
        try:
            _redis_ping(redis_url)
        except Exception as exc:
            problems.append(f"Redis at {redis_url} does not answer: {exc}")
    if problems:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but: " + "; ".join(problems))


def pytest_report_header(config):
    from django.conf import settings

    return (
        f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"redis: {'yes' if settings.REDIS_URL else 'no (eager Celery, local-memory cache)'}, "
        f"services required: {'yes' if REQUIRE_SERVICES else 'no'}"
    )


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The project's sibling shared/data folder: real TSE prices and the exchange's listing."""
    path = Path(os.environ.get("SHARED_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))
    if not (path / "jp_daily").is_dir():
        pytest.fail(f"shared data not found at {path} (set SHARED_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    from django.conf import settings

    if not settings.REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("REDIS_URL is required (REQUIRE_SERVICES=1)")
        pytest.skip("needs Redis: set REDIS_URL (CI sets REQUIRE_SERVICES=1)")
    return settings.REDIS_URL


@dataclass(frozen=True)
class MarketTemplate:
    """What market_load and snapshot_build made of a market once, to put back for each test."""

    stocks: dict[str, dict]  # code -> the Stock's stored field values, id and timestamps aside
    bars: dict[str, list[tuple]]  # code -> (date, open, high, low, close, volume, adj_close)
    snapshot: Path  # a built snapshot folder; linked into each test's, never written to

    @functools.cached_property
    def snapshot_files(self) -> dict[str, tuple[int, int]]:
        """Each file of the built snapshot, with its size and modification time (ns)."""
        return {
            path.name: (path.stat().st_size, path.stat().st_mtime_ns)
            for path in self.snapshot.iterdir()
        }

    @functools.cached_property
    def bar_lines(self) -> dict[str, list[bytes]]:
        """The bars as lines of PostgreSQL's COPY text format, without the stock id: written to
        COPY in one piece, where daily_bar_rows_insert dumps them value by value (a few tenths
        of a second for each test of the search market)."""
        return {
            code: ["\t".join(map(str, row)).encode() + b"\n" for row in rows]
            for code, rows in self.bars.items()
        }

    def restore(self, snapshot_root: Path) -> dict:
        """The stocks and bars in the test's database, and a snapshot of its own under
        ``snapshot_root``, with an id of its own: the process caches keyed by snapshot id
        (universe, benchmark) never see another test's rows."""
        from django.db import DatabaseError, connection
        from django.utils import timezone

        from market.models import DailyBar, Stock
        from market.services.daily_bars import BAR_VALUE_FIELDS, daily_bar_rows_insert

        stocks = {code: Stock.objects.create(**fields) for code, fields in self.stocks.items()}
        if connection.vendor == "postgresql":
            columns = ", ".join(("stock_id", "date", *BAR_VALUE_FIELDS))
            with connection.cursor() as cursor:
                # The bars' foreign keys were checked when the template was built: copied as a
                # replica, they queue no check of their stock, row by row, for the test's end
                # (SET CONSTRAINTS ALL IMMEDIATE) or its commit (a third of the database's CPU
                # in the suite). Only a superuser may, as the tests' user is here.
                cursor.execute("SELECT current_setting('is_superuser') = 'on'")
                (as_replica,) = cursor.fetchone()
                if as_replica:
                    cursor.execute("SET session_replication_role = replica")
                try:
                    with cursor.cursor.copy(
                        f"COPY {DailyBar._meta.db_table} ({columns}) FROM STDIN"
                    ) as copy:
                        for code, stock in stocks.items():
                            prefix = b"%d\t" % stock.pk
                            copy.write(b"".join(prefix + line for line in self.bar_lines[code]))
                finally:
                    # In a failed transaction the rollback resets it.
                    with contextlib.suppress(DatabaseError):
                        if as_replica:
                            cursor.execute("SET session_replication_role = DEFAULT")
        else:
            for code, stock in stocks.items():
                daily_bar_rows_insert(rows=[(stock.pk, *row) for row in self.bars[code]])
        name = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        snapshot_root.mkdir(parents=True)
        # Hard links, not copies: the snapshot is some 85 MB (the base-rate tables have a fixed
        # size), copied and written back to disk for every test of this market. A test that
        # damages its snapshot replaces a file (unlink, then write) rather than writing into it,
        # which would write into the template: checked here for every test.
        changed = sorted(
            file
            for file, (size, mtime) in self.snapshot_files.items()
            if (self.snapshot / file).stat().st_size != size
            or (self.snapshot / file).stat().st_mtime_ns != mtime
        )
        if changed:
            pytest.fail(
                f"a test wrote into the search market's shared snapshot ({', '.join(changed)}): "
                "replace a file to damage it (unlink it first), never write into it"
            )
        shutil.copytree(self.snapshot, snapshot_root / name, copy_function=os.link)
        os.symlink(name, snapshot_root / "current")
        return stocks


def market_template_build(load, *, django_db_blocker, root: Path) -> MarketTemplate:
    """Run ``load()`` (stocks and bars stored through the real services; returns the stocks by
    code) and snapshot_build into ``root`` once, in a transaction that is rolled back: the
    database stays empty, what they wrote is kept in the template."""
    from django.db import transaction
    from django.test import override_settings

    from market.models import DailyBar, Stock
    from market.services.daily_bars import BAR_VALUE_FIELDS
    from similarity.snapshot import snapshot_build

    # What the database gives: the id and the timestamps.
    given = {"id", "created_at", "updated_at"}
    fields = [field.name for field in Stock._meta.concrete_fields if field.name not in given]
    with (
        django_db_blocker.unblock(),
        override_settings(SIMILARITY_SNAPSHOT_DIR=root),
        transaction.atomic(),
    ):
        stocks = load()
        snapshot = snapshot_build()
        template = MarketTemplate(
            stocks={
                code: Stock.objects.filter(pk=stock.pk).values(*fields).get()
                for code, stock in stocks.items()
            },
            bars={
                code: list(
                    DailyBar.objects.filter(stock=stock)
                    .order_by("date")
                    .values_list("date", *BAR_VALUE_FIELDS)
                )
                for code, stock in stocks.items()
            },
            snapshot=snapshot.folder,
        )
        transaction.set_rollback(True)
    return template


@pytest.fixture(scope="session")
def search_market_template(
    django_db_setup, django_db_blocker, tmp_path_factory, shared_data_dir
) -> MarketTemplate:
    """The market of tests/similarity/conftest.py's STOCKS, built once per session, for
    search_market and browser_market to put back."""
    from tests.similarity.conftest import market_load

    return market_template_build(
        lambda: market_load(shared_data_dir),
        django_db_blocker=django_db_blocker,
        root=tmp_path_factory.mktemp("search_market") / "snapshot",
    )


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language (settings.LANGUAGE_CODE, Japanese) and leaves
    none behind. A request through the test client leaves the language its LocaleMiddleware (or
    a signed-in user's choice) activated in the test's thread; production's next request picks
    again, but a later test calling a service, a task or a template directly would read that
    language, so its result would depend on which tests ran before it on the same process."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in the test's own process unless the test asks for a real worker."""
    from stocksite.celery import app

    if "celery_worker" in request.fixturenames:
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker(redis_url, transactional_db):
    """A real Celery worker thread consuming from Redis, as in production."""
    from celery.contrib.testing.worker import start_worker

    from stocksite.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2) as worker:
        yield worker


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory(email="trader@example.com")


@pytest.fixture
def staff_user(django_user_model):
    """A superuser with a TOTP second factor, as the admin requires."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    staff = django_user_model.objects.create_superuser(
        email="staff@example.com", password="s3cret-Pass!"
    )
    TOTP.activate(staff, generate_totp_secret())
    return staff


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        import redis

        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=0.5)


@pytest.fixture
def private_redis(settings, monkeypatch):
    """A redis-server of the test's own on a free port, as the cache: tests stop and restart it."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: Redis cannot be stopped here")
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "stocksite.cache.FailSoftRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Try Redis again soon after a failure, so the test need not wait for the default.
    monkeypatch.setattr("stocksite.cache.RETRY_SECONDS", 0.2)
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture(autouse=True, scope="session")
def _engine_kernels_compiled(request):
    """A worker builds its test database, then waits for the controller's compiled kernels."""
    from tests.engine_kernels import READY_VARIABLE, engine_kernels_wait

    if os.environ.get(READY_VARIABLE):
        request.getfixturevalue("django_db_setup")
        engine_kernels_wait()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A worker creates its test database as a copy of the controller's migrated template."""
    from django.conf import settings

    from tests.database_template import template_wait

    name = template_wait()
    if name:
        settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = name


def pytest_unconfigure(config):
    if _STARTED not in config.stash:
        return
    folder, compiling, templating = config.stash[_STARTED]
    for process in compiling:
        if process.wait() != 0:
            print(f"compiling the engine's kernels failed (exit {process.returncode})")
    if templating is not None:
        from tests.database_template import template_drop, template_name

        if templating.wait() != 0:
            print(f"migrating the test database template failed (exit {templating.returncode})")
        database_url = os.environ["DATABASE_URL"]
        try:
            template_drop(database_url, template_name(database_url))
        except Exception as exc:  # the run's result stands; say what was left behind
            print(f"the test database template could not be dropped: {exc}")
    shutil.rmtree(folder, ignore_errors=True)


# What the flush's post_migrate signal writes back at once, the same rows every time: kept, it
# finds them all there (a transactional test's teardown: 160 against 100 ms).
_KEPT = {"django_content_type", "auth_permission"}


@pytest.fixture(autouse=True, scope="session")
def _flush_by_delete():
    """A transactional test ends with Django's flush, which on PostgreSQL truncates every table
    in one TRUNCATE: a new file for each of some 50 tables and their indexes, 370 ms on this
    machine, where deleting the rows of the same tables (all but a few are empty by then) takes
    12 ms. Same result: every row gone, the sequences left as they are (as TRUNCATE without
    RESTART IDENTITY), the foreign keys (deferred) checked at the end of the flush's transaction;
    but the content types and permissions, which the flush's post_migrate signal would write
    back at once, stay. A flush that resets sequences is left to TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"DELETE FROM {self.quote_name(table)};" for table in tables if table not in _KEPT
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


_DB_BLOCKER = pytest.StashKey()


@pytest.fixture(autouse=True, scope="session")
def _keep_db_blocker(request, django_db_blocker):
    """pytest-django's blocker, for the teardown hook below (hooks take no fixtures)."""
    request.config.stash[_DB_BLOCKER] = django_db_blocker


# The rows the migrations write (the site's domain, the Free and Pro plans): a transactional
# test ends with a flush that deletes them, and every later test expects them.
_SEEDS = (
    ("accounts.migrations.0002_site_domain", "set_site_domain"),
    ("billing.migrations.0002_seed_plans", "seed"),
    ("billing.migrations.0003_plan_line_alerts", "seed"),
    ("billing.migrations.0004_plan_max_watchlist", "seed"),
)


def migration_seeds_restore() -> None:
    """Write the migrations' seed rows again, through the migrations' own functions."""
    import importlib

    from django.apps import apps as django_apps

    for module, function in _SEEDS:
        getattr(importlib.import_module(module), function)(django_apps, None)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush (its fixtures' teardown), put the seed rows back, so
    that the next test sees the database the migrations left whatever ran before it: pytest-xdist
    hands each worker files in any order, where a single process ran every transactional test
    last."""
    result = yield
    blocker = item.config.stash.get(_DB_BLOCKER, None)
    # With no next test the session's fixtures are gone too, the test database with them.
    if nextitem is not None and blocker is not None and _is_transactional(item):
        with blocker.unblock():
            migration_seeds_restore()
    return result


@pytest.fixture
def seeded_plans(transactional_db):
    """The migration's Free and Pro plans, in a transactional test: the seeds of the last one's
    flush are put back when it ends, these for the test itself."""
    migration_seeds_restore()
