"""The one validator of search input: a pattern spec and search options, checked and canonical.

The search form and the API serializer only parse (text to numbers, JSON to lists) and call
`pattern_spec_clean` and `search_options_clean`; the search service calls them again on what it
is given, so a task or a rerun is held to the same rules. Every limit comes from
`similarity.limits`. A bad value raises `SearchInputError` naming the field.

PatternSpec (SavedSearch.spec), one of:
    {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
    {"source": "prices", "prices": [100.0, 101.5, ...]}                      5..500 numbers
    {"source": "sketch", "points": [[x, y], ...], "days": 60}
        points: the drawn line as pairs, x to the right, y UP (flip canvas coordinates);
        they are sorted by x and linearly resampled to `days` equally spaced values.

SearchOptions (SavedSearch.options): every key present after validation.
"""

import datetime as dt
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import InvalidInputError
from core.templatetags.site_formats import day
from core.text import normalize_search_text
from similarity import limits
from similarity.models import SavedSearch

Mode = Literal["history", "latest"]

# Functional form: "from" is a Python keyword.
StockPatternSpec = TypedDict(
    "StockPatternSpec", {"source": Literal["stock"], "code": str, "from": str, "to": str}
)


class PricesPatternSpec(TypedDict):
    source: Literal["prices"]
    prices: list[float]


class SketchPatternSpec(TypedDict):
    source: Literal["sketch"]
    points: list[list[float]]  # [[x, y], ...], y up
    days: int  # MIN_LENGTH..MAX_LENGTH


PatternSpec = StockPatternSpec | PricesPatternSpec | SketchPatternSpec


class SearchOptions(TypedDict):
    mode: Mode  # "history" (default) or "latest"
    k: int  # matches asked for, 1..MAX_K (default DEFAULT_K); the plan may cap it
    horizons: list[int]  # trading days after a match, 1..MAX_HORIZON, sorted, unique
    segment: str  # market segment such as "プライム"; "" for all
    sector: str  # 33-sector code ("3650") or name ("電気機器"); "" for all
    min_turnover: float  # minimum average daily turnover in yen (close x volume); 0 for all
    date_from: str | None  # windows starting on or after this date (ISO)
    date_to: str | None  # windows ending on or before this date (ISO)
    stretch: bool  # also search the pattern STRETCH_FACTORS times as long
    same_period: bool  # also list other stocks over the pattern's own days (history, stock range)
    # History mode with a stock's range: only windows whose furthest horizon closed before the
    # pattern's first day (what was known then), so that a past pattern is replayed honestly.
    as_of: bool
    # The closes searched: "day" (default), "week" or "month" (each week's or calendar month's
    # last trading day). Lengths, horizons and stretch count bars of this interval.
    interval: str


# The keys of each kind of pattern, after "source".
PATTERN_FIELDS = {
    "stock": ("code", "from", "to"),
    "prices": ("prices",),
    "sketch": ("points", "days"),
}
OPTION_FIELDS = tuple(SearchOptions.__annotations__)
# Where a pattern that the engine refuses (flat, NaN...) is reported, by source.
PATTERN_FIELD = {"stock": "from", "prices": "prices", "sketch": "points"}


class SearchInputError(InvalidInputError):
    """Bad search input; `fields` maps the field to its message, for a form or the API."""

    def __init__(self, field_name: str, message):
        super().__init__(fields={field_name: [message]})


# --- Pasted prices ------------------------------------------------------------------------------
# As Japanese users copy them: 1,520 / ¥1,495 / 1510円 / full-width digits, one a line or in a row,
# or whole rows of a table copied from Excel or a broker's page (tab-separated columns).

# Between prices in a row: whitespace, semicolons, the ideographic comma, and commas that are not
# thousands separators.
_PRICE_SEPARATORS = re.compile(r"[;、\s]+")
# 1,520 or 12,345,678: commas grouping thousands, to be removed when the prices are not
# comma-separated (a comma-separated list such as 100,101,103 keeps its commas as separators).
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
# Around a number: currency signs before it and units after it that a copied price may carry.
_PRICE_SIGNS = "¥\\$"
_PRICE_UNITS = ("円", "JPY")
# A date cell of a pasted table, as brokers and spreadsheets write it: 2018/11/16, 2018-11-16,
# 2018年11月16日, 18/11/16 (kabutan's 時系列), 11/16, 11月16日, 16.11.2018, 11/16/2018.
_DATE_CELL = re.compile(
    r"^(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
    r"|\d{2}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}"
    r"|\d{1,2}[/月]\d{1,2}日?)$"
)
# Table headers of the close, best first: the split-adjusted close is what the search compares.
CLOSE_HEADERS = ("調整後終値", "adj close", "adj. close", "adjusted close", "終値", "close")


@dataclass(frozen=True)
class PastedPrices:
    """Prices read from pasted text, oldest first, and how they were read."""

    prices: list[float]
    column: str | None = None  # the table column used, by header or number; None for a list
    reversed: bool = False  # the table was newest first (as brokers show it) and was turned


def _price_undecorated(text: str) -> str:
    """The number inside currency signs and units ("¥1520", "1520 円", "1520JPY"), in one pass."""
    start, end = 0, len(text)
    while start < end and (text[start] in _PRICE_SIGNS or text[start].isspace()):
        start += 1
    while start < end:
        if text[end - 1].isspace():
            end -= 1
            continue
        tail = text[max(start, end - 3) : end].upper()
        unit = next((unit for unit in _PRICE_UNITS if tail.endswith(unit)), None)
        if unit is None:
            break
        end -= len(unit)
    return text[start:end]


def _price_number(token: str, position: int) -> float:
    if len(token) > limits.MAX_PRICE_TOKEN:
        raise SearchInputError(
            "prices",
            _("Price %(position)s, “%(token)s…”, is longer than %(max)d characters.")
            % {"position": position, "token": token[:20], "max": limits.MAX_PRICE_TOKEN},
        )
    text = _price_undecorated(token.replace(",", "").replace("_", ""))
    try:
        value = float(text)
    except ValueError:
        raise SearchInputError(
            "prices",
            _("Price %(position)s, “%(token)s”, is not a number.")
            % {"position": position, "token": token[:20]},
        ) from None
    if not math.isfinite(value):
        raise SearchInputError(
            "prices", _("Price %(position)s is not a finite number.") % {"position": position}
        )
    return value


def _is_price_cell(cell: str) -> bool:
    try:
        _price_number(cell, 0)
    except SearchInputError:
        return False
    return True


def _newest_first(days: list[str]) -> bool:
    """Whether a table's date cells run newest first: most steps from one row to the next go
    back in time. Month/day dates step the shorter way round the year, so a table across New
    Year reads right; a year written last is read first, and day/month is told from month/day
    by a first number above 12."""
    keys = [
        tuple(int(part) for part in re.findall(r"\d+", unicodedata.normalize("NFKC", day)))
        for day in days
        if day.strip()
    ]
    if any(len(key) == 3 and key[2] >= 1000 for key in keys):  # 16.11.2018 or 11/16/2018
        day_first = any(key[0] > 12 for key in keys)
        keys = [(y, b, a) if day_first else (y, a, b) for a, b, y in keys]
    steps = []
    for older, newer in zip(keys, keys[1:], strict=False):
        if len(older) == len(newer) == 2:  # month/day: a step is the shorter way round the year
            gap = (newer[0] * 31 + newer[1] - older[0] * 31 - older[1]) % (12 * 31)
            steps.append(0 if gap == 0 else 1 if gap < 6 * 31 else -1)
        else:
            steps.append((newer > older) - (newer < older))
    return steps.count(-1) > steps.count(1)


def _table_parse(rows: list[list[str]]) -> PastedPrices:
    """The close column of a table: found by its header, else the 4th price after a date
    (date, open, high, low, close, volume as brokers and Excel downloads order them), else the
    last column of numbers."""
    header = None
    if rows and not any(_is_price_cell(cell) for cell in rows[0][1:]):
        header, rows = [cell.strip() for cell in rows[0]], rows[1:]
    width = max((len(row) for row in rows), default=0)
    index = None
    if header:
        names = [unicodedata.normalize("NFKC", name).casefold() for name in header]
        for wanted in CLOSE_HEADERS:
            matches = [i for i, name in enumerate(names) if name.split("(")[0].strip() == wanted]
            if matches:
                index = matches[0]
                break
    dated = bool(rows) and all(_DATE_CELL.match(row[0].strip()) for row in rows if row[0].strip())
    if index is None:
        numeric = [
            i for i in range(width) if all(i < len(row) and _is_price_cell(row[i]) for row in rows)
        ]
        if dated and len(numeric) >= 4:
            index = numeric[3]
        elif numeric:
            index = numeric[-1]
        else:
            raise SearchInputError("prices", _("No column of the pasted table holds only numbers."))
    prices = [
        _price_number(row[index] if index < len(row) else "", position)
        for position, row in enumerate(rows, start=1)
    ]
    turned = dated and _newest_first([row[0] for row in rows])
    if turned:
        prices.reverse()
    column = (
        header[index]
        if header and header[index]
        else str(_("column %(number)d") % {"number": index + 1})
    )
    return PastedPrices(prices=prices, column=column, reversed=turned)


def prices_text_parse(text: str) -> PastedPrices:
    """Prices from pasted text, oldest first; SearchInputError("prices") says what is wrong.

    A list (one price a line, or separated by spaces, commas or 、) reads 1,520 as one price
    unless commas are all that separates them; rows with tab-separated columns are a table whose
    close column is taken. The count and range are checked later by `pattern_spec_clean`. Text
    longer than MAX_PRICES_TEXT, or a price longer than MAX_PRICE_TOKEN, is refused unread.
    """
    if len(text or "") > limits.MAX_PRICES_TEXT:
        raise SearchInputError(
            "prices",
            _("The pasted text is longer than %(max)d characters.")
            % {"max": limits.MAX_PRICES_TEXT},
        )
    text = unicodedata.normalize("NFKC", text or "").replace("\r", "")
    lines = [line for line in text.split("\n") if line.strip()]
    if any("\t" in line for line in lines):
        return _table_parse([line.split("\t") for line in lines])
    comma_list = not re.search(r"[;、\s]", text.strip()) and "," in text
    if comma_list:
        tokens = text.strip().split(",")
    else:
        text = _THOUSANDS.sub(lambda number: number.group().replace(",", ""), text)
        tokens = _PRICE_SEPARATORS.split(text.replace(",", " "))
    tokens = [token.strip() for token in tokens if token.strip()]
    return PastedPrices(
        prices=[_price_number(token, position) for position, token in enumerate(tokens, start=1)]
    )


def pattern_spec_clean(*, spec: dict) -> dict:
    """The spec checked and in canonical form; SearchInputError names the bad field."""
    if not isinstance(spec, dict):
        raise SearchInputError("source", _("The pattern is missing."))
    source = spec.get("source")
    if source not in PATTERN_FIELDS:
        raise SearchInputError(
            "source", _("Give a stock and a date range, a list of prices, or a sketch.")
        )
    unknown = sorted(set(spec) - {"source", *PATTERN_FIELDS[source]})
    if unknown:
        raise SearchInputError(unknown[0], _("This field is not allowed with this pattern."))
    if source == "stock":
        return _stock_spec_clean(spec)
    if source == "prices":
        return {"source": source, "prices": _numbers_clean(spec.get("prices"), "prices")}
    return _sketch_spec_clean(spec)


def _stock_spec_clean(spec: dict) -> dict:
    code = spec.get("code")
    if not isinstance(code, str) or not code.strip():
        raise SearchInputError("code", _("Give a stock code such as 7203."))
    start = _date_clean(spec.get("from"), "from", required=True)
    end = _date_clean(spec.get("to"), "to", required=True)
    if start > end:
        raise SearchInputError(
            "from",
            _("The pattern's first day (%(start)s) is after its last day (%(end)s).")
            % {"start": day(start), "end": day(end)},
        )
    return {
        "source": "stock",
        "code": normalize_search_text(code).upper(),
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


def _sketch_spec_clean(spec: dict) -> dict:
    points = spec.get("points")
    if not isinstance(points, list | tuple) or not points:
        raise SearchInputError("points", _("The sketch has no points: draw the pattern first."))
    if len(points) > limits.MAX_SKETCH_POINTS:
        raise SearchInputError(
            "points",
            _("The sketch has more than %(max)d points.") % {"max": limits.MAX_SKETCH_POINTS},
        )
    pairs = []
    for point in points:
        if not (
            isinstance(point, list | tuple)
            and len(point) == 2
            and all(_is_number(value) for value in point)
        ):
            raise SearchInputError(
                "points", _("Each point of a sketch is a pair of numbers [x, y].")
            )
        pairs.append([float(point[0]), float(point[1])])
    if not np.all(np.isfinite(pairs)) or np.any(np.abs(pairs) > limits.MAX_ABS_VALUE):
        raise SearchInputError(
            "points",
            _("The sketch's coordinates must be finite numbers within ±%(max)s.")
            % {"max": limits.MAX_ABS_VALUE_TEXT},
        )
    if len({x for x, _y in pairs}) < 2:
        raise SearchInputError("points", _("The sketch needs points at two different places."))
    days = spec.get("days")
    if not _is_integer(days) or not limits.MIN_LENGTH <= days <= limits.MAX_LENGTH:
        raise SearchInputError(
            "days",
            _("Say how many days the sketch stands for: a whole number from %(low)d to %(high)d.")
            % {"low": limits.MIN_LENGTH, "high": limits.MAX_LENGTH},
        )
    return {"source": "sketch", "points": pairs, "days": int(days)}


def sketch_points_parse(*, text: str) -> list[list[float]]:
    """The sketch field's JSON text (`[[x, y], ...]`) as pairs of numbers, for
    `pattern_spec_clean` to check; SearchInputError when it is not such a list, including JSON
    nested deeper than Python's parser goes (`"[" * 50000`)."""
    try:
        return [[float(x), float(y)] for x, y in json.loads(text)]
    except (ValueError, TypeError, RecursionError):
        raise SearchInputError(
            "points", _("The sketch could not be read: clear it and draw again.")
        ) from None


def search_options_clean(*, options: dict | None) -> dict:
    """Options checked, with every key present; SearchInputError names the bad option."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTION_FIELDS))
    if unknown:
        raise SearchInputError(unknown[0], _("Unknown option."))
    interval = options.get("interval") or limits.DEFAULT_INTERVAL
    if interval not in limits.INTERVALS:
        raise SearchInputError("interval", _('The interval is "day", "week" or "month".'))
    mode = options.get("mode") or SavedSearch.Mode.HISTORY
    if mode not in SavedSearch.Mode.values:
        raise SearchInputError("mode", _('The mode is "history" or "latest".'))
    k = options.get("k", limits.DEFAULT_K)
    if not _is_integer(k) or not 1 <= k <= limits.MAX_K:
        raise SearchInputError(
            "k",
            _("The number of matches is a whole number from 1 to %(max)d.") % {"max": limits.MAX_K},
        )
    stretch = options.get("stretch") or False
    if not isinstance(stretch, bool):
        raise SearchInputError("stretch", _("Stretch is true or false."))
    same_period = options.get("same_period", False)
    if not isinstance(same_period, bool):
        raise SearchInputError("same_period", _("Same period is true or false."))
    as_of = options.get("as_of", False)
    if not isinstance(as_of, bool):
        raise SearchInputError("as_of", _("As of is true or false."))
    if as_of and mode != SavedSearch.Mode.HISTORY:
        raise SearchInputError("as_of", _("Only the data known then applies to history mode only."))
    date_from = _date_clean(options.get("date_from"), "date_from")
    date_to = _date_clean(options.get("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise SearchInputError(
            "date_from",
            _("The windows' first day (%(start)s) is after their last day (%(end)s).")
            % {"start": day(date_from), "end": day(date_to)},
        )
    return {
        "mode": mode,
        "k": int(k),
        "horizons": _horizons_clean(options.get("horizons"), interval),
        "segment": _text_clean(options.get("segment"), "segment"),
        "sector": _text_clean(options.get("sector"), "sector"),
        "min_turnover": _turnover_clean(options.get("min_turnover")),
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
        "stretch": stretch,
        "same_period": same_period,
        "as_of": as_of,
        "interval": interval,
    }


def _horizons_clean(horizons, interval: str) -> list[int]:
    horizons = horizons or list(limits.DEFAULT_HORIZONS_BY_INTERVAL[interval])
    longest = limits.MAX_HORIZON_BY_INTERVAL[interval]
    if (
        not isinstance(horizons, list | tuple)
        or len(horizons) > limits.MAX_HORIZONS
        or not all(_is_integer(h) and 1 <= h <= longest for h in horizons)
    ):
        if interval == "day":
            message = _(
                "Give 1 to %(count)d horizons, each a whole number of days from 1 to %(max)d."
            )
        elif interval == "week":
            message = _(
                "Give 1 to %(count)d horizons, each a whole number of weeks from 1 to %(max)d."
            )
        else:
            message = _(
                "Give 1 to %(count)d horizons, each a whole number of months from 1 to %(max)d."
            )
        raise SearchInputError("horizons", message % {"count": limits.MAX_HORIZONS, "max": longest})
    return sorted({int(h) for h in horizons})


def bars_text(count: int, interval: str) -> str:
    """``count`` bars of the interval in words: "60 trading days", "26 weeks", "12 months"."""
    if interval == "week":
        return ngettext("%(count)d week", "%(count)d weeks", count) % {"count": count}
    if interval == "month":
        return ngettext("%(count)d month", "%(count)d months", count) % {"count": count}
    return ngettext("%(count)d trading day", "%(count)d trading days", count) % {"count": count}


def pattern_length_check(*, length: int, options: dict, source: str) -> None:
    """Refuse a pattern longer than the interval allows (with stretch, shorter still); the
    engine's own limits (MIN_LENGTH, MAX_LENGTH) are the daily ones, checked with the spec."""
    interval = options["interval"]
    longest = limits.MAX_LENGTH_BY_INTERVAL[interval]
    if options["stretch"]:
        longest = limits.MAX_STRETCH_LENGTH_BY_INTERVAL[interval]
    if length > longest:
        field = {"stock": "to", "prices": "prices", "sketch": "days"}[source]
        if options["stretch"]:
            message = _(
                "The pattern has %(length)s; with stretch this interval allows at most %(max)s."
            )
        else:
            message = _("The pattern has %(length)s; this interval allows at most %(max)s.")
        raise SearchInputError(
            field,
            message % {"length": bars_text(length, interval), "max": bars_text(longest, interval)},
        )


def _turnover_clean(turnover) -> float:
    turnover = turnover or 0
    if not _is_number(turnover) or not math.isfinite(turnover) or turnover < 0:
        raise SearchInputError(
            "min_turnover", _("The minimum turnover is a number of yen, 0 or more.")
        )
    return float(turnover)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _text_clean(value, field_name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limits.MAX_NAME_LENGTH:
        raise SearchInputError(
            field_name,
            _("Give a name of at most %(max)d characters.") % {"max": limits.MAX_NAME_LENGTH},
        )
    return value.strip()


def _date_clean(value, field_name: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise SearchInputError(field_name, _("Give a date such as 2015-01-05."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SearchInputError(
            field_name, _("%(value)r is not a date such as 2015-01-05.") % {"value": value}
        ) from None


def _numbers_clean(values, field_name: str) -> list[float]:
    if not isinstance(values, list | tuple):
        raise SearchInputError(field_name, _("Give a list of prices."))
    if not all(_is_number(value) for value in values):
        raise SearchInputError(field_name, _("Every price must be a number."))
    if not all(math.isfinite(value) for value in values):
        raise SearchInputError(field_name, _("The prices contain NaN or infinite values."))
    if any(abs(value) > limits.MAX_ABS_VALUE for value in values):
        raise SearchInputError(
            field_name,
            _("Every price must lie between -%(max)s and %(max)s.")
            % {"max": limits.MAX_ABS_VALUE_TEXT},
        )
    if len(values) < limits.MIN_LENGTH:
        raise SearchInputError(
            field_name,
            _("There are %(count)d prices; at least %(min)d are needed.")
            % {"count": len(values), "min": limits.MIN_LENGTH},
        )
    if len(values) > limits.MAX_LENGTH:
        raise SearchInputError(
            field_name,
            _("There are %(count)d prices; at most %(max)d are allowed.")
            % {"count": len(values), "max": limits.MAX_LENGTH},
        )
    if max(values) == min(values):
        raise SearchInputError(field_name, _("The prices are all the same: there is no shape."))
    return [float(value) for value in values]
