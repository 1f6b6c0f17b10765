"""What an exchange-traded fund or note follows: its underlying index or commodity.

An ETF and its leveraged or inverse twin (1321 日経225連動型 and 1570 日経平均レバレッジ, 1357
日経平均ダブルインバース) move on the same days for the same reason: a search's statistics count
their overlapping windows as one market episode. The underlying is a field of the stock, set from
the fund's name when the exchange's list first names it (`underlying_infer`) and editable by staff
in the admin; a staff choice is never overwritten by a later listing.

The rules read the names as JPX's list of listed issues writes them (NFKC-folded). Funds that
follow a variant of an index (TOPIX-17 sectors, TOPIX Core 30, 日経平均高配当株50, 東証REIT Core,
covered calls, equal weights, top-N selections, sector focus) follow something else: blank.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _


class Underlying(models.TextChoices):
    NIKKEI225 = "nikkei225", _("Nikkei 225")
    TOPIX = "topix", "TOPIX"
    JPX400 = "jpx400", _("JPX-Nikkei Index 400")
    TSE_REIT = "tse_reit", _("TSE REIT Index")
    GROWTH250 = "growth250", _("TSE Growth Market 250 Index")
    SP500 = "sp500", "S&P 500"
    SP500_VIX = "sp500_vix", _("S&P 500 VIX Short-Term Futures Index")
    NASDAQ100 = "nasdaq100", "NASDAQ-100"
    DJIA = "djia", _("Dow Jones Industrial Average")
    HANG_SENG = "hang_seng", _("Hang Seng Index")
    CHINA_H = "china_h", _("Hang Seng China Enterprises Index")
    KOSPI = "kospi", "KOSPI 200"
    NIFTY50 = "nifty50", "Nifty 50"
    GOLD = "gold", _("Gold")
    WTI_CRUDE = "wti_crude", _("WTI crude oil")
    DUBAI_CRUDE = "dubai_crude", _("Dubai crude oil")


# A name that says it is a listed fund or note.
_FUND = re.compile(r"ETF|ETN|上場投信|上場投資信託|上場信託|インデックスファンド|NEXT NOTES")

# Variants of an index, which follow something else than the index itself.
_VARIANT = re.compile(
    r"高配当|配当貴族|カバード|半導体|ESG|CORE|EX-FINANCIALS|除く金融|TOPIX-17|日経300|中小型|"
    r"均等|イコール|ウェイト|トップ|TOP\s?\d|キャッシュフロー|ダイナミック|高利回り|最小分散|"
    r"ボラティリティ|株主還元|フォーカス|プレミアムインカム"
)

# First match wins: JPX日経400 before 日経平均, VIX before S&P 500.
_RULES: tuple[tuple[Underlying, re.Pattern], ...] = tuple(
    (underlying, re.compile(pattern))
    for underlying, pattern in (
        (Underlying.JPX400, r"JPX日経(インデックス)?\s?400|JPX400"),
        (Underlying.NIKKEI225, r"日経\s?(平均|225)|日経(レバレッジ|ダブルインバース|インバース)"),
        (Underlying.NIKKEI225, r"インデックスファンド225"),
        (Underlying.TOPIX, r"TOPIX|トピックス"),
        (Underlying.TSE_REIT, r"東証REIT|東証リート"),
        (Underlying.GROWTH250, r"グロース(市場)?\s?250|マザーズ"),
        (Underlying.SP500_VIX, r"VIX"),
        (Underlying.SP500, r"S&P\s?500"),
        (Underlying.NASDAQ100, r"NASDAQ-?\s?100|ナスダック\s?100"),
        (Underlying.DJIA, r"NY\s?ダウ|ダウ平均|ダウ・ジョーンズ(工業|・インデックス)"),
        (Underlying.HANG_SENG, r"ハンセン"),
        (Underlying.CHINA_H, r"中国H株"),
        (Underlying.KOSPI, r"KOSPI"),
        (Underlying.NIFTY50, r"NIFTY"),
        (Underlying.GOLD, r"純金|金価格|金先物|ゴールド|WISDOMTREE 金"),
        (Underlying.WTI_CRUDE, r"WTI"),
        (Underlying.DUBAI_CRUDE, r"ドバイ原油"),
    )
)


def underlying_infer(*, name: str, segment: str = "") -> str:
    """The underlying a listed fund's name states (an `Underlying` value), or "" for a company,
    a fund of a variant index, or a name that states none."""
    text = unicodedata.normalize("NFKC", name).upper()
    if not ("ETF" in segment or _FUND.search(text)) or _VARIANT.search(text):
        return ""
    for underlying, pattern in _RULES:
        if pattern.search(text):
            return underlying.value
    return ""
