"""A saved search as CSV rows, safe to open in a spreadsheet.

Text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP "CSV injection"): such a cell gets a leading `'`, which the
spreadsheet shows as text and does not display. Only text columns are touched; numbers we format
ourselves (a negative return is `-0.012000`) stay numbers.

A search run with the same_period option starts every row with a `list` column: `match` for the
matches, `same_period` for the windows over the pattern's own days that follow them (context,
ranked within their own list, counted in no statistic: no excess return, no episode).

The rows begin with a note: one row per term of the result (similarity.results.glossary), its
first cell `# ` and the term, its second the definition, in the page's language: the same text
the page and the API schema give. A program skips the lines that begin with `#` (pandas:
`comment="#"`); a spreadsheet shows them above the header.

A history search's match whose stock stopped trading before a horizon keeps its return, booked at
its last traded close; the last column (its header in the reader's language) gives that last
trading day, empty for the others.

Horizon columns name the result's interval: `return_20d` for days, `return_13w` for weeks,
`return_6m` for months; start_date and end_date are the dates of a match's first and last bar.
"""

from django.utils.translation import gettext as _

from similarity.results.glossary import glossary

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("code", "name", "segment", "sector", "start_date", "end_date")
LISTS = (("match", "matches"), ("same_period", "same_period"))  # (list column, result key)
UNIT = {"day": "d", "week": "w", "month": "m"}  # in the horizon columns' names


def csv_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def search_csv_rows(result: dict) -> list[list]:
    """The terms' note, the header and one row per match of a stored search result (then per
    same-period window, marked in a first `list` column, when the search asked for them)."""
    horizons = result.get("horizons") or []
    latest = result.get("mode") == "latest"
    unit = UNIT.get(result.get("interval") or "day", "d")
    header = ["rank", *TEXT_COLUMNS, "length", "correlation", "distance"]
    header += [f"return_{h}{unit}" for h in horizons]
    if latest:
        header += ["latest_close", "latest_date"]
    else:
        header += [*(f"excess_{h}{unit}" for h in horizons), "excess_benchmark", "episode"]
        header += [_("stopped trading (returns after it booked at its last close)")]
    marked = "same_period" in result
    rows = [[f"# {term['term']}", csv_text(term["definition"])] for term in glossary()]
    rows.append(["list", *header] if marked else header)
    for name, key in LISTS:
        for match in result.get(key) or []:
            row = _match_row(match, horizons, latest)
            rows.append([name, *row] if marked else row)
    return rows


def _match_row(match: dict, horizons: list[int], latest: bool) -> list:
    returns = match.get("returns") or {}
    row = [match.get("rank", "")]
    row += [csv_text(match.get(key, "")) for key in TEXT_COLUMNS]
    row += [match.get("length", "")]
    row += [f"{match['correlation']:.6f}", f"{match['distance']:.6f}"]
    row += ["" if returns.get(str(h)) is None else f"{returns[str(h)]:.6f}" for h in horizons]
    if latest:
        row += [match.get("latest_close", ""), csv_text(match.get("latest_date", ""))]
    else:
        excess = match.get("excess_returns") or {}
        row += ["" if excess.get(str(h)) is None else f"{excess[str(h)]:.6f}" for h in horizons]
        row += [csv_text(match.get("excess_benchmark")), match.get("episode", "")]
        row += [csv_text(match.get("stopped_trading", ""))]
    return row
