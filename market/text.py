import unicodedata


def normalize_search_text(text: str) -> str:
    """Fold full-width letters and digits (Ｖｅｒｉｔａｓ, ７２０３) and case, for search."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
