"""The site at a glance, in headless Chromium at 1366 x 900 and on a 390 x 844 phone: no page
scrolls sideways, the menu and the header search reach everything, the stock page reads like a
broker's chart. Screenshots (SCREENSHOTS=1) under test-output/screenshots/glance-*."""

import re

from similarity.services import search_run
from tests.browser.conftest import signed_in

# Every element a finger taps on a phone is at least this tall (px); the chart library's own
# attribution link inside the chart is left as the library draws it.
TOUCH_TARGET = 44

SIDEWAYS = """() => {
  const page = document.documentElement;
  const wide = [...document.querySelectorAll("body *")].filter(element => {
    const style = getComputedStyle(element);
    return ["auto", "scroll"].includes(style.overflowX)
      && element.scrollWidth > element.clientWidth + 1 && element.clientWidth > 0;
  }).map(element => element.className || element.tagName);
  return {page: page.scrollWidth - window.innerWidth, boxes: wide};
}"""

# What a finger taps: links, buttons, fields and the terms' summaries, but not those the page
# hides from sight in a box of one pixel (a phone's match cards keep the table's header there);
# a radio button or a checkbox is tapped through its label, and a link inside a sentence is
# measured as the line it is on (as WCAG 2.5.8 allows).
SMALL_TARGETS = """(minimum) => {
  const clipped = element => {
    for (let box = element.parentElement; box; box = box.parentElement) {
      const rect = box.getBoundingClientRect();
      if (rect.width <= 1 || rect.height <= 1) return true;
    }
    return false;
  };
  const inSentence = element => element.tagName === "A" && [...element.parentElement.childNodes]
    .some(node => node.nodeType === 3 && node.textContent.replace(/[\\s·・|]/g, "").length);
  const target = element => ["radio", "checkbox"].includes(element.type)
    ? element.closest("label") || (element.labels && element.labels[0]) || element : element;
  return [...document.querySelectorAll("main a, main button, main summary, main select, "
    + "main input:not([type=hidden]), footer a, footer button")]
    .filter(element => element.offsetParent !== null && !element.closest(".price-chart"))
    .filter(element => !clipped(element) && !inSentence(element))
    .filter(element => target(element).getBoundingClientRect().height < minimum)
    .map(element => (element.textContent || element.name || element.tagName).trim().slice(0, 30));
}"""
# Japanese text: no ISO dates (2018/11/16 instead), no half-width punctuation right after a
# Japanese character (、。：instead), and prices with a comma every three digits before 円.
ISO_DATE = re.compile(r"\b(?:19|20)\d\d-\d\d-\d\d\b")
HALF_WIDTH_AFTER_JAPANESE = re.compile(r"[ぁ-んァ-ヶ一-龠ー）」][,;:]")
YEN = re.compile(r"(\d[\d,]*(?:\.\d+)?)円")
GROUPED = re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?")


def _japanese_text_problems(text: str) -> list[str]:
    problems = [match.group(0) for match in ISO_DATE.finditer(text)]
    problems += [match.group(0) for match in HALF_WIDTH_AFTER_JAPANESE.finditer(text)]
    problems += [
        match.group(0) for match in YEN.finditer(text) if not GROUPED.fullmatch(match.group(1))
    ]
    return problems


def _pages(site: str, result_id) -> list[str]:
    return [
        "/",
        "/stocks/",
        "/stocks/7974/",
        "/search/",
        f"/search/results/{result_id}/",
        "/search/history/",
        "/pricing/",
        "/status/",
        "/calibration/",
        "/account/",
        "/account/alerts/",
        "/account/watchlist/",
        "/account/track-record/",
        "/legal/terms/",
        "/legal/privacy/",
        "/legal/commerce/",
    ]


def _no_page_scrolls_sideways(page, window, site, pro_trader, screenshot):
    saved = search_run(
        user=pro_trader,
        spec={"source": "stock", "code": "7974", "from": "2018-08-20", "to": "2018-11-16"},
        options={},
    )
    signed_in(page, site, pro_trader)
    sideways = {}
    for path in _pages(site, saved.pk):
        page.goto(site + path)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(SIDEWAYS)
        if found["page"] > 0 or found["boxes"]:
            sideways[path] = found
    page.goto(f"{site}/search/results/{saved.pk}/")
    answer = page.get_by_test_id("answer")
    assert answer.get_by_test_id("answer-horizon").first.inner_text().startswith("5営業日後：")
    answer.get_by_text("局面", exact=True).click()
    definition = answer.locator("details.term[open] .term-definition")
    assert definition.is_visible() and "相場局面" in definition.inner_text()
    screenshot(page, f"glance-results-{window}")

    assert sideways == {}


def test_no_page_scrolls_sideways_on_a_laptop(wide, site, browser_market, pro_trader, screenshot):
    _no_page_scrolls_sideways(wide, "wide", site, pro_trader, screenshot)


def test_no_page_scrolls_sideways_on_a_phone(phone, site, browser_market, pro_trader, screenshot):
    _no_page_scrolls_sideways(phone, "phone", site, pro_trader, screenshot)


def test_the_phone_menu_reaches_alerts_hit_rates_and_track_record(phone, site, trader, screenshot):
    signed_in(phone, site, trader)
    phone.goto(f"{site}/account/")
    phone.get_by_role("button", name="メニュー").click()
    menu = phone.locator("#nav-links")
    for name in ("アラート", "的中率", "答え合わせ"):
        link = menu.get_by_role("link", name=name, exact=True)
        assert link.is_visible()
        assert link.bounding_box()["height"] >= TOUCH_TARGET
    screenshot(phone, "glance-menu-phone")

    menu.get_by_role("link", name="アラート", exact=True).click()
    phone.wait_for_url(f"{site}/account/alerts/")


def test_the_header_search_completes_a_name_and_a_code_opens_its_stock(
    wide, site, browser_market, screenshot
):
    wide.goto(f"{site}/")
    box = wide.get_by_label("銘柄を探す（コードまたは銘柄名）")
    box.press_sequentially("とよた")
    wide.wait_for_function(
        "() => [...document.querySelectorAll('#header-search-input-suggestions option')]"
        ".some(option => option.value === '7203')"
    )
    assert "トヨタ自動車" in wide.locator("#header-search-input-suggestions").inner_html()

    box.fill("7203")
    box.press("Enter")

    wide.wait_for_url(f"{site}/stocks/7203/")
    screenshot(wide, "glance-header-search-opened-7203")


def test_the_stock_chart_has_moving_averages_and_reads_the_bar_under_the_pointer(
    wide, site, browser_market, screenshot
):
    wide.goto(f"{site}/stocks/7974/")
    wide.locator("#price-chart canvas").first.wait_for()
    readout = wide.get_by_test_id("ohlc-readout")
    last_day = readout.locator("[data-field=date]").inner_text()
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", last_day)
    assert "始値" in readout.inner_text() and "出来高" in readout.inner_text()

    chart = wide.locator("#price-chart").bounding_box()
    wide.mouse.move(chart["x"] + chart["width"] * 0.3, chart["y"] + chart["height"] * 0.4)
    wide.wait_for_function(
        "day => document.querySelector('#ohlc-readout [data-field=date]').textContent !== day",
        arg=last_day,
    )
    twenty_five = wide.get_by_role("button", name="25日")
    twenty_five.click()
    assert twenty_five.get_attribute("aria-pressed") == "false"
    assert wide.locator("[data-ma-readout='25']").is_hidden()
    screenshot(wide, "glance-stock-wide")


def test_the_stock_page_on_a_phone_has_finger_sized_controls_and_touch_help(
    phone, site, browser_market, screenshot
):
    phone.goto(f"{site}/stocks/7974/")
    phone.locator("#price-chart canvas").first.wait_for()

    assert phone.evaluate(SMALL_TARGETS, TOUCH_TARGET) == []
    help_text = phone.locator(".chart-hint:visible").inner_text()
    assert "Shift" not in help_text and "指" in help_text
    screenshot(phone, "glance-stock-phone")


def test_the_results_page_on_a_phone_has_finger_sized_links_and_japanese_figures(
    phone, site, browser_market, pro_trader, screenshot
):
    saved = search_run(
        user=pro_trader,
        spec={"source": "stock", "code": "7974", "from": "2018-08-20", "to": "2018-11-16"},
        options={},
    )
    signed_in(phone, site, pro_trader)

    phone.goto(f"{site}/search/results/{saved.pk}/")
    phone.wait_for_load_state("networkidle")

    assert phone.evaluate(SMALL_TARGETS, TOUCH_TARGET) == []
    assert _japanese_text_problems(phone.locator("body").inner_text()) == []
    screenshot(phone, "glance-results-phone-targets")


def test_the_stock_page_writes_dates_and_prices_the_japanese_way(
    wide, site, browser_market, screenshot
):
    wide.goto(f"{site}/stocks/7974/")
    wide.locator("#price-chart canvas").first.wait_for()

    text = wide.locator("main").inner_text()
    assert _japanese_text_problems(text) == []
    assert re.search(r"\d{4}/\d{2}/\d{2}", text) and re.search(r"\d{1,3}(?:,\d{3})+円", text)


def test_the_forms_and_account_pages_on_a_phone_have_finger_sized_controls(
    phone, site, browser_market, pro_trader
):
    signed_in(phone, site, pro_trader)
    small = {}
    for path in ("/stocks/", "/search/", "/account/", "/account/alerts/", "/pricing/"):
        phone.goto(site + path)
        phone.wait_for_load_state("networkidle")
        found = phone.evaluate(SMALL_TARGETS, TOUCH_TARGET)
        if found:
            small[path] = found

    assert small == {}
