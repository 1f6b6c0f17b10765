"""A saved search as CSV rows, safe to open in a spreadsheet.

Text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP "CSV injection"): such a cell gets a leading `'`, which the
spreadsheet shows as text and does not display. Only text columns are touched; numbers we format
ourselves (a negative return is `-0.012000`) stay numbers.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("code", "name", "segment", "sector", "start_date", "end_date")


def csv_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def search_csv_rows(result: dict) -> list[list]:
    """The header and one row per match of a stored search result."""
    horizons = result.get("horizons") or []
    latest = result.get("mode") == "latest"
    header = ["rank", *TEXT_COLUMNS, "length", "correlation", "distance"]
    header += [f"return_{h}d" for h in horizons]
    if latest:
        header += ["latest_close", "latest_date"]
    else:
        header += [*(f"excess_{h}d" for h in horizons), "excess_benchmark", "episode"]
    rows = [header]
    for match in result.get("matches", []):
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
        rows.append(row)
    return rows
