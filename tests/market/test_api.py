import datetime

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from market.exchanges.tse.files import ListingRow
from market.services.listing import stock_listing_upsert

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def market(shared_data_dir):
    stock_listing_upsert(
        rows=[
            ListingRow(
                code="7203",
                name="トヨタ自動車",
                segment="プライム（内国株式）",
                sector33_code="3700",
                sector33="輸送用機器",
            ),
            ListingRow(
                code="130A",
                name="Ｖｅｒｉｔａｓ\u3000Ｉｎ\u3000Ｓｉｌｉｃｏ",
                segment="グロース（内国株式）",
                sector33_code="3250",
                sector33="医薬品",
            ),
            ListingRow(
                code="8306",
                name="三菱ＵＦＪフィナンシャル・グループ",
                segment="プライム（内国株式）",
                sector33_code="7050",
                sector33="銀行業",
            ),
        ]
    )
    call_command("import_prices", str(shared_data_dir / "jp_daily" / "8306.csv"), verbosity=0)


def test_anonymous_request_gets_401_in_the_error_format():
    response = APIClient().get("/api/v1/status")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_status_counts_stocks_and_bars(api, market):
    response = api.get("/api/v1/status")

    assert response.json() == {"stocks": 3, "bars": 4321, "last_date": "2018-11-16"}


@pytest.mark.parametrize(
    ("q", "codes"),
    [
        ("７２０３", ["7203"]),
        ("ｖｅｒｉｔａｓ ｉｎ", ["130A"]),
        ("veritas", ["130A"]),
        ("130a", ["130A"]),
        ("ＵＦＪ", ["8306"]),
        ("", ["130A", "7203", "8306"]),
    ],
)
def test_stock_search_folds_full_width_and_case(api, market, q, codes):
    response = api.get("/api/v1/stocks/", {"q": q})

    assert response.status_code == 200
    assert [stock["code"] for stock in response.json()["results"]] == codes


def test_stock_search_filters_by_segment_and_sector(api, market):
    response = api.get("/api/v1/stocks/", {"segment": "プライム（内国株式）", "sector": "7050"})

    assert [stock["code"] for stock in response.json()["results"]] == ["8306"]


def test_stock_detail(api, market):
    response = api.get("/api/v1/stocks/8306/")

    assert response.status_code == 200
    assert response.json()["first_bar_date"] == "2001-04-02"
    assert response.json()["sector33"] == "銀行業"


@pytest.mark.parametrize("url", ["/api/v1/stocks/9999/", "/api/v1/stocks/9999/bars/"])
def test_unknown_code_is_404_in_the_error_format(api, market, url):
    response = api.get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No stock with code 9999."}
    }


def test_bars_give_raw_and_adjusted_prices_across_the_8306_split(api, market):
    response = api.get("/api/v1/stocks/8306/bars/", {"from": "2007-09-20", "to": "2007-10-02"})

    bars = response.json()["bars"]
    assert [bar["date"] for bar in bars] == ["2007-09-20", "2007-09-21", "2007-10-01", "2007-10-02"]
    before, on = bars[1], bars[2]
    assert (before["close"], on["close"]) == (1010000, 1055)
    assert (before["adj_close"], on["adj_close"]) == (1010, 1055)
    assert before["adj_factor"] == pytest.approx(0.001)
    assert before["adj_high"] == pytest.approx(before["high"] / 1000)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2018-11-16", "to": "2018-11-01"}, "to"),
        ({"from": "2018/11/01"}, "from"),
        ({"to": "yesterday"}, "to"),
    ],
)
def test_reversed_or_malformed_dates_are_400_naming_the_field(api, market, params, field):
    response = api.get("/api/v1/stocks/8306/bars/", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_bars_without_dates_cover_the_whole_history(api, market):
    bars = api.get("/api/v1/stocks/8306/bars/").json()["bars"]

    assert len(bars) == 4321
    assert datetime.date.fromisoformat(bars[-1]["date"]) == datetime.date(2018, 11, 16)


def test_schema_documents_the_market_endpoints(api):
    schema = api.get("/api/v1/schema/", {"format": "json"})

    assert {
        "/api/v1/status",
        "/api/v1/stocks/",
        "/api/v1/stocks/{code}/",
        "/api/v1/stocks/{code}/bars/",
    } <= set(schema.json()["paths"])
