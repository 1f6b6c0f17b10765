"""Pasted prices as Japanese users copy them: separators, yen signs, full-width digits, tables."""

import pytest
from django.utils import translation

from similarity import limits
from similarity.validation import SearchInputError, prices_text_parse


@pytest.mark.parametrize(
    ("text", "prices"),
    [
        ("1,520\n1,534\n1,529\n1,551\n1,580", [1520, 1534, 1529, 1551, 1580]),
        ("¥1,495 ￥1,500 1510円 １５２０ 1,530円", [1495, 1500, 1510, 1520, 1530]),
        ("1,520、1,534、1,529", [1520, 1534, 1529]),
        ("100,101,103,104,106", [100, 101, 103, 104, 106]),  # a comma-separated list
        ("1520, 1534, 1529.5", [1520, 1534, 1529.5]),
        ("1,234,567\n2,345,678", [1234567, 2345678]),
    ],
)
def test_a_list_of_prices(text, prices):
    assert prices_text_parse(text).prices == prices


def test_twenty_prices_with_thousands_separators_stay_twenty():
    text = "\n".join(f"{1500 + i:,}" for i in range(20))

    assert prices_text_parse(text).prices == [float(1500 + i) for i in range(20)]


def test_a_brokers_table_newest_first_gives_the_close_column_oldest_first():
    text = (
        "日付\t始値\t高値\t安値\t終値\t出来高\n"
        "2024/01/09\t1,530\t1,560\t1,520\t1,555\t130,000\n"
        "2024/01/05\t1,500\t1,530\t1,490\t1,520\t120,000\n"
        "2024/01/04\t1,480\t1,505\t1,470\t1,500\t98,000\n"
    )

    pasted = prices_text_parse(text)

    assert pasted.prices == [1500, 1520, 1555]
    assert (pasted.column, pasted.reversed) == ("終値", True)


@pytest.mark.parametrize(
    "days",
    [
        ["18/11/16", "18/11/15", "18/11/14"],  # kabutan's 時系列: YY/MM/DD
        ["11/16", "11/15", "11/14"],
        ["01/07", "01/04", "12/28"],  # month/day across New Year
        ["11月16日", "11月15日", "11月14日"],
        ["2018-11-16", "2018-11-15", "2018-11-14"],
        ["16.11.2018", "15.11.2018", "14.11.2018"],
        ["11/16/2018", "11/15/2018", "11/14/2018"],
    ],
)
def test_a_newest_first_table_in_any_date_format_is_turned_oldest_first(days):
    rows = [f"{day}\t{price}" for day, price in zip(days, (1555, 1520, 1500), strict=True)]

    pasted = prices_text_parse("日付\t終値\n" + "\n".join(rows))

    assert (pasted.prices, pasted.reversed) == ([1500, 1520, 1555], True)


@pytest.mark.parametrize(
    "days", [["18/11/14", "18/11/15", "18/11/16"], ["12/28", "01/04", "01/07"]]
)
def test_an_oldest_first_table_stays_as_it_is(days):
    rows = [f"{day}\t{price}" for day, price in zip(days, (1500, 1520, 1555), strict=True)]

    pasted = prices_text_parse("日付\t終値\n" + "\n".join(rows))

    assert (pasted.prices, pasted.reversed) == ([1500, 1520, 1555], False)


def test_an_excel_download_prefers_the_adjusted_close():
    text = (
        "Date\tOpen\tHigh\tLow\tClose\tVolume\tAdj Close\n"
        "2024-01-04\t100\t110\t95\t105\t1000\t52.5\n"
        "2024-01-05\t105\t112\t101\t110\t1200\t55\n"
    )

    pasted = prices_text_parse(text)

    assert pasted.prices == [52.5, 55] and pasted.column == "Adj Close"


def test_a_table_without_headers_takes_the_close_after_the_date():
    text = (
        "2024/01/04\t1,480\t1,505\t1,470\t1,500\t98,000\n2024/01/05\t1,500\t1,530\t1,490\t1,520\t1"
    )

    with translation.override("en"):
        pasted = prices_text_parse(text)

    assert pasted.prices == [1500, 1520] and pasted.column == "column 5"


def test_a_word_among_the_prices_is_named():
    with pytest.raises(SearchInputError) as raised:
        prices_text_parse("1,520 1,530 abc 1,540")

    assert "abc" in raised.value.field_messages()["prices"][0]


@pytest.mark.django_db
def test_the_preview_shows_what_the_search_will_read(client):
    text = "終値\n1,520\n1,534\n1,529\n1,551\n1,580"
    rows = [f"2024/01/{day:02d}\t{1500 + day:,}" for day in range(9, 3, -1)]
    table = "日付\t終値\n" + "\n".join(rows)

    listed = client.post("/search/prices/preview/", {"prices": text[3:]}).json()
    tabled = client.post("/search/prices/preview/", {"prices": table}).json()

    assert listed["count"] == 5 and listed["prices"][0] == 1520 and listed["problem"] is None
    assert tabled["prices"] == [1504, 1505, 1506, 1507, 1508, 1509]
    assert "終値" in tabled["summary"] and "古い順" in tabled["summary"]


@pytest.mark.django_db
def test_the_preview_says_what_is_wrong(client):
    preview = client.post(
        "/search/prices/preview/", {"prices": "1 2 3"}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert preview["count"] == 3 and "at least 5" in preview["problem"]


def test_a_price_longer_than_the_token_cap_is_refused_unread():
    with pytest.raises(SearchInputError) as raised:
        prices_text_parse("1" + "円" * limits.MAX_PRICE_TOKEN + " 2 3 4 5")

    assert "1円円" in raised.value.field_messages()["prices"][0]


def test_text_longer_than_the_input_cap_is_refused_unread():
    with pytest.raises(SearchInputError):
        prices_text_parse("1 " * (limits.MAX_PRICES_TEXT // 2 + 1))


@pytest.mark.parametrize("text", ["1520円円", "¥¥1520JPY円", "1,520jpy", "$1520"])
def test_every_sign_and_unit_around_a_price_is_taken_off(text):
    assert prices_text_parse(f"{text} 1530 1540 1550 1560").prices[0] == 1520


@pytest.mark.django_db
def test_the_preview_refuses_a_long_paste_instead_of_reading_its_start(client):
    text = "1520 1530 1540 1550 1560 " + "9" * limits.MAX_PRICES_TEXT

    preview = client.post("/search/prices/preview/", {"prices": text}).json()

    assert preview["count"] == 0 and preview["problem"]


@pytest.mark.django_db
def test_the_preview_is_throttled_per_session(client, user):
    client.force_login(user)
    statuses = [
        client.post("/search/prices/preview/", {"prices": "1 2 3 4 5"}).status_code
        for _ in range(31)
    ]

    assert statuses[:30] == [200] * 30 and statuses[30] == 429


@pytest.mark.django_db
def test_the_preview_is_throttled_per_address_across_sessions(client):
    statuses = []
    for _ in range(61):
        client.cookies.clear()
        statuses.append(
            client.post(
                "/search/prices/preview/", {"prices": "1 2 3 4 5"}, REMOTE_ADDR="198.51.100.7"
            ).status_code
        )

    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    assert (
        client.post(
            "/search/prices/preview/", {"prices": "1 2 3 4 5"}, REMOTE_ADDR="198.51.100.8"
        ).status_code
        == 200
    )
