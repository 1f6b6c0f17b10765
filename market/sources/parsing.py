"""Helpers for the pure page parsers: numbers as the sites print them, and the parse error."""


class ParseError(ValueError):
    """A page that does not read as expected: its structure changed, or what it says is wrong."""

    def __init__(self, reason: str, *, url: str = ""):
        self.reason, self.url = reason, url
        super().__init__(f"{url}: {reason}" if url else reason)


DASHES = {"-", "－", "—", "―", "‐", ""}


def number(text: str, *, what: str) -> float:
    """'1,234.5' -> 1234.5; '+12' -> 12; raises ParseError naming `what` otherwise."""
    cleaned = text.strip().replace(",", "").replace("＋", "+").replace("−", "-")
    try:
        value = float(cleaned)
    except ValueError:
        raise ParseError(f"{what}: {text.strip()!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ParseError(f"{what}: {text.strip()!r} is not a number")
    return value


def is_dash(text: str) -> bool:
    return text.strip() in DASHES
