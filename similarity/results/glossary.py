"""The words of a result, defined once: the page shows each definition one tap from its term,
the CSV export's note repeats them (similarity.results.export), the API schema gives each as its
field's description (`term_help`) and docs/api.md lists them (tests/similarity/test_glossary.py
holds the four to this text). One unit each: similarity
is a correlation written 0.92; matches are counted in 件, statistics in 局面 (market episodes)."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

TERMS = {
    "similarity": (
        _("Similarity"),
        _(
            "The correlation (r) between your pattern's prices and a match's, from −1 to 1, "
            "written with two decimals (0.92): 1 is the same shape, 0.8 or more a close one. "
            "It is not a probability."
        ),
    ),
    "match": (
        _("Match"),
        _(
            "A stretch of one stock's chart that looks like your pattern. Matches are counted "
            "one by one (件)."
        ),
    ),
    "episode": (
        _("Episode"),
        _(
            "Matches that overlap in time, or an ETF and its leveraged or inverse twin, are one "
            "market episode (局面): they are one event, not several. The statistics count "
            "episodes, so a crash that twenty stocks shared counts once."
        ),
    ),
    "base_rate": (
        _("Base rate"),
        _(
            "What followed every window that could have been a match: the same stocks, years and "
            "filters, whatever their shape. The matches are judged against it."
        ),
    ),
    "versus_market": (
        _("Versus the market"),
        _(
            "A match's return minus the market's over the same days (TOPIX, or the average of "
            "every stock where TOPIX is not stored)."
        ),
    ),
    "interval": (
        _("Interval"),
        _(
            "The range that holds the true median nine times in ten, from resampling the "
            "episodes (bootstrap). Narrow with many episodes, wide with few."
        ),
    ),
    "forecast": (
        _("Forecast range"),
        _(
            "Where the return is expected to land, from the 10th to the 90th percentile: the base "
            "rate scaled to your pattern's own volatility, moved toward the matches as far as "
            "that helped in walk-forward tests, widened until it held as often as it says."
        ),
    ),
    "verdict": (
        _("Verdict"),
        _(
            "Above or below only when the episodes' returns after the market's move clearly lie "
            "above or below those of all windows (a sign test, corrected for the several "
            "horizons); no verdict with fewer than 10 episodes."
        ),
    ),
    "hit_rate": (
        _("Hit rate"),
        _(
            "How often a verdict was right when the same search was made on past data only and "
            "compared with what then happened (walk-forward)."
        ),
    ),
}


def term_definition(key: str) -> str:
    """The definition of a term, in the active language."""
    return str(TERMS[key][1])


def glossary() -> list[dict]:
    """Every term and its definition, in the active language, in the order a result reads."""
    return [
        {"key": key, "term": str(term), "definition": str(definition)}
        for key, (term, definition) in TERMS.items()
    ]


def term_help(key: str, detail=None):
    """An API field's description (lazy): the term's definition, then what the field adds."""
    if detail is None:
        return TERMS[key][1]
    return format_lazy("{} {}", TERMS[key][1], detail)
