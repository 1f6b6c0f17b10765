import datetime
import time

import pytest
from werkzeug import Response

from market.exchanges.tse.kabutan import KabutanSource, parse_daily_prices
from market.sources import ParseError, SourceError, TransientSourceError
from market.sources.http import PoliteClient
from tests.http_server import LocalHTTPServer
from tests.market.kabutan_pages import PAGES_DIR, kabuka_pages


def stored_page(name: str) -> str:
    return (PAGES_DIR / name).read_text()


@pytest.mark.parametrize(
    ("page", "count", "newest"), [(1, 31, "2018-11-16"), (2, 30, "2018-10-01")]
)
def test_parser_reads_every_day_as_jp_daily_has_it(jp_daily, page, count, newest):
    bars = parse_daily_prices(stored_page(f"kabutan_7203_p{page}.html"))
    by_date = {row["date"]: row for row in jp_daily("7203")}

    assert len(bars) == count
    assert bars[0].date == datetime.date.fromisoformat(newest)
    for bar in bars:
        row = by_date[bar.date]
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
            row["open"],
            row["high"],
            row["low"],
            row["close"],
            row["volume"],
        )
        assert bar.adj_close is None


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("kabutan_changed_structure.html", "page structure changed: no price table"),
        ("kabutan_changed_columns.html", "page structure changed: table header"),
        ("kabutan_high_below_low.html", "(2018-11-14): high 6477 is below low 6559"),
        ("kabutan_out_of_order.html", "dates out of order: 2018-11-14 is listed after 2018-11-13"),
        ("kabutan_unparseable_row.html", "(2018-11-14) 高値: '6,67?' is not a number"),
    ],
)
def test_parser_rejects_a_page_that_does_not_add_up(page, message):
    with pytest.raises(ParseError) as error:
        parse_daily_prices(stored_page(page))

    assert message in str(error.value)


def test_parser_rejects_shifted_columns_by_the_change_column():
    page = stored_page("kabutan_7203_p1.html").replace(
        "<td>6,642</td><td>6,653</td><td>6,561</td><td>6,591</td>",
        "<td>6,642</td><td>6,653</td><td>6,561</td><td>6,653</td>",
    )

    with pytest.raises(ParseError, match="is not the change"):
        parse_daily_prices(page)


def test_parser_leaves_out_a_day_without_trades():
    page = (
        stored_page("kabutan_7203_p1.html")
        .replace(
            "<td>6,599</td><td>6,599</td><td>6,498</td><td>6,545</td>",
            "<td>－</td><td>－</td><td>－</td><td>－</td>",
        )
        .replace("<td>6,170,800</td>", "<td>0</td>")
        # The next day's change is then against the last traded close (6,709 on 11-12).
        .replace('<span class="up">+122</span>', '<span class="down">-42</span>')
    )

    dates = [bar.date for bar in parse_daily_prices(page)]

    assert datetime.date(2018, 11, 13) not in dates
    assert datetime.date(2018, 11, 12) in dates


def serve_pages(server, code: str, pages: dict[int, str]) -> None:
    for number, html in pages.items():
        server.expect_request(
            "/stock/kabuka", query_string={"code": code, "ashi": "day", "page": str(number)}
        ).respond_with_data(html, content_type="text/html; charset=utf-8")


def test_source_fetches_pages_over_http_until_it_reaches_since(kabutan_server, jp_daily):
    serve_pages(
        kabutan_server,
        "7203",
        kabuka_pages(
            jp_daily("7203"), code="7203", name="トヨタ", as_of=datetime.date(2018, 11, 16)
        ),
    )
    source = KabutanSource()

    bars = source.fetch_daily_bars("7203", since=datetime.date(2018, 9, 20))

    assert [bar.date for bar in bars[:2]] == [
        datetime.date(2018, 9, 20),
        datetime.date(2018, 9, 21),
    ]
    assert bars[-1].date == datetime.date(2018, 11, 16)
    assert len(kabutan_server.log) == 2
    request = kabutan_server.log[0][0]
    assert request.headers["User-Agent"].startswith("stocksite/")


def test_client_retries_a_500_with_backoff(kabutan_server):
    kabutan_server.expect_ordered_request("/page").respond_with_data("busy", status=500)
    kabutan_server.expect_ordered_request("/page").respond_with_data("ok")
    waits = []

    text = PoliteClient(sleep=waits.append).get_text("/page")

    assert text == "ok"
    assert waits == [0.01]


def test_client_gives_up_after_the_retries_with_a_transient_error(kabutan_server):
    kabutan_server.expect_request("/page").respond_with_data("down", status=503)
    waits = []

    with pytest.raises(TransientSourceError, match="answered 503 \\(3 attempts\\)"):
        PoliteClient(sleep=waits.append).get_text("/page")

    assert waits == [0.01, 0.02]


def test_client_honours_retry_after_on_429(kabutan_server):
    kabutan_server.expect_ordered_request("/page").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "7"})
    )
    kabutan_server.expect_ordered_request("/page").respond_with_data("ok")
    waits = []

    assert PoliteClient(sleep=waits.append).get_text("/page") == "ok"
    assert waits == [7.0]


def test_client_retries_a_timeout(kabutan_server, settings):
    settings.SCRAPE_TIMEOUT_SECONDS = 0.2
    calls = []

    def slow_then_quick(request):
        calls.append(request)
        if len(calls) == 1:
            import time

            time.sleep(0.6)
        return Response("ok")

    kabutan_server.expect_request("/page").respond_with_handler(slow_then_quick)
    waits = []

    assert PoliteClient(sleep=waits.append).get_text("/page") == "ok"
    assert len(calls) == 2
    assert waits == [0.01]


def test_client_does_not_retry_a_404(kabutan_server):
    kabutan_server.expect_request("/page").respond_with_data("no such stock", status=404)

    with pytest.raises(SourceError, match="answered 404"):
        PoliteClient(sleep=lambda seconds: None).get_text("/page")

    assert len(kabutan_server.log) == 1


def test_rate_limiter_spaces_requests_to_one_host_but_not_to_another():
    from market.sources.http import HostRateLimiter

    limiter, waits = HostRateLimiter(), []

    limiter.wait("kabutan.jp", 2.0, waits.append)
    limiter.wait("example.com", 2.0, waits.append)
    limiter.wait("kabutan.jp", 2.0, waits.append)

    assert len(waits) == 1
    assert 0.4 < waits[0] <= 0.5


def test_client_follows_a_redirect_on_its_own_host(kabutan_server):
    kabutan_server.expect_request("/old").respond_with_response(
        Response("", status=301, headers={"Location": "/new"})
    )
    kabutan_server.expect_request("/new").respond_with_data("moved here")

    assert PoliteClient(sleep=lambda seconds: None).get_text("/old") == "moved here"


def test_client_refuses_a_redirect_to_another_host(kabutan_server):
    other = LocalHTTPServer(threaded=True)
    other.start()
    try:
        other.expect_request("/steal").respond_with_data("elsewhere")
        kabutan_server.expect_request("/page").respond_with_response(
            Response("", status=302, headers={"Location": other.url_for("/steal")})
        )

        with pytest.raises(SourceError, match="not followed"):
            PoliteClient(sleep=lambda seconds: None).get_text("/page")

        assert not other.log
    finally:
        other.stop()


@pytest.mark.parametrize("declared", [True, False])
def test_client_refuses_a_response_over_the_size_cap(kabutan_server, settings, declared):
    settings.SCRAPE_MAX_RESPONSE_BYTES = 1000
    body = b"x" * 5000

    def huge(request):
        if declared:
            return Response(body)
        return Response(iter([body[:2500], body[2500:]]), direct_passthrough=True)

    kabutan_server.expect_request("/page").respond_with_handler(huge)

    with pytest.raises(SourceError, match="more than 1000"):
        PoliteClient(sleep=lambda seconds: None).get_text("/page")
    assert len(kabutan_server.log) == 1


def test_client_gives_up_at_its_deadline(kabutan_server, settings):
    settings.SCRAPE_DEADLINE_SECONDS = 0.5
    settings.SCRAPE_BACKOFF_SECONDS = 0.3
    settings.SCRAPE_MAX_RETRIES = 10
    kabutan_server.expect_request("/page").respond_with_data("down", status=503)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    with pytest.raises(TransientSourceError, match="deadline"):
        PoliteClient(sleep=sleep).get_text("/page")

    assert sum(waits) <= 0.5
    assert len(kabutan_server.log) < 11


def test_scrape_and_sync_tasks_have_time_limits():
    from market.tasks import scrape_stock, sync_market, sync_stocks

    for task in (scrape_stock, sync_market, sync_stocks):
        assert task.time_limit and task.soft_time_limit < task.time_limit
