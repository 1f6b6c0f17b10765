import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from werkzeug import Response

from market.models import DailyBar, ScrapeRun
from market.tasks import scrape_market
from tests.conftest import REPO_ROOT
from tests.market.kabutan_pages import kabuka_pages
from tests.market.test_scrape import AS_OF, LAST_STORED, serve


def wait_for_run(run_id: int) -> ScrapeRun:
    """The per-stock tasks finish after the fan-out task returns: wait for the run to close."""
    deadline = time.monotonic() + 30
    run = ScrapeRun.objects.get(pk=run_id)
    while run.status == ScrapeRun.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    return run


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_scrape_runs_through_a_real_worker_on_redis(
    celery_worker, kabutan_server, store_history, jp_daily
):
    store_history("7203", until=LAST_STORED)
    serve(
        kabutan_server,
        "7203",
        kabuka_pages(jp_daily("7203"), code="7203", name="トヨタ自動車", as_of=AS_OF),
    )

    run_id = scrape_market.delay(codes=["7203"], trigger="manual").get(timeout=30)["run_id"]

    run = wait_for_run(run_id)
    assert (run.status, run.bars_written) == ("succeeded", 5)
    assert DailyBar.objects.filter(stock__code="7203", date__gt=LAST_STORED).count() == 5


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_tries_a_stock_again_later_when_the_site_stays_down(
    celery_worker, kabutan_server, store_history, jp_daily, settings
):
    settings.SCRAPE_TASK_RETRY_SECONDS = 0.2
    store_history("7203", until=LAST_STORED)
    pages = kabuka_pages(jp_daily("7203"), code="7203", name="トヨタ自動車", as_of=AS_OF)
    requests = []

    def down_for_one_task_attempt(request):
        requests.append(request)
        # The client's own three attempts all fail; the task's second try gets the page.
        if len(requests) <= 3:
            return Response("maintenance", status=503)
        return Response(pages[int(request.args["page"])], content_type="text/html")

    kabutan_server.expect_request("/stock/kabuka").respond_with_handler(down_for_one_task_attempt)

    run_id = scrape_market.delay(codes=["7203"], trigger="manual").get(timeout=30)["run_id"]

    run = wait_for_run(run_id)
    assert (run.status, run.bars_written, run.errors) == ("succeeded", 5, {})
    assert len(requests) == 4


@pytest.fixture
def worker_processes(redis_url, transactional_db, tmp_path, settings):
    """Celery workers as separate processes (so one can be killed), on the test database and
    Redis, that hand a dead worker's task to another after one second."""
    import redis
    from django.db import connection

    from stocksite.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    client = redis.Redis.from_url(redis_url)
    client.delete("unacked", "unacked_index", "unacked_mutex")
    database = connection.settings_dict
    started = []

    def start() -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}",
            "REDIS_URL": redis_url,
            "CELERY_VISIBILITY_TIMEOUT": "1",
            "MARKET_SOURCE": "jquants",
            "JQUANTS_API_KEY": settings.JQUANTS_API_KEY,
            "JQUANTS_API_BASE": settings.JQUANTS_API_BASE,
            "JQUANTS_RATE_PER_MINUTE": str(settings.JQUANTS_RATE_PER_MINUTE),
            "SCRAPE_BACKOFF_SECONDS": "0.01",
            "SIMILARITY_SNAPSHOT_DIR": str(tmp_path / "snapshot"),
            # A worker with DEBUG off refuses to start without a mail server; it sends none here.
            "EMAIL_HOST": "127.0.0.1",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "stocksite", "worker", "--pool=solo"]
            + ["--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "WARNING"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{len(started)}.log").open("w"),
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
    app.control.purge()
    client.delete("unacked", "unacked_index", "unacked_mutex")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_sync_killed_mid_run_is_redelivered_writes_nothing_twice_and_finishes(
    worker_processes, market
):
    from market.exchanges.tse.jquants import parse_daily_bars
    from market.services.daily_bars import daily_bars_upsert
    from market.services.listing import stocks_ensure
    from market.tasks import sync_market
    from tests.market.jquants_server import master_row

    # The market is stored up to 2017-06-09; the calendar ends on 2017-06-23 (ten more days).
    market.calendar = [row for row in market.calendar if row["Date"] <= "2017-06-23"]
    market.master = [master_row("7203", "トヨタ自動車"), master_row("6098", "リクルートＨＤ")]
    for day_bar in parse_daily_bars(market._daily({"date": "2017-06-09"})).bars:
        stock = stocks_ensure(codes=[day_bar.code])[day_bar.code]
        daily_bars_upsert(stock=stock, bars=[day_bar.bar])
    reached, release = threading.Event(), threading.Event()

    def hang_on_the_third_day_once(path, args):
        if args.get("date") == "2017-06-14" and not reached.is_set():
            reached.set()
            release.wait(30)

    market.hook = hang_on_the_third_day_once
    first = worker_processes()
    sync_market.apply_async(kwargs={"trigger": "manual"})
    assert reached.wait(60), "the first worker never reached the third day"

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    release.set()
    time.sleep(1.5)  # older than the visibility timeout: the next worker takes it over
    worker_processes()

    deadline = time.monotonic() + 60
    run = None
    while time.monotonic() < deadline:
        run = ScrapeRun.objects.filter(source="jquants").first()
        if run is not None and run.status != ScrapeRun.Status.RUNNING:
            break
        time.sleep(0.2)
    assert run is not None and run.status == "succeeded", run and run.errors
    assert ScrapeRun.objects.count() == 1
    days = [args["date"] for args in market.requested("/equities/bars/daily")]
    assert days.count("2017-06-12") == days.count("2017-06-13") == 1  # done before the kill
    assert days.count("2017-06-14") == 2  # the killed request, then the redelivered one
    new_bars = DailyBar.objects.filter(date__gt="2017-06-09").count()
    assert new_bars == 2 * 10
    assert (run.stocks_total, run.stocks_done, run.bars_written) == (12, 12, new_bars)
    assert run.items.count() == 12
