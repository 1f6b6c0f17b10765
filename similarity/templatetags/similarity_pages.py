from django import template

from core.templatetags.site_formats import signed_percent
from similarity import limits, selectors
from similarity.results.texts import pattern_text, stock_label_text

register = template.Library()

ACCOUNT_HISTORY_LENGTH = 10


@register.filter
def search_label(saved) -> str:
    """A saved search's label in the page's language: pasted prices and a sketch say what they
    are in words; a stock range keeps its own (code, name, dates in the page's format)."""
    text = pattern_text(source=saved.source, spec=saved.spec or {})
    return text or stock_label_text(saved.label) or str(saved.get_source_display())


@register.simple_tag
def search_limits() -> dict:
    """The pattern limits a page script checks before posting a search (through json_script):
    pages of other apps that hold a search form (the stock page) load them here."""
    return limits.script_limits()


@register.simple_tag
def latest_bars(interval: str = "day") -> int:
    """How many of a stock's latest bars the one-tap search ("今のチャートに似た過去") takes."""
    return limits.LATEST_BARS_BY_INTERVAL[interval]


@register.simple_tag
def recent_searches(user, limit: int = ACCOUNT_HISTORY_LENGTH):
    """The user's newest searches, for the account page's history section."""
    if not user.is_authenticated:
        return []
    return list(selectors.saved_search_list(user=user)[:limit])


@register.filter
def percent(value, digits: int = 1) -> str:
    """A fraction as a signed percentage (0.031 -> +3.1%); em dash for a missing value."""
    if value is None or value == "":
        return "—"
    return signed_percent(float(value) * 100, digits)


@register.filter
def share(value) -> str:
    """A 0..1 share as a whole percentage (0.58 -> 58%); em dash for a missing value."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.0f}%"


@register.filter
def sign_class(value) -> str:
    if value is None or value == "":
        return ""
    return "up" if float(value) > 0 else "down" if float(value) < 0 else ""


@register.filter
def width_percent(value) -> str:
    """A 0..1 value as a CSS width, clamped."""
    if value is None:
        return "0%"
    return f"{max(0.0, min(1.0, float(value))) * 100:.0f}%"
