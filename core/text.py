"""Text shared by every app: folding for search, and lazy interpolation of translated text."""

import unicodedata

from django.utils.functional import lazy

# Hiragana ぁ (U+3041) to ゖ (U+3096), and the iteration marks ゝゞ, sit 0x60 below their katakana.
# static/js/site.js folds the same range for the page scripts (foldSearchText).
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}


def normalize_search_text(text: str) -> str:
    """Fold full-width letters and digits (Ｖｅｒｉｔａｓ, ７２０３), half-width katakana (ｿﾆｰ),
    hiragana to katakana (そにー finds ソニー, フクオカ finds ふくおか) and case, for search."""
    folded = unicodedata.normalize("NFKC", text).translate(_HIRAGANA_TO_KATAKANA)
    return " ".join(folded.casefold().split())


def _interpolate(text, values: dict) -> str:
    return str(text) % values


# `_("... %(max)d ...") % {...}` at import time would freeze one language; this waits for use.
interpolate_lazy = lazy(_interpolate, str)
