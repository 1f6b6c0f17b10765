"""Shape alerts in headless Chromium: save an alert from a result, see it on the alerts page."""

import re

from alerts.models import Alert
from similarity.models import SavedSearch
from tests.browser.conftest import sign_in

RESULT_URL = re.compile(r".*/search/results/[0-9a-f-]{36}/$")


def test_save_an_alert_from_a_result_and_see_it_on_the_alerts_page(
    page, site, browser_market, trader, screenshot
):
    sign_in(page, site, trader.email)
    page.goto(f"{site}/search/")
    page.get_by_text("Pasted prices", exact=True).click()
    page.get_by_label("Prices, oldest first").fill("1520 1534 1529 1551 1580 1572 1601 1596")
    page.get_by_label("Stocks that look like this now").check()
    page.get_by_role("button", name="Search the market").click()
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
    assert card.get_by_test_id("alert-status").inner_text().startswith("active")
    assert page.get_by_label("Minimum correlation").input_value() == "0.90"
    screenshot(page, "20-alerts-page")

    page.get_by_role("button", name="Pause").click()
    page.wait_for_url(f"{site}/account/alerts/")
    assert page.get_by_test_id("alert-status").inner_text().startswith("paused")
    alert.refresh_from_db()
    assert not alert.is_active
