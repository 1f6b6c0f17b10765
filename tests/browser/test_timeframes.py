"""日足/週足/月足 on a 390 x 844 phone: the stock chart's toggle redraws weekly candles, a pattern
chosen on them searches weekly closes, and the results switch timeframe in one tap.
Screenshots (SCREENSHOTS=1) under test-output/screenshots/timeframes-*."""

from market.models import Stock
from market.selectors import chart_candles, stock_chart
from similarity.models import SavedSearch
from tests.browser.conftest import signed_in
from tests.browser.test_at_a_glance import SIDEWAYS, SMALL_TARGETS, TOUCH_TARGET


def test_the_chart_toggles_to_weekly_candles_and_searches_weeks_on_a_phone(
    phone, site, browser_market, pro_trader, screenshot
):
    daily = stock_chart(stock=Stock.objects.get(code="7974"))["bars"]
    weeks = chart_candles(daily, "week")
    months = chart_candles(daily, "month")
    signed_in(phone, site, pro_trader)
    phone.goto(f"{site}/stocks/7974/")
    phone.locator("#price-chart canvas").first.wait_for()
    chart = phone.locator("#price-chart")
    toggle = phone.get_by_test_id("interval-toggle")
    assert chart.get_attribute("data-bars") == str(len(daily))

    toggle.get_by_role("button", name="週足").click()
    assert chart.get_attribute("data-interval") == "week"
    assert chart.get_attribute("data-bars") == str(len(weeks))
    assert toggle.get_by_role("button", name="週足").get_attribute("aria-pressed") == "true"
    assert toggle.get_by_role("button", name="日足").get_attribute("aria-pressed") == "false"
    readout = phone.get_by_test_id("ohlc-readout").inner_text()
    assert weeks[-1][0].replace("-", "/") in readout
    assert "5週" in phone.locator("[data-ma='5']").inner_text()
    assert "直近60週" in phone.locator("[data-preset='60']").inner_text()
    assert "5週線" in phone.get_by_test_id("ohlc-readout").inner_text()
    assert phone.locator(".similar-now-form input[name=interval]").input_value() == "week"
    assert phone.evaluate(SMALL_TARGETS, TOUCH_TARGET) == []
    found = phone.evaluate(SIDEWAYS)
    assert found["page"] <= 0 and found["boxes"] == []
    screenshot(phone, "timeframes-stock-weekly-phone")

    phone.locator("[data-preset='60']").click()
    summary = phone.get_by_test_id("selection-summary").inner_text()
    assert "60週" in summary
    assert phone.locator("#id_date_from").input_value() == weeks[-60][0]
    phone.locator("#pattern-submit").click()
    phone.wait_for_url(f"{site}/search/results/**")
    saved = SavedSearch.objects.get(user=pro_trader)
    assert saved.options["interval"] == "week"
    assert len(saved.pattern) == 60
    assert saved.result["horizons"] == [4, 13, 26]
    assert "週足" in phone.get_by_test_id("result-interval").inner_text()
    found = phone.evaluate(SIDEWAYS)
    assert found["page"] <= 0 and found["boxes"] == []
    screenshot(phone, "timeframes-results-weekly-phone")

    # One tap on 月足 searches the same stretch again as months.
    phone.get_by_test_id("interval-toggle").get_by_role("button", name="月足").click()
    phone.wait_for_function("() => document.title && location.pathname.includes('/results/')")
    phone.get_by_test_id("result-interval").wait_for()
    newest = SavedSearch.objects.filter(user=pro_trader).order_by("-created_at").first()
    assert newest.options["interval"] == "month"
    assert newest.result["horizons"] == [3, 6, 12]
    assert "月足" in phone.get_by_test_id("result-interval").inner_text()

    # Back on the chart from a match, the link keeps the timeframe.
    phone.goto(f"{site}/stocks/7974/?interval=month")
    phone.locator("#price-chart canvas").first.wait_for()
    assert chart.get_attribute("data-interval") == "month"
    assert chart.get_attribute("data-bars") == str(len(months))
    assert phone.locator("#pattern-form input[name=interval]").input_value() == "month"
    assert phone.locator(".similar-now-form input[name=interval]").input_value() == "month"
