"""Pages in kabutan.jp's shape, made from jp_daily rows, for the parser and scraper tests.

The stored pages in pages/ were written by `python -m tests.market.kabutan_pages` (from the
repository root): prices of real days from ../shared/data/jp_daily, so that every value a parser
reads can be checked against the same day there. `kabuka_pages` also renders, inside a test, the
view the site would show on a given day, with the history before a split divided by its ratio.
"""

import csv
import datetime
import html
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ROWS_PER_PAGE = 30
HEADER = "".join(
    f"<th>{title}</th>"
    for title in ["日付", "始値", "高値", "安値", "終値", "前日比", "前日比％", "売買高(株)"]
)


def jp_daily_rows(path: Path) -> list[dict]:
    """Rows of a jp_daily file, oldest first, with dates parsed and numbers as floats."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return [
            {
                "date": datetime.date.fromisoformat(row["Date"].replace("/", "-")),
                "open": float(row["Open"]),
                "high": float(row["Hight"]),
                "low": float(row["Low"]),
                "close": float(row["Close"]),
                "volume": int(float(row["Volume"])),
                "adj_close": float(row["Adj Close"]),
            }
            for row in reader
        ]


def price_text(value: float) -> str:
    # The site prints whole yen with thousands separators and adjusted prices to 0.1 yen.
    value = round(value, 1)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def shown(rows: list[dict], *, as_of: datetime.date, splits: dict[datetime.date, float]) -> list:
    """What the site shows on `as_of`: days up to it, newest first, earlier days divided by the
    ratios of the splits that took effect after them (on or before `as_of`)."""
    result = []
    for row in rows:
        if row["date"] > as_of:
            continue
        factor = 1.0
        for day, ratio in splits.items():
            if row["date"] < day <= as_of:
                factor *= ratio
        result.append(
            {
                "date": row["date"],
                **{key: round(row[key] / factor, 1) for key in ("open", "high", "low", "close")},
                "volume": round(row["volume"] * factor),
            }
        )
    return result[::-1]


def _row_html(row: dict, previous_close: float | None) -> str:
    if previous_close is None:
        change, percent, css = "－", "－", ""
    else:
        delta = round(row["close"] - previous_close, 1)
        change = ("+" if delta > 0 else "") + price_text(delta) if delta else "0"
        percent = f"{delta / previous_close * 100:+.2f}" if delta else "0.00"
        css = "up" if delta > 0 else "down" if delta < 0 else ""
    cells = [price_text(row[key]) for key in ("open", "high", "low", "close")]
    return (
        f'<tr><th scope="row"><time datetime="{row["date"]:%Y-%m-%d}">{row["date"]:%y/%m/%d}'
        "</time></th>"
        + "".join(f"<td>{cell}</td>" for cell in cells)
        + f'<td><span class="{css}">{change}</span></td><td><span class="{css}">{percent}</span>'
        + f"</td><td>{row['volume']:,}</td></tr>"
    )


def page_html(*, code: str, name: str, newest_first: list[dict], page: int) -> str:
    """Page `page` (from 1) of the daily prices: page 1 has the latest day in its own table."""
    if page == 1:
        latest, start = newest_first[:1], 1
    else:
        latest, start = [], 1 + (page - 1) * ROWS_PER_PAGE
    past = newest_first[start : start + ROWS_PER_PAGE]

    def rows_html(rows: list[dict], offset: int) -> str:
        out = []
        for index, row in enumerate(rows):
            following = offset + index + 1
            previous = newest_first[following]["close"] if following < len(newest_first) else None
            out.append(_row_html(row, previous))
        return "\n".join(out)

    latest_table = (
        f'<table class="stock_kabuka0"><thead><tr>{HEADER}</tr></thead>'
        f"<tbody>{rows_html(latest, 0)}</tbody></table>"
        if latest
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="ja">
<head><meta charset="utf-8">
<title>{html.escape(name)}（{code}）の株価推移 | 株探（かぶたん）</title></head>
<body>
<div id="container"><div id="main">
<div id="stockinfo_i1">
  <div class="si_i1_1"><h2><span class="code">{code}</span>{html.escape(name)}</h2>
  <span class="market">東証Ｐ</span></div>
</div>
<div id="stock_kabuka_table">
{latest_table}
<table class="stock_kabuka_dwm"><thead><tr>{HEADER}</tr></thead>
<tbody>
{rows_html(past, start)}
</tbody></table>
</div>
<ul class="pagination">
<li><a href="?code={code}&amp;ashi=day&amp;page={page + 1}">次へ</a></li></ul>
</div></div>
</body></html>
"""


def kabuka_pages(
    rows: list[dict],
    *,
    code: str,
    name: str,
    as_of: datetime.date,
    splits: dict[datetime.date, float] | None = None,
    pages: int = 3,
) -> dict[int, str]:
    newest_first = shown(rows, as_of=as_of, splits=splits or {})
    return {
        page: page_html(code=code, name=name, newest_first=newest_first, page=page)
        for page in range(1, pages + 1)
    }


def main() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "data"
    rows = jp_daily_rows(shared / "jp_daily" / "7203.csv")
    pages = kabuka_pages(rows, code="7203", name="トヨタ自動車", as_of=datetime.date(2018, 11, 16))
    for number in (1, 2):
        (PAGES_DIR / f"kabutan_7203_p{number}.html").write_text(pages[number])
    page = pages[1]
    # A redesign: the history table renamed.
    (PAGES_DIR / "kabutan_changed_structure.html").write_text(
        page.replace("stock_kabuka_dwm", "kabuka_history")
    )
    # A column dropped from the header and the rows (change %).
    (PAGES_DIR / "kabutan_changed_columns.html").write_text(page.replace("<th>前日比％</th>", ""))
    day_14 = '<time datetime="2018-11-14">18/11/14</time></th><td>6,589</td><td>6,677</td>'
    # 2018-11-14: a high of 6,477 below the low of 6,559.
    (PAGES_DIR / "kabutan_high_below_low.html").write_text(
        page.replace(day_14, day_14.replace("6,677", "6,477"))
    )
    # Two rows swapped.
    first = page.index('<tr><th scope="row"><time datetime="2018-11-14">')
    second = page.index('<tr><th scope="row"><time datetime="2018-11-13">')
    end = page.index("</tr>", second) + 5
    row_14, row_13 = page[first:second], page[second:end]
    (PAGES_DIR / "kabutan_out_of_order.html").write_text(
        page[:first] + row_13 + "\n" + row_14.rstrip("\n") + page[end:]
    )
    (PAGES_DIR / "kabutan_unparseable_row.html").write_text(
        page.replace(day_14, day_14.replace("6,677", "6,67?"))
    )


if __name__ == "__main__":
    main()
