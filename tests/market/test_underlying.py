"""What a listed fund follows, from the exchange's own names: read against JPX's list of listed
issues, kept through listing updates, and set by staff in the admin."""

import csv

import pytest

from market.exchanges.tse.files import ListingRow
from market.exchanges.tse.underlying import Underlying, underlying_infer
from market.models import Stock
from market.services.listing import stock_listing_upsert, stocks_ensure
from tests.factories import staff_sign_in


@pytest.fixture(scope="module")
def jpx_list(shared_data_dir) -> dict[str, tuple[str, str]]:
    path = shared_data_dir / "jpx_listed_issues_2026-02-28.csv"
    with path.open(encoding="utf-8-sig") as handle:
        return {
            row["コード"]: (row["銘柄名"], row["市場・商品区分"]) for row in csv.DictReader(handle)
        }


def infer(jpx_list, code: str) -> str:
    name, segment = jpx_list[code]
    return underlying_infer(name=name, segment=segment)


# The families of leveraged and inverse funds, with the plain ETF they are twins of.
FAMILIES = {
    Underlying.NIKKEI225: ("1321", "1330", "1570", "1357", "1360", "1458", "1459", "1579", "1571"),
    Underlying.TOPIX: ("1305", "1306", "1348", "1568", "1569", "1356", "1367", "1368"),
    Underlying.JPX400: ("1591", "1599", "1469", "1472"),
    Underlying.TSE_REIT: ("1343", "1488", "2094"),
    Underlying.SP500: ("1557", "2237", "2238", "2249"),
    Underlying.NASDAQ100: ("2840", "2869", "2870", "1545"),
    Underlying.DJIA: ("1546", "2040", "2041"),
    Underlying.CHINA_H: ("1572", "1573"),
    Underlying.GOLD: ("1540", "1328", "2036", "2037"),
    Underlying.DUBAI_CRUDE: ("2038", "2039"),
}


@pytest.mark.parametrize(("underlying", "codes"), list(FAMILIES.items()))
def test_a_family_of_funds_shares_its_underlying(jpx_list, underlying, codes):
    assert {code: infer(jpx_list, code) for code in codes} == dict.fromkeys(codes, underlying)


@pytest.mark.parametrize(
    "code",
    [
        "1617",  # 食品（TOPIX-17）: a sector index, not TOPIX
        "1311",  # TOPIX Core 30
        "1489",  # 日経平均高配当株50指数
        "2858",  # 日経225 カバード・コール
        "200A",  # 日経半導体株指数
        "2528",  # 東証REIT Core指数
        "1585",  # TOPIX Ex-Financials
        "1563",  # 東証グロース・コア
        "7203",  # a company
        "9984",
    ],
)
def test_variants_of_an_index_and_companies_have_none(jpx_list, code):
    assert infer(jpx_list, code) == ""


def test_no_company_on_the_list_gets_an_underlying(jpx_list):
    companies = {code: name for code, (name, segment) in jpx_list.items() if "ETF" not in segment}
    assert len(companies) > 3000
    assert [code for code, name in companies.items() if underlying_infer(name=name)] == []


@pytest.mark.django_db
def test_the_listing_sets_it_once_and_keeps_a_staff_choice(jpx_list):
    rows = [
        ListingRow(code=code, name=jpx_list[code][0], segment="ETF・ETN")
        for code in ("1570", "1357")
    ]
    stock_listing_upsert(rows=rows)
    assert dict(Stock.objects.values_list("code", "underlying")) == {
        "1570": "nikkei225",
        "1357": "nikkei225",
    }

    # Staff chose another underlying for 1357: a later listing, even with a new name, keeps it.
    Stock.objects.filter(code="1357").update(underlying=Underlying.TOPIX)
    renamed = ListingRow(code="1357", name=jpx_list["1357"][0] + "（新）", segment="ETF・ETN")
    stock_listing_upsert(rows=[renamed])
    assert Stock.objects.get(code="1357").underlying == Underlying.TOPIX


@pytest.mark.django_db
def test_a_nameless_stock_gets_its_underlying_when_the_list_names_it(jpx_list):
    # jp_daily's history arrives first, named by its code; the exchange's list names it later.
    stocks_ensure(codes=["1570"])
    assert Stock.objects.get(code="1570").underlying == ""

    stock_listing_upsert(
        rows=[ListingRow(code="1570", name=jpx_list["1570"][0], segment="ETF・ETN")]
    )

    assert Stock.objects.get(code="1570").underlying == Underlying.NIKKEI225


@pytest.mark.django_db
def test_staff_set_it_from_the_name_in_the_admin(client, staff_user, jpx_list):
    stock_listing_upsert(
        rows=[ListingRow(code="1568", name=jpx_list["1568"][0], segment="ETF・ETN")]
    )
    stock = Stock.objects.get(code="1568")
    Stock.objects.filter(pk=stock.pk).update(underlying="")
    staff_sign_in(client, staff_user)

    response = client.post(
        "/admin/market/stock/",
        {"action": "underlying_from_name", "_selected_action": [stock.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "underlying changed; searches use it from the next snapshot" in response.content.decode()
    assert Stock.objects.get(pk=stock.pk).underlying == Underlying.TOPIX
    filtered = client.get("/admin/market/stock/?underlying__exact=topix")
    assert filtered.status_code == 200 and "1568" in filtered.content.decode()
