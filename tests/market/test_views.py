import json
from datetime import date, timedelta

import pytest

from market.models import DailyBar
from tests.factories import StockFactory


def _stock(code, name, *, segment="プライム", sector=("3650", "電気機器"), bars=0, split_at=None):
    stock = StockFactory(
        code=code, name=name, segment=segment, sector33_code=sector[0], sector33=sector[1]
    )
    day = date(2018, 1, 4)
    rows = []
    for i in range(bars):
        close = 1000.0 + i
        factor = 0.5 if split_at is not None and i < split_at else 1.0
        rows.append(
            DailyBar(
                stock=stock,
                date=day + timedelta(days=i),
                open=close - 5,
                high=close + 10,
                low=close - 10,
                close=close,
                volume=1000 + i,
                adj_close=close * factor,
            )
        )
    DailyBar.objects.bulk_create(rows)
    if rows:
        stock.first_bar_date, stock.last_bar_date = rows[0].date, rows[-1].date
        stock.save(update_fields=["first_bar_date", "last_bar_date"])
    return stock


@pytest.fixture
def market(db):
    return [
        _stock("7203", "トヨタ自動車", sector=("3700", "輸送用機器"), bars=3),
        _stock("7974", "任天堂", bars=30),
        _stock(
            "130A",
            "Ｖｅｒｉｔａｓ　Ｉｎ　Ｓｉｌｉｃｏ",
            segment="グロース",
            sector=("5250", "情報・通信業"),
        ),
    ]


def _codes(response) -> list[str]:
    return [stock.code for stock in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("79", ["7974"]),
        ("７９", ["7974"]),
        ("130", ["130A"]),
        ("任天", ["7974"]),
        ("veritas", ["130A"]),
        ("ＶＥＲＩＴＡＳ", ["130A"]),
        ("", ["130A", "7203", "7974"]),
    ],
)
def test_stock_list_finds_by_code_or_name_with_full_width_input(client, market, query, expected):
    response = client.get("/stocks/", {"q": query})

    assert response.status_code == 200
    assert _codes(response) == expected


@pytest.mark.parametrize("query", ["7974", "７９７４", " 7974 "])
def test_a_code_alone_opens_its_stock(client, market, query):
    response = client.get("/stocks/", {"q": query})

    assert response.status_code == 302
    assert response["Location"] == "/stocks/7974/"


def test_a_code_with_a_filter_stays_on_the_list(client, market):
    response = client.get("/stocks/", {"q": "7974", "segment": "プライム"})

    assert _codes(response) == ["7974"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("とよた", ["7203"]), ("7", ["7203", "7974"]), ("7974", ["7974"]), ("", [])],
)
def test_suggestions_complete_a_code_or_a_name_in_either_script(client, market, query, expected):
    response = client.get("/stocks/suggest/", {"q": query})

    assert [stock["code"] for stock in response.json()["stocks"]] == expected


def test_suggestions_name_the_stock(client, market):
    stocks = client.get("/stocks/suggest/", {"q": "7203"}).json()["stocks"]

    assert stocks == [{"code": "7203", "name": "トヨタ自動車"}]


def test_stock_list_filters_by_segment_and_sector(client, market):
    by_segment = client.get("/stocks/", {"segment": "グロース"})
    by_sector = client.get("/stocks/", {"sector": "3700"})

    assert _codes(by_segment) == ["130A"]
    assert _codes(by_sector) == ["7203"]


def test_stock_list_ignores_an_unknown_filter_value(client, market):
    response = client.get("/stocks/", {"segment": "no such segment"})

    assert response.status_code == 200
    assert len(_codes(response)) == 3


def test_stock_list_shows_the_last_close_and_links_to_the_chart(client, market):
    html = client.get("/stocks/", {"q": "任天堂"}).content.decode()

    assert 'href="/stocks/7974/"' in html
    assert "1,029" in html


def test_stock_list_paginates(client, db):
    for i in range(55):
        _stock(f"{1300 + i}", f"Issue {i}")

    first = client.get("/stocks/")
    second = client.get("/stocks/", {"page": 2})

    assert len(_codes(first)) == 50
    assert _codes(second) == [f"{1300 + i}" for i in range(50, 55)]
    assert "page=2" in first.content.decode()


def test_stock_list_says_so_when_nothing_matches(client, market):
    response = client.get("/stocks/", {"q": "zzzz"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "No stock matches" in response.content.decode()


def test_stock_page_embeds_split_adjusted_bars_for_the_chart(client, db):
    _stock("8306", "三菱ＵＦＪ", bars=6, split_at=3)

    response = client.get("/stocks/8306/")

    assert response.status_code == 200
    chart = response.context["chart"]
    assert chart["bars"][0] == ["2018-01-04", 497.5, 505.0, 495.0, 500.0, 1000]
    assert chart["bars"][5] == ["2018-01-09", 1000.0, 1015.0, 995.0, 1005.0, 1005]
    html = response.content.decode()
    embedded = html.split('<script id="chart-data" type="application/json">')[1].split("</script>")
    assert json.loads(embedded[0]) == chart


def test_stock_page_marks_the_day_of_a_split(client, db):
    _stock("8306", "三菱ＵＦＪ", bars=6, split_at=3)

    chart = client.get("/stocks/8306/").context["chart"]

    assert chart["splits"] == [{"date": "2018-01-07", "ratio": 2.0}]


def test_stock_page_offers_the_moving_averages_brokers_draw(client, market):
    html = client.get("/stocks/7974/").content.decode()

    assert all(f'data-ma="{days}"' in html for days in (5, 25, 75))
    assert 'data-testid="ohlc-readout"' in html


def test_stock_page_offers_presets_the_history_allows(client, market):
    response = client.get("/stocks/7974/")

    assert response.context["presets"] == [20]
    html = response.content.decode()
    assert 'data-preset="20"' in html and 'data-preset="60"' not in html
    assert 'action="/search/"' in html and 'name="date_from"' in html


def test_stock_page_accepts_a_lower_case_or_full_width_code(client, market):
    assert client.get("/stocks/130a/").status_code == 200
    assert client.get("/stocks/７９７４/").status_code == 200


def test_unknown_stock_is_a_404(client, market):
    response = client.get("/stocks/9999/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_stock_without_bars_says_it_has_no_prices(client, market):
    response = client.get("/stocks/130A/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "No prices yet" in response.content.decode()
    assert "chart-data" not in response.content.decode()


def test_landing_page_offers_example_charts_with_a_preset(client, market):
    html = client.get("/").content.decode()

    assert 'href="/stocks/7974/?preset=60"' in html
