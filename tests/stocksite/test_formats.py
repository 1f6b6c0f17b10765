"""Numbers and dates as each language writes them."""

import datetime

import pytest
from django.utils import translation

from core.templatetags import site_formats


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ja", ("2015/01/05", "2015年1月5日")), ("en", ("2015-01-05", "5 Jan 2015"))],
)
def test_dates(language, expected):
    with translation.override(language):
        short = site_formats.day("2015-01-05")
        long = site_formats.day_long(datetime.date(2015, 1, 5))

    assert (short, long) == expected


@pytest.mark.parametrize(
    ("value", "japanese", "english"),
    [
        (1520, "1,520円", "¥1,520"),
        (1234.5678, "1,234.6円", "¥1,234.6"),
        (None, "—", "—"),
    ],
)
def test_prices(value, japanese, english):
    with translation.override("ja"):
        assert site_formats.yen(value) == japanese
    with translation.override("en"):
        assert site_formats.yen(value) == english


@pytest.mark.parametrize(
    ("value", "japanese", "english"),
    [
        (1_230_000_000, "12.3億円", "¥1.2bn"),
        (45_600_000, "4,560万円", "¥45.6m"),
        (2_100_000_000_000, "2.1兆円", "¥2.1tn"),
        (9_800, "9,800円", "¥9,800"),
    ],
)
def test_large_amounts(value, japanese, english):
    with translation.override("ja"):
        assert site_formats.yen_amount(value) == japanese
    with translation.override("en"):
        assert site_formats.yen_amount(value) == english


def test_tax_inclusive_price_and_signed_percentages():
    with translation.override("ja"):
        assert site_formats.yen_tax_included(2980) == "¥2,980（税込）"
    assert site_formats.signed_percent(3.24) == "+3.2%"
    assert site_formats.signed_percent(-1.5) == "-1.5%"
