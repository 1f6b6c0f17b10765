"""What a new user does, in headless Chromium: sign up, pick days on a chart, search, read the
results, export them, paste prices, draw a sketch, run a search again. The browser speaks
Japanese (the site's default language); with SCREENSHOTS=1 each test saves a screenshot under
test-output/screenshots/, and the last ones take the main pages in English too."""

import csv
import io
import json
import re
from pathlib import Path

from django.core import mail

from similarity.models import SavedSearch
from tests.browser.conftest import PASSWORD, sign_in, signed_in

RESULT_URL = re.compile(r".*/search/results/[0-9a-f-]{36}/$")


def _drag(page, selector: str, start: float, end: float, *, shift: bool) -> None:
    """Press at `start` of the element's width, move to `end`, release (fractions of width)."""
    box = page.locator(selector).bounding_box()
    y = box["y"] + box["height"] * 0.4
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, y, steps=12)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")


def _touch_drag(page, selector: str, start: float, end: float) -> None:
    """A one-finger drag across the element, as real touch events (Chrome DevTools Protocol)."""
    page.locator(selector).scroll_into_view_if_needed()  # touch points are viewport points
    box = page.locator(selector).bounding_box()
    y = box["y"] + box["height"] * 0.4
    cdp = page.context.new_cdp_session(page)
    steps = 12
    for index in range(steps + 1):
        x = box["x"] + box["width"] * (start + (end - start) * index / steps)
        cdp.send(
            "Input.dispatchTouchEvent",
            {
                "type": "touchStart" if index == 0 else "touchMove",
                "touchPoints": [{"x": x, "y": y}],
            },
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_new_user_signs_up_and_confirms_the_email(page, site, screenshot):
    page.goto(f"{site}/")
    page.get_by_role("link", name="無料で始める").click()
    page.get_by_label("メールアドレス").fill("newcomer@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    assert page.get_by_test_id("signup-agreement").is_visible()
    screenshot(page, "01-sign-up")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    page.goto(site + link[link.index("/accounts/") :])
    page.locator("main form button[type=submit]").click()

    page.wait_for_url(f"{site}/search/?welcome=1")
    assert page.get_by_test_id("welcome").is_visible()
    screenshot(page, "02-first-search-after-sign-up")
    page.goto(f"{site}/account/")
    assert page.get_by_test_id("plan-name").inner_text() == "Free"


def test_drag_a_range_on_the_chart_search_and_read_the_results(
    page, site, browser_market, trader, screenshot
):
    sign_in(page, site, trader.email)  # through the form, as a new user does; others by cookie
    page.goto(f"{site}/stocks/")
    page.get_by_label("銘柄コード・銘柄名").fill("任天")
    page.get_by_role("button", name="検索", exact=True).click()
    page.get_by_role("link", name="任天堂").click()
    page.wait_for_url(f"{site}/stocks/7974/")
    page.locator("#price-chart canvas").first.wait_for()

    _drag(page, "#price-chart", 0.35, 0.6, shift=True)

    date_from = page.get_by_label("開始日", exact=True).input_value()
    date_to = page.get_by_label("終了日", exact=True).input_value()
    summary = page.get_by_test_id("selection-summary").inner_text()
    days = int(re.search(r"(\d+)営業日", summary).group(1))
    assert date_from < date_to
    assert 5 <= days <= 500
    assert page.locator("#range-overlay").is_visible()
    screenshot(page, "03-stock-chart-range-selected")

    page.get_by_role("button", name="類似チャートを探す").click()
    page.wait_for_url(RESULT_URL)

    saved = SavedSearch.objects.get()
    assert saved.spec == {"source": "stock", "code": "7974", "from": date_from, "to": date_to}
    assert saved.result["pattern"]["length"] == days
    rows = page.locator("#matches tbody tr[data-rank]")
    assert rows.count() == saved.match_count > 0
    assert page.get_by_test_id("fan-chart").locator("path.fan-outer").count() == 1
    assert page.get_by_test_id("horizon-stat").count() >= 1
    assert page.get_by_test_id("plan-limit").count() >= 1  # Free: the limits are shown
    screenshot(page, "04-results")


def test_a_preset_picks_the_last_days_and_the_table_sorts_and_filters(
    page, site, browser_market, trader, screenshot
):
    signed_in(page, site, trader)
    page.goto(f"{site}/stocks/6758/")
    page.get_by_role("button", name="直近60日").click()
    assert "60営業日" in page.get_by_test_id("selection-summary").inner_text()
    page.get_by_role("button", name="類似チャートを探す").click()
    page.wait_for_url(RESULT_URL)

    page.get_by_role("button", name="類似度").click()
    similarities = [
        float(v)
        for v in page.locator("#matches tbody tr").evaluate_all(
            "rows => rows.map(row => row.dataset.r)"
        )
    ]
    header = page.locator("th", has=page.get_by_role("button", name="類似度"))
    order = header.get_attribute("aria-sort")
    assert order in ("ascending", "descending")
    assert similarities == sorted(similarities, reverse=order == "descending")

    first_code = page.locator("#matches tbody tr").first.get_attribute("data-code")
    page.get_by_label("銘柄コード・銘柄名で絞り込み").fill(first_code)
    visible = page.locator("#matches tbody tr:not([hidden])")
    assert visible.count() >= 1
    assert all(
        code == first_code
        for code in visible.evaluate_all("rows => rows.map(row => row.dataset.code)")
    )
    # Typed in hiragana, the filter finds the katakana names (グループ), as the name search does.
    names = page.locator("#matches tbody tr").evaluate_all("rows => rows.map(r => r.dataset.name)")
    page.get_by_label("銘柄コード・銘柄名で絞り込み").fill("ぐるーぷ")
    shown = visible.evaluate_all("rows => rows.map(row => row.dataset.name)")
    assert shown == [name for name in names if "グループ" in name] != []
    screenshot(page, "05-results-sorted-and-filtered")


def test_a_pro_user_exports_the_matches_as_csv(page, site, browser_market, pro_trader, screenshot):
    signed_in(page, site, pro_trader)
    page.goto(f"{site}/search/?source=prices")
    page.get_by_text("株価の貼り付け", exact=True).click()
    page.get_by_label("株価（古い順）").fill(
        "100 102 101 104 108 107 111 115 113 118 121 119 124 128 126"
    )
    page.get_by_role("button", name="全銘柄を検索").click()
    page.wait_for_url(RESULT_URL)

    with page.expect_download() as download_info:
        page.get_by_test_id("csv-export").click()
    assert download_info.value.suggested_filename.startswith("stocksite_prices_")
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    note = [row for row in rows if row[0].startswith("# ")]  # the terms and their definitions
    assert [row[0] for row in note][:1] == ["# 類似度"]
    rows = rows[len(note) :]
    assert rows[0][:4] == ["rank", "code", "name", "segment"]
    assert len(rows) - 1 == SavedSearch.objects.get().match_count
    screenshot(page, "06-results-pro")


def test_a_free_user_is_told_csv_export_is_a_pro_feature(
    page, site, browser_market, trader, screenshot
):
    signed_in(page, site, trader)
    page.goto(f"{site}/stocks/7203/")
    page.get_by_role("button", name="直近20日").click()
    page.get_by_role("button", name="類似チャートを探す").click()
    page.wait_for_url(RESULT_URL)

    page.get_by_test_id("csv-export").click()

    assert page.get_by_role("heading", name="CSV出力はProプランでご利用いただけます").is_visible()
    assert page.get_by_role("link", name="プランを見る").get_attribute("href") == "/pricing/"
    screenshot(page, "07-csv-is-pro")


def test_paste_prices_and_search_in_latest_mode(page, site, browser_market, trader, screenshot):
    signed_in(page, site, trader)
    page.goto(f"{site}/search/")
    page.get_by_text("株価の貼り付け", exact=True).click()
    assert page.get_by_label("銘柄（コードまたは銘柄名）", exact=True).is_hidden()
    page.get_by_label("株価（古い順）").fill(
        "¥1,520\n1,534円\n１，５２９\n1,551 1,580 1,572、1,601 1,596"
    )
    page.get_by_test_id("prices-count").filter(has_text="株価8個").wait_for()
    assert page.get_by_test_id("prices-spark").is_visible()
    page.get_by_label("いまこの形に似ている銘柄").check()
    screenshot(page, "08-search-pasted-prices")
    page.get_by_role("button", name="全銘柄を検索").click()
    page.wait_for_url(RESULT_URL)

    assert page.get_by_role("heading", name="いまこの形に似ている銘柄").first.is_visible()
    saved = SavedSearch.objects.get()
    assert saved.spec["prices"] == [1520, 1534, 1529, 1551, 1580, 1572, 1601, 1596]
    assert saved.mode == "latest"
    screenshot(page, "09-results-latest")


def test_bad_prices_are_named_in_the_form(page, site, trader, screenshot):
    signed_in(page, site, trader)
    page.goto(f"{site}/search/")
    page.get_by_text("株価の貼り付け", exact=True).click()
    page.get_by_label("株価（古い順）").fill("1 2 three 4 5")

    page.get_by_role("button", name="全銘柄を検索").click()

    alert = page.get_by_role("alert")
    assert "3番目の株価「three」は数値ではありません" in alert.inner_text()
    assert page.get_by_label("株価（古い順）").get_attribute("aria-invalid") == "true"
    screenshot(page, "10-search-error")


def test_draw_a_sketch_and_search(page, site, browser_market, trader, screenshot):
    signed_in(page, site, trader)
    page.goto(f"{site}/search/")
    page.get_by_text("手描き", exact=True).click()
    page.get_by_label("手描きが表す営業日数").fill("30")
    box = page.get_by_test_id("sketch-canvas").bounding_box()
    shape = [(0.05, 0.8), (0.3, 0.5), (0.45, 0.65), (0.7, 0.2), (0.95, 0.35)]
    page.mouse.move(box["x"] + box["width"] * shape[0][0], box["y"] + box["height"] * shape[0][1])
    page.mouse.down()
    for x, y in shape[1:]:
        page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=8)
    page.mouse.up()
    screenshot(page, "11-search-sketch")
    page.get_by_role("button", name="全銘柄を検索").click()
    page.wait_for_url(RESULT_URL)

    saved = SavedSearch.objects.get()
    assert saved.spec["source"] == "sketch" and saved.spec["days"] == 30
    assert len(saved.spec["points"]) > 10
    assert saved.result["pattern"]["length"] == 30
    # y is up: the sketch ends higher than it starts.
    assert saved.result["pattern"]["values"][-1] > saved.result["pattern"]["values"][0]
    screenshot(page, "12-results-sketch")


def test_draw_a_sketch_with_the_keyboard(page, site, browser_market, trader, screenshot):
    signed_in(page, site, trader)
    page.goto(f"{site}/search/?source=sketch")
    page.get_by_label("手描きが表す営業日数").fill("20")
    page.get_by_test_id("sketch-canvas").focus()

    page.keyboard.press("PageDown")  # the first point low
    page.keyboard.press("End")
    for _ in range(3):
        page.keyboard.press("PageUp")  # the last point high
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")

    points = json.loads(page.locator("#id_sketch").input_value())
    assert len(points) == 11
    # Stored y is up: 0.3 for the first point, 1.0 for the last, 0.55 for the one before it.
    assert [points[0][1], points[9][1], points[10][1]] == [0.3, 0.55, 1.0]
    assert page.locator("#sketch-status").inner_text() == "11個中10番目の点、高さ55%"
    screenshot(page, "16-search-sketch-keyboard")
    page.get_by_role("button", name="全銘柄を検索").click()
    page.wait_for_url(RESULT_URL)

    saved = SavedSearch.objects.get()
    assert saved.spec["source"] == "sketch" and saved.result["pattern"]["length"] == 20
    assert saved.result["pattern"]["values"][-1] > saved.result["pattern"]["values"][0]


def test_run_a_saved_search_again_from_the_account_page(
    page, site, browser_market, trader, screenshot
):
    signed_in(page, site, trader)
    page.goto(f"{site}/stocks/9984/")
    page.get_by_role("button", name="直近120日").click()
    page.get_by_role("button", name="類似チャートを探す").click()
    page.wait_for_url(RESULT_URL)
    first = SavedSearch.objects.get()

    page.goto(f"{site}/account/")
    screenshot(page, "13-account-history")
    page.get_by_test_id("search-history").get_by_role(
        "button", name=re.compile(r"^「.+」を最新のデータで再検索$")
    ).first.click()
    page.wait_for_url(RESULT_URL)

    again = SavedSearch.objects.exclude(pk=first.pk).get()
    assert again.rerun_of_id == first.pk
    assert str(again.pk) in page.url


def test_on_a_phone_select_range_mode_picks_days_with_a_finger_drag(
    phone, site, browser_market, screenshot
):
    phone.goto(f"{site}/stocks/7974/")
    phone.locator("#price-chart canvas").first.wait_for()
    phone.get_by_role("button", name="範囲を選択").tap()
    assert phone.get_by_role("button", name="範囲を選択").get_attribute("aria-pressed") == "true"

    _touch_drag(phone, "#price-chart", 0.2, 0.7)

    summary = phone.get_by_test_id("selection-summary").inner_text()
    assert re.search(r"\d+営業日", summary)
    assert (
        phone.get_by_label("開始日", exact=True).input_value()
        < phone.get_by_label("終了日", exact=True).input_value()
    )
    screenshot(phone, "14-phone-stock-range")


def test_on_a_phone_a_finger_draws_the_sketch(phone, site, screenshot):
    phone.goto(f"{site}/search/?source=sketch")

    _touch_drag(phone, "#sketch-canvas", 0.1, 0.9)

    points = json.loads(phone.locator("#id_sketch").input_value())
    assert len(points) > 5
    assert points[0][0] < 0.2 and points[-1][0] > 0.8
    assert phone.locator("#sketch-placeholder").is_hidden()
    screenshot(phone, "15-phone-sketch")


def _overflowing(page) -> dict:
    """What is wider than the screen: the page itself, and buttons whose text does not fit."""
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            buttons: [...document.querySelectorAll("button, .button, .chip, .tab")]
                .filter(b => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
                .map(b => b.textContent.trim()),
        })"""
    )


def test_on_a_phone_the_japanese_pages_fit_and_results_are_cards(
    phone, site, browser_market, trader, screenshot
):
    for path, name in [
        ("/", "17-phone-home"),
        ("/search/", "18-phone-search"),
        ("/pricing/", "19-phone-pricing"),
    ]:
        phone.goto(f"{site}{path}")
        assert _overflowing(phone) == {"page": 0, "buttons": []}, path
        screenshot(phone, name)
    signed_in(phone, site, trader)
    phone.goto(f"{site}/stocks/7203/")
    phone.get_by_role("button", name="直近20日").tap()
    phone.get_by_role("button", name="類似チャートを探す").tap()
    phone.wait_for_url(RESULT_URL)

    first = phone.locator("#matches tbody tr[data-rank]").first
    assert first.evaluate("row => getComputedStyle(row).display") == "grid"
    assert first.locator("[data-label='期間']").is_visible()
    assert first.locator("[data-label='類似度']").is_visible()
    assert _overflowing(phone) == {"page": 0, "buttons": []}
    screenshot(phone, "20-phone-results-cards")


def test_on_a_phone_the_same_period_is_listed_apart_as_cards(
    phone, site, browser_market, pro_trader, screenshot
):
    signed_in(phone, site, pro_trader)
    phone.goto(f"{site}/search/?code=7974&date_from=2015-01-05&date_to=2015-04-30")
    phone.get_by_label("同じ期間の他銘柄の動きも参考表示（統計には含めません）").check()
    phone.get_by_role("button", name="全銘柄を検索").tap()
    phone.wait_for_url(RESULT_URL)

    saved = SavedSearch.objects.get()
    section = phone.get_by_test_id("same-period")
    assert section.get_by_role("heading", name="同じ期間の動き（参考）").is_visible()
    rows = section.get_by_test_id("same-period-row")
    assert rows.count() == len(saved.result["same_period"]) > 0
    assert rows.first.evaluate("row => getComputedStyle(row).display") == "grid"
    assert rows.first.locator("[data-label='類似度']").is_visible()
    assert _overflowing(phone) == {"page": 0, "buttons": []}
    rows.first.scroll_into_view_if_needed()
    screenshot(phone, "21-phone-same-period")


def test_the_main_pages_in_english(english_page, site, browser_market, trader, screenshot):
    from market.services.listing import stock_names_en_set

    stock_names_en_set(names={"7974": "Nintendo Co., Ltd."})
    page = english_page
    page.goto(f"{site}/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Start free").is_visible()
    screenshot(page, "21-en-home")
    page.goto(f"{site}/stocks/7974/")
    assert page.get_by_role("heading", name=re.compile("Nintendo")).is_visible()
    screenshot(page, "22-en-stock")
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Email").fill(trader.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{site}/account/")
    page.goto(f"{site}/stocks/7203/")
    page.get_by_role("button", name="last 20").click()
    page.get_by_role("button", name="Find similar charts").click()
    page.wait_for_url(RESULT_URL)
    assert page.get_by_role("heading", name="The answer at a glance").is_visible()
    screenshot(page, "23-en-results")


def test_the_footer_switches_the_language_without_javascript(browser, site, screenshot):
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/pricing/")
    assert page.locator("html").get_attribute("lang") == "ja"

    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()

    page.wait_for_url(f"{site}/pricing/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Plans").is_visible()
    screenshot(page, "24-en-pricing")
    context.close()


def test_a_crafted_preset_in_the_address_clicks_nothing(page, site, browser_market, trader):
    signed_in(page, site, trader)
    crafted = "%22%5D%2C%23pattern-submit%2C%5Bx%3D%22"  # '"],#pattern-submit,[x="'

    page.goto(f"{site}/stocks/6758/?date_from=2024-01-04&date_to=2024-03-29&preset={crafted}")
    page.wait_for_timeout(500)

    assert "/stocks/6758/" in page.url
    assert not SavedSearch.objects.filter(user=trader).exists()


def test_a_preset_in_the_address_picks_its_days(page, site, browser_market, trader):
    signed_in(page, site, trader)

    page.goto(f"{site}/stocks/6758/?preset=60")

    assert "60営業日" in page.get_by_test_id("selection-summary").inner_text()
