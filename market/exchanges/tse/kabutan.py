"""kabutan.jp daily prices: `/stock/kabuka?code={code}&ashi=day&page={n}`.

A page shows the stock's name above two tables with the same header, newest day first: the
latest day (`table.stock_kabuka0`, first page only) and the days before it
(`table.stock_kabuka_dwm`). Each row is the date in `<time datetime="YYYY-MM-DD">`, then open,
high, low, close, change, change % and volume. Past days are shown adjusted for later splits.
"""

import datetime

from django.conf import settings
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from market.bars import Bar, bar_problem
from market.sources.base import PriceSource
from market.sources.http import PoliteClient
from market.sources.parsing import MAX_PAGE_CHARS, ParseError, is_dash, number

HEADER = ["日付", "始値", "高値", "安値", "終値", "前日比", "前日比％", "売買高(株)"]
COLUMNS = HEADER[1:]
PAGE_PATH = "/stock/kabuka"
ROWS_PER_PAGE = 30


def parse_daily_prices(html: str) -> list[Bar]:
    """The bars a page shows, newest first; ParseError if anything on it does not add up.

    A day without trades (every price a dash, volume 0) is left out: there is nothing to store.
    A page longer than MAX_PAGE_CHARS is refused unread.
    """
    if len(html) > MAX_PAGE_CHARS:
        raise ParseError(f"the page has {len(html)} characters, more than {MAX_PAGE_CHARS}")
    tree = HTMLParser(html)
    history = tree.css_first("table.stock_kabuka_dwm")
    if history is None:
        raise ParseError("page structure changed: no price table (table.stock_kabuka_dwm)")
    tables = [t for t in (tree.css_first("table.stock_kabuka0"), history) if t is not None]
    rows: list[tuple[Bar, float | None]] = []
    for table in tables:
        _check_header(table)
        for row in table.css("tbody tr"):
            parsed = _parse_row(row, where=f"row {len(rows) + 1}")
            if parsed is not None:
                rows.append(parsed)
    bars = [bar for bar, _ in rows]
    for newer, older in zip(bars, bars[1:], strict=False):
        if older.date >= newer.date:
            raise ParseError(
                f"dates out of order: {older.date} is listed after {newer.date}, "
                "expected newest first"
            )
    for (bar, change), older in zip(rows, bars[1:], strict=False):
        if change is not None and abs(bar.close - older.close - change) > 0.11 + 0.001 * bar.close:
            raise ParseError(
                f"{bar.date}: close {bar.close:g} minus the previous close {older.close:g} "
                f"is not the change {change:+g} the page shows: columns may have moved"
            )
    return bars


def _check_header(table: Node) -> None:
    header = [cell.text(strip=True) for cell in table.css("thead th")]
    if header != HEADER:
        raise ParseError(f"page structure changed: table header is {header}, expected {HEADER}")


def _parse_row(row: Node, *, where: str) -> tuple[Bar, float | None] | None:
    time_node = row.css_first("th time")
    if time_node is None or "datetime" not in time_node.attributes:
        raise ParseError(f"{where}: no <time datetime> in the first cell")
    raw_date = time_node.attributes.get("datetime") or ""
    try:
        date = datetime.date.fromisoformat(raw_date.strip()[:10])
    except ValueError:
        raise ParseError(f"{where}: {raw_date!r} is not a date") from None
    where = f"{where} ({date})"
    cells = [cell.text(strip=True) for cell in row.css("td")]
    if len(cells) != len(COLUMNS):
        raise ParseError(f"{where}: {len(cells)} cells, expected {len(COLUMNS)}")
    open_, high, low, close, change, _change_percent, volume = cells
    if all(is_dash(text) for text in (open_, high, low, close)):
        if is_dash(volume) or number(volume, what=f"{where} volume") == 0:
            return None
        raise ParseError(f"{where}: volume without prices")
    values = [
        number(text, what=f"{where} {name}")
        for text, name in zip(cells[:4], COLUMNS[:4], strict=True)
    ]
    traded = number(volume, what=f"{where} volume")
    if traded != int(traded) or traded < 0:
        raise ParseError(f"{where}: volume {volume!r} is not a whole number")
    bar = Bar(date, *values, volume=int(traded))
    problem = bar_problem(bar)
    if problem:
        raise ParseError(f"{where}: {problem}")
    return bar, (None if is_dash(change) else number(change, what=f"{where} change"))


class KabutanSource(PriceSource):
    name = "kabutan"

    def __init__(self, client: PoliteClient | None = None):
        self.client = client or PoliteClient()

    def _page(self, code: str, page: int) -> tuple[str, str]:
        params = {"code": code, "ashi": "day", "page": page}
        return self.client.url(PAGE_PATH, params), self.client.get_text(PAGE_PATH, params=params)

    def fetch_daily_bars(self, code: str, *, since: datetime.date | None) -> list[Bar]:
        bars: list[Bar] = []
        for page in range(1, settings.SCRAPE_MAX_PAGES + 1):
            url, html = self._page(code, page)
            try:
                page_bars = parse_daily_prices(html)
            except ParseError as exc:
                raise ParseError(exc.reason, url=url) from None
            if bars and page_bars and page_bars[0].date >= bars[-1].date:
                raise ParseError(
                    f"page {page} starts at {page_bars[0].date}, not before {bars[-1].date}",
                    url=url,
                )
            bars.extend(page_bars)
            if len(page_bars) < ROWS_PER_PAGE or (since and bars and bars[-1].date <= since):
                break
        if since is not None:
            bars = [bar for bar in bars if bar.date >= since]
        return bars[::-1]

    def close(self) -> None:
        self.client.close()
