import time

import pytest
from werkzeug import Response

from market.models import DailyBar, ScrapeRun
from market.tasks import scrape_market
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
