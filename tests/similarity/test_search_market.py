"""The search market of the tests (tests/similarity/conftest.py) is built once per session and put
back for each test (MarketTemplate.restore in tests/conftest.py): the rows each test gets are
exactly those the services stored."""

import pytest

from market.models import DailyBar, Stock
from market.services.daily_bars import BAR_VALUE_FIELDS
from tests.similarity.conftest import STOCKS


def test_each_test_gets_the_stocks_and_bars_the_services_stored(
    search_market, search_market_template
):
    assert set(search_market) == set(STOCKS)
    for code, stock in search_market.items():
        bars = DailyBar.objects.filter(stock=stock).order_by("date")
        assert (
            list(bars.values_list("date", *BAR_VALUE_FIELDS)) == search_market_template.bars[code]
        ), code
        stored = Stock.objects.filter(pk=stock.pk).values(*search_market_template.stocks[code])
        assert stored.get() == search_market_template.stocks[code]
        assert len(search_market_template.bars[code]) > 500


@pytest.mark.parametrize("run", [1, 2])
def test_a_test_may_change_its_market_without_the_next_one_seeing_it(search_market, run):
    assert DailyBar.objects.filter(stock=search_market["7203"]).count() > 1000
    DailyBar.objects.filter(stock=search_market["7203"]).delete()
    assert not DailyBar.objects.filter(stock__code="7203").exists()
