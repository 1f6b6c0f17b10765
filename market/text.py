import unicodedata

# Hiragana ぁ (U+3041) to ゖ (U+3096), and the iteration marks ゝゞ, sit 0x60 below their katakana.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}


def normalize_search_text(text: str) -> str:
    """Fold full-width letters and digits (Ｖｅｒｉｔａｓ, ７２０３), half-width katakana (ｿﾆｰ),
    hiragana to katakana (そにー finds ソニー, フクオカ finds ふくおか) and case, for search."""
    folded = unicodedata.normalize("NFKC", text).translate(_HIRAGANA_TO_KATAKANA)
    return " ".join(folded.casefold().split())
