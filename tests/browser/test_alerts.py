"""Shape alerts in headless Chromium, in Japanese (the default): save an alert from a result,
see it on the alerts page."""

import re

from alerts.models import Alert
from similarity.models import SavedSearch
from tests.browser.conftest import signed_in

RESULT_URL = re.compile(r".*/search/results/[0-9a-f-]{36}/$")


def test_save_an_alert_from_a_result_and_see_it_on_the_alerts_page(
    page, site, browser_market, trader, screenshot
):
    signed_in(page, site, trader)
    page.goto(f"{site}/search/")
    page.get_by_text("株価の貼り付け", exact=True).click()
    page.get_by_label("株価（古い順）").fill("1520 1534 1529 1551 1580 1572 1601 1596")
    page.get_by_label("いまこの形に似ている銘柄").check()
    page.get_by_role("button", name="全銘柄を検索").click()
    page.wait_for_url(RESULT_URL)

    page.get_by_test_id("alert-me").click()
    page.wait_for_url(f"{site}/account/alerts/")

    alert = Alert.objects.get()
    saved = SavedSearch.objects.get()
    assert alert.user == trader
    assert alert.pattern == saved.pattern
    card = page.get_by_test_id("alert")
    assert card.count() == 1
    assert saved.label in card.inner_text()
    assert card.get_by_test_id("alert-status").inner_text().startswith("有効")
    assert page.get_by_label("相関係数の下限").input_value() == "0.90"
    screenshot(page, "20-alerts-page")

    card.get_by_role("button", name="停止", exact=True).click()
    page.wait_for_url(f"{site}/account/alerts/")
    assert page.get_by_test_id("alert-status").inner_text().startswith("一時停止")
    alert.refresh_from_db()
    assert not alert.is_active
