"""The watchlist, the one-tap search and the phone app (issue 23, points 4 to 6) in headless
Chromium on a 390 x 844 phone, in Japanese. Screenshots
(SCREENSHOTS=1) under test-output/screenshots/watch-*."""

import re

from alerts.models import WatchlistEntry
from alerts.watchlist.services import watchlist_add
from similarity.models import SavedSearch
from similarity.services import search_run
from tests.browser.conftest import _page, sign_in, signed_in
from tests.browser.test_at_a_glance import SIDEWAYS, SMALL_TARGETS, TOUCH_TARGET

RESULT_URL = re.compile(r".*/search/results/[0-9a-f-]{36}/$")


def _codes(user) -> set[str]:
    return set(WatchlistEntry.objects.filter(user=user).values_list("stock__code", flat=True))


def test_a_tap_on_the_star_adds_and_removes_in_place(phone, site, browser_market, trader):
    signed_in(phone, site, trader)
    phone.goto(f"{site}/stocks/7974/")
    star = phone.locator(".stock-actions").get_by_test_id("watch-button")
    assert star.get_attribute("aria-pressed") == "false"
    assert star.bounding_box()["height"] >= TOUCH_TARGET

    star.tap()
    phone.wait_for_selector('.stock-actions [data-testid=watch-button][aria-pressed="true"]')
    assert _codes(trader) == {"7974"}
    assert phone.url == f"{site}/stocks/7974/"  # no reload: the script sent it to the API
    assert "7974をお気に入りに追加しました" in phone.locator("#watch-toast").inner_text()

    star.tap()
    phone.wait_for_selector('.stock-actions [data-testid=watch-button][aria-pressed="false"]')
    assert _codes(trader) == set()


def test_the_stock_list_and_results_rows_have_a_star(phone, site, browser_market, trader):
    saved = search_run(
        user=trader,
        spec={"source": "stock", "code": "7974", "from": "2018-08-20", "to": "2018-11-16"},
        options={"k": 5},
    )
    signed_in(phone, site, trader)
    phone.goto(f"{site}/stocks/")
    row = phone.locator("tr", has=phone.get_by_role("link", name="6758", exact=True))
    row.get_by_test_id("watch-button").tap()
    phone.wait_for_selector('tr [data-testid=watch-button][aria-pressed="true"]')
    assert _codes(trader) == {"6758"}

    phone.goto(f"{site}/search/results/{saved.pk}/")
    first = phone.locator("#matches tbody tr").first
    code = first.get_attribute("data-code")
    first.get_by_test_id("watch-button").tap()
    phone.wait_for_selector(
        f'#matches tr[data-code="{code}"] [data-testid=watch-button][aria-pressed="true"]'
    )
    assert _codes(trader) == {"6758", code}


def test_without_javascript_the_star_is_a_form_post(browser, site, browser_market, trader):
    context, page = _page(
        browser, 390, 844, has_touch=True, is_mobile=True, java_script_enabled=False
    )
    try:
        sign_in(page, site, trader.email)  # the form too works without JavaScript
        page.goto(f"{site}/stocks/7203/")
        page.locator(".stock-actions").get_by_test_id("watch-button").tap()
        page.wait_for_url(f"{site}/stocks/7203/")
        assert "お気に入りに追加しました" in page.locator(".messages").inner_text()
        pressed = page.locator(".stock-actions").get_by_test_id("watch-button")
        assert pressed.get_attribute("aria-pressed") == "true"
        assert _codes(trader) == {"7203"}
    finally:
        context.close()


def test_the_watchlist_page_and_the_one_tap_search_on_a_phone(
    phone, site, browser_market, trader, screenshot
):
    for code in ("7203", "7974"):
        watchlist_add(user=trader, code=code)
    signed_in(phone, site, trader)
    phone.goto(f"{site}/account/watchlist/")

    rows = phone.get_by_test_id("watch-row")
    assert rows.count() == 2
    toyota = phone.locator('[data-testid=watch-row][data-code="7203"]')
    move = toyota.get_by_test_id("watch-move").inner_text()
    assert re.search(r"[\d,]+(\.\d+)?円", move)
    assert re.search(r"[+-]\d+\.\d\d%", move)
    assert re.search(r"\d{4}/\d{2}/\d{2}の終値", move)
    assert toyota.get_by_test_id("watch-chart").bounding_box()["width"] >= 150
    assert phone.evaluate(SMALL_TARGETS, TOUCH_TARGET) == []
    sideways = phone.evaluate(SIDEWAYS)
    assert sideways["page"] <= 0 and sideways["boxes"] == []
    screenshot(phone, "watch-page-phone")

    toyota.get_by_role("button", name="今のチャートに似た過去").tap()
    phone.wait_for_url(RESULT_URL)
    saved = SavedSearch.objects.get(user=trader)
    assert saved.spec["code"] == "7203"
    assert len(saved.pattern) == 60
    assert phone.get_by_test_id("matches-table").is_visible()
    screenshot(phone, "watch-one-tap-result-phone")

    phone.get_by_test_id("edit-range").tap()
    phone.wait_for_url(re.compile(r".*/search/\?source=stock.*"))
    assert phone.locator("#id_date_from").input_value() == saved.spec["from"]
    assert phone.locator("#id_date_to").input_value() == saved.spec["to"]


def test_the_one_tap_search_from_a_stock_page(phone, site, browser_market, trader):
    signed_in(phone, site, trader)
    phone.goto(f"{site}/stocks/6758/")
    button = phone.get_by_test_id("similar-now")
    assert button.bounding_box()["height"] >= TOUCH_TARGET

    button.tap()

    phone.wait_for_url(RESULT_URL)
    assert SavedSearch.objects.get(user=trader).spec["code"] == "6758"


MANIFEST_CHECK = """async () => {
  const link = document.querySelector('link[rel="manifest"]');
  const response = await fetch(link.href);
  const manifest = await response.json();
  const icons = [];
  for (const icon of manifest.icons) {
    const image = new Image();
    image.src = new URL(icon.src, link.href).href;
    await image.decode();
    icons.push({sizes: icon.sizes, width: image.naturalWidth, height: image.naturalHeight});
  }
  return {type: response.headers.get("content-type"), manifest, icons};
}"""

CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


def test_the_app_installs_and_shows_the_offline_page_with_the_network_cut(
    phone, site, browser_market, trader, screenshot
):
    signed_in(phone, site, trader)
    phone.goto(f"{site}/account/watchlist/")
    found = phone.evaluate(MANIFEST_CHECK)
    assert found["type"].startswith("application/manifest+json")
    manifest = found["manifest"]
    assert manifest["name"] and manifest["short_name"] == "stocksite"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    for icon in found["icons"]:
        assert icon["sizes"] == f"{icon['width']}x{icon['height']}"
    assert {icon["sizes"] for icon in found["icons"]} >= {"192x192", "512x512"}

    scope = phone.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == f"{site}/"
    cdp = phone.context.new_cdp_session(phone)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["errors"] == []
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's browser contexts are off-the-record profiles, where Chromium never offers
    # to install; every other criterion must hold.
    assert [error["errorId"] for error in errors if error["errorId"] != "in-incognito"] == []

    # The shell is cached; no page, price, result, API or account page is.
    phone.reload()
    phone.get_by_test_id("watchlist-empty").wait_for()
    cached = phone.evaluate(CACHED_URLS)
    assert "/offline/" in cached and "/static/css/site.css" in cached
    assert all(url == "/offline/" or url.startswith("/static/") for url in cached), cached

    phone.context.set_offline(True)
    try:
        phone.goto(f"{site}/stocks/7203/")
        offline = phone.get_by_test_id("offline-page")
        assert "オフラインです" in offline.inner_text()
        assert phone.locator("link[rel=stylesheet]").count() == 1
        assert phone.evaluate("getComputedStyle(document.body).backgroundColor") != (
            "rgba(0, 0, 0, 0)"
        )
        screenshot(phone, "watch-offline-phone")
    finally:
        phone.context.set_offline(False)
