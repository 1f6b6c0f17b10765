"""Linking LINE in headless Chromium, end to end: LINE's follow event -> the link message -> the
link page (sign in, confirm) -> LINE's dialog (intercepted) -> the accountLink event -> linked ->
the next alert run pushes a digest. LINE's side is a local server in the Messaging API's shape
and webhook posts signed with the channel secret, sent to the live server over HTTP."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from alerts.models import Alert, AlertDelivery, LineLink
from alerts.runs import alert_deliveries_send, alerts_check
from billing.models import Plan
from market.models import DailyBar
from tests.alerts.line_server import (
    ACCESS_TOKEN,
    CHANNEL_SECRET,
    FakeLine,
    account_link,
    event,
    signature,
    webhook_body,
)
from tests.browser.conftest import PASSWORD

LINE_USER = "U" + "b" * 32


@pytest.fixture
def line(settings, site):
    from tests.http_server import LocalHTTPServer

    server = LocalHTTPServer(threaded=True)
    server.start()
    fake = FakeLine(server)
    settings.LINE_API_BASE = fake.base_url
    settings.LINE_CHANNEL_SECRET = CHANNEL_SECRET
    settings.LINE_CHANNEL_ACCESS_TOKEN = ACCESS_TOKEN
    settings.LINE_ADD_FRIEND_URL = "https://lin.ee/stocksite-test"
    settings.SITE_URL = site
    yield fake
    server.clear()
    if server.is_running():
        server.stop()


def line_posts(site: str, *events) -> None:
    """What LINE's platform does: POST the events, signed, to the webhook."""
    body = webhook_body(*events)
    response = httpx.post(
        f"{site}/line/webhook/",
        content=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": signature(body)},
        timeout=30,
    )
    assert response.status_code == 200


def test_link_line_from_a_follow_and_get_the_next_digest_there(
    page, site, line, browser_market, pro_trader, screenshot
):
    Plan.objects.filter(slug="pro").update(line_alerts=True)

    # A LINE user adds the official account as a friend: the site sends a link.
    line_posts(site, event("follow", LINE_USER))
    (message,) = line.texts_to(LINE_USER)
    link_url = message.split()[-1]
    assert link_url.startswith(f"{site}/line/link/?linkToken=")

    # They open it: sign in first, then confirm. The browser never reaches LINE: its dialog is
    # answered here, or (the headless shell does not route a redirect) its host is not found.
    page.route(
        "https://access.line.me/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>LINE</p>"),
    )
    page.goto(link_url)
    page.get_by_label("メールアドレス").fill(pro_trader.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(link_url)
    assert pro_trader.email in page.locator("main").inner_text()
    screenshot(page, "40-line-link")
    with page.expect_request("https://access.line.me/**") as dialog:
        page.get_by_test_id("line-link-confirm").click()

    # LINE's dialog reports back with the nonce.
    dialog_url = dialog.value.url
    assert dialog_url.startswith("https://access.line.me/dialog/bot/accountLink?")
    query = parse_qs(urlsplit(dialog_url).query)
    assert line.link_tokens[query["linkToken"][0]] == LINE_USER
    line_posts(site, account_link(LINE_USER, query["nonce"][0]))
    assert LineLink.objects.get().user == pro_trader
    assert "連携しました" in line.texts_to(LINE_USER)[-1]

    page.goto(f"{site}/account/alerts/")
    assert page.get_by_test_id("line-linked").is_visible()
    assert page.get_by_test_id("channel-line").is_checked()
    screenshot(page, "41-alerts-line-linked")

    # The next alert run: a pattern that one stock's latest closes have exactly.
    stock = next(iter(browser_market.values()))
    closes = list(
        DailyBar.objects.filter(stock=stock)
        .order_by("-date")
        .values_list("adj_close", flat=True)[:20]
    )[::-1]
    Alert.objects.create(
        user=pro_trader,
        name="直近の形",
        source="prices",
        spec={"source": "prices", "prices": closes},
        pattern=closes,
        threshold=0.95,
    )
    alerts_check()
    alert_deliveries_send()

    digest = line.texts_to(LINE_USER)[-1]
    assert "直近の形" in digest
    assert f"{stock.code} {stock.name}" in digest
    assert AlertDelivery.objects.get(channel="line").state == AlertDelivery.State.SENT
