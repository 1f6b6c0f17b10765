"""Helpers for the pure page parsers: numbers as the sites print them, the parse error, and the
caps that keep reading what a provider sends linear in its length."""

# A page the parsers read at most (kabutan's daily price pages are some 100-300 KB): a longer one
# is refused unread. The HTTP client's SCRAPE_MAX_RESPONSE_BYTES bounds the download itself.
MAX_PAGE_CHARS = 2_000_000
# Characters of one number as a page prints it ("12,345,678,900", "+1,234.5").
MAX_NUMBER_TEXT = 32
# Characters of a reason kept: errors are stored in the run's record and shown in the admin.
MAX_REASON_CHARS = 500


class ParseError(ValueError):
    """A page that does not read as expected: its structure changed, or what it says is wrong."""

    def __init__(self, reason: str, *, url: str = ""):
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[: MAX_REASON_CHARS - 1] + "…"
        self.reason, self.url = reason, url
        super().__init__(f"{url}: {reason}" if url else reason)


DASHES = {"-", "－", "—", "―", "‐", ""}


def number(text: str, *, what: str) -> float:
    """'1,234.5' -> 1234.5; '+12' -> 12; raises ParseError naming `what` otherwise."""
    if len(text) > MAX_NUMBER_TEXT:
        raise ParseError(f"{what}: {text[:20]!r}... is longer than {MAX_NUMBER_TEXT} characters")
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
