"""Numbers and dates as the page's language writes them.

Japanese: 2015/01/05 (2015年1月5日 in prose), 1,520円, 売買代金 12.3億円, ¥2,980（税込）.
English: 2015-01-05, ¥1,520, ¥1.23bn, ¥2,980 (tax incl.).
"""

import datetime
import math

from django import template
from django.utils import formats, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

register = template.Library()

# Japanese large units, biggest first: 兆 (10^12), 億 (10^8), 万 (10^4).
JA_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))
EN_UNITS = ((10**12, "tn"), (10**9, "bn"), (10**6, "m"))


def _japanese() -> bool:
    return (translation.get_language() or "").startswith("ja")


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        return parse_date(value[:10])
    return None


@register.filter
def day(value) -> str:
    """A date (or an ISO date string) in the short form: 2015/01/05, or 2015-01-05 in English."""
    date = _as_date(value)
    return formats.date_format(date, "SHORT_DATE_FORMAT") if date else "—"


@register.filter
def day_long(value) -> str:
    """A date for prose: 2015年1月5日, or 5 Jan 2015."""
    date = _as_date(value)
    return formats.date_format(date, "DATE_FORMAT") if date else "—"


def _number(value: float) -> str:
    """Thousands separators; decimals only where the price has them (split-adjusted closes)."""
    digits = (
        0 if float(value).is_integer() or abs(value) >= 10000 else 1 if abs(value) >= 100 else 2
    )
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def yen(value) -> str:
    """A price in yen: 1,520円, or ¥1,520 in English."""
    if value is None or value == "":
        return "—"
    number = _number(float(value))
    return f"{number}円" if _japanese() else f"¥{number}"


@register.filter
def yen_amount(value) -> str:
    """A large amount in yen in the units traders read: 12.3億円, 4,560万円; ¥1.23bn in English."""
    if value is None or value == "" or not math.isfinite(float(value)):
        return "—"
    amount = float(value)
    for size, unit in JA_UNITS if _japanese() else EN_UNITS:
        if abs(amount) >= size:
            scaled = amount / size
            number = f"{scaled:,.1f}" if abs(scaled) < 1000 else f"{scaled:,.0f}"
            number = number.removesuffix(".0")
            return f"{number}{unit}円" if _japanese() else f"¥{number}{unit}"
    return yen(round(amount))


@register.filter
def yen_tax_included(value) -> str:
    """A tax-inclusive price as Japanese law asks it shown (総額表示): ¥2,980（税込）."""
    return _("¥%(amount)s (tax incl.)") % {"amount": f"{int(value):,}"}


@register.filter
def signed_percent(value, digits: int = 1) -> str:
    """A percentage (not a fraction) with its sign: +3.2%, −1.5%."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+.{int(digits)}f}%"


@register.simple_tag
def period(start, end) -> str:
    """Two dates as a period: 2015/01/05〜2015/03/31, or 2015-01-05 → 2015-03-31."""
    return _("%(start)s → %(end)s") % {"start": day(start), "end": day(end)}
