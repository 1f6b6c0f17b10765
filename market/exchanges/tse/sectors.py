"""The exchange's English for its market segments and 33 sectors (JPX's English listed-company
pages and its 33-sector index names), for English pages; the data keeps the Japanese."""

from django.utils import translation

SEGMENTS_EN = {
    "プライム（内国株式）": "Prime Market (Domestic)",
    "プライム（外国株式）": "Prime Market (Foreign)",
    "スタンダード（内国株式）": "Standard Market (Domestic)",
    "スタンダード（外国株式）": "Standard Market (Foreign)",
    "グロース（内国株式）": "Growth Market (Domestic)",
    "グロース（外国株式）": "Growth Market (Foreign)",
    "ETF・ETN": "ETFs and ETNs",
    "REIT・ベンチャーファンド・カントリーファンド・インフラファンド": (
        "REITs, Venture Funds, Country Funds and Infrastructure Funds"
    ),
    "PRO Market": "TOKYO PRO Market",
    "出資証券": "Preferred Equity Contribution Securities",
}

# By 33-sector code, as the exchange numbers them.
SECTORS33_EN = {
    "50": "Fishery, Agriculture & Forestry",
    "1050": "Mining",
    "2050": "Construction",
    "3050": "Foods",
    "3100": "Textiles & Apparels",
    "3150": "Pulp & Paper",
    "3200": "Chemicals",
    "3250": "Pharmaceutical",
    "3300": "Oil & Coal Products",
    "3350": "Rubber Products",
    "3400": "Glass & Ceramics Products",
    "3450": "Iron & Steel",
    "3500": "Nonferrous Metals",
    "3550": "Metal Products",
    "3600": "Machinery",
    "3650": "Electric Appliances",
    "3700": "Transportation Equipment",
    "3750": "Precision Instruments",
    "3800": "Other Products",
    "4050": "Electric Power & Gas",
    "5050": "Land Transportation",
    "5100": "Marine Transportation",
    "5150": "Air Transportation",
    "5200": "Warehousing & Harbor Transportation Services",
    "5250": "Information & Communication",
    "6050": "Wholesale Trade",
    "6100": "Retail Trade",
    "7050": "Banks",
    "7100": "Securities & Commodity Futures",
    "7150": "Insurance",
    "7200": "Other Financing Business",
    "8050": "Real Estate",
    "9050": "Services",
}


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def segment_label(segment: str) -> str:
    """A market segment as the page's language writes it."""
    return SEGMENTS_EN.get(segment, segment) if _english() else segment


def sector_label(code: str, name: str) -> str:
    """A 33-sector as the page's language writes it (by its code, "0050" and "50" alike)."""
    if not _english():
        return name
    return SECTORS33_EN.get(code.lstrip("0") or code, name)
