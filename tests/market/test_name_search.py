"""Name search finds the exchange's Japanese names and the English ones, typed any width."""

import pytest

from market.models import Stock
from market.selectors import stock_list


@pytest.fixture
def stocks(db):
    for code, name, name_en in [
        ("7974", "任天堂", "Nintendo Co., Ltd."),
        ("7203", "トヨタ自動車", "TOYOTA MOTOR CORPORATION"),
        ("6758", "ソニーグループ", "Sony Group Corporation"),
        ("8354", "ふくおかフィナンシャルグループ", "Fukuoka Financial Group,Inc."),
    ]:
        Stock.objects.create(
            code=code,
            name=name,
            name_en=name_en,
            segment="プライム（内国株式）",
            sector33_code="3800",
            sector33="その他製品",
        )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Nintendo", "7974"),
        ("toyota", "7203"),
        ("ソニー", "6758"),
        ("ｿﾆｰ", "6758"),  # half-width katakana
        ("ＳＯＮＹ", "6758"),  # full-width letters
        ("任天堂", "7974"),
        ("７２０３", "7203"),
        ("そにー", "6758"),  # hiragana for a katakana name
        ("とよた", "7203"),
        ("フクオカ", "8354"),  # katakana for a hiragana name
        ("ふくおか", "8354"),
        ("ﾌｸｵｶ", "8354"),
    ],
)
def test_a_stock_is_found_by_any_of_its_names(stocks, query, code):
    assert [stock.code for stock in stock_list(query=query)] == [code]


@pytest.mark.django_db
def test_english_pages_show_the_english_name_and_keep_the_code(client, stocks):
    english = client.get("/stocks/", {"q": "nintendo"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = client.get("/stocks/", {"q": "nintendo"}).content.decode()

    assert "Nintendo Co., Ltd." in english and "7974" in english
    assert "Prime Market (Domestic)" in english and "Other Products" in english
    assert "任天堂" in japanese and "Nintendo Co., Ltd." not in japanese
    assert "プライム（内国株式）" in japanese and "その他製品" in japanese
