"""J-Quants API V2 (JPX), the exchange's own data: listing, daily bars, calendar, TOPIX.

Every list answers `{"data": [...], "pagination_key": "..."}`; the same query is repeated with
`pagination_key` until it is absent. The client keeps the plan's rate a minute, waits after a 429
as its Retry-After says (else JQUANTS_RETRY_WAIT), backs off on 5xx, and never retries a 403
(a bad key or data outside the plan). The row parsers are pure functions of the decoded JSON.
"""

import datetime
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings

from market.bars import Bar, bar_problem
from market.exchanges.tse.calendar import DayKind
from market.exchanges.tse.codes import CODE_RE
from market.sources.base import SourceRefusedError
from market.sources.http import PoliteClient
from market.sources.parsing import ParseError

# Heavy overuse blocks a key for about five minutes: the longest Retry-After worth honouring.
BLOCK_SECONDS = 300.0
MASTER_PATH = "/equities/master"
DAILY_PATH = "/equities/bars/daily"
CALENDAR_PATH = "/markets/calendar"
TOPIX_PATH = "/indices/bars/daily/topix"
# Pages of one list read at most, and rows: a day of the market is some 4,400 rows, a stock's
# twenty years some 5,000, the master some 4,400. A list beyond them is refused, never read on.
MAX_PAGES = 1000
MAX_ROWS = 200_000
# A split factor the provider may give (1:100 splits and 100:1 consolidations at most); outside
# it the day's bar is stored but its factor is held for staff review (market.HeldAdjFactor)
# rather than applied to the stock's history.
ADJ_FACTOR_MIN, ADJ_FACTOR_MAX = 0.01, 100.0
HOLIDAY_KINDS = {
    "1": DayKind.BUSINESS,
    "2": DayKind.HALF,
    "0": DayKind.CLOSED,
    "3": DayKind.CLOSED,
}


@dataclass(frozen=True)
class Plan:
    name: str
    rate_per_minute: int
    delay_days: int
    years: int
    has_topix: bool

    def window(self, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        """The first and last day this plan serves."""
        first = today.replace(year=today.year - self.years, day=min(today.day, 28))
        return first, today - datetime.timedelta(days=self.delay_days)


PLANS = (
    Plan("Free", 5, delay_days=12 * 7, years=2, has_topix=False),
    Plan("Light", 60, delay_days=0, years=5, has_topix=True),
    Plan("Standard", 120, delay_days=0, years=10, has_topix=True),
    Plan("Premium", 500, delay_days=0, years=20, has_topix=True),
)


def plan_for_rate(rate_per_minute: int) -> Plan:
    """The plan a configured rate belongs to: the largest whose rate it reaches."""
    fitting = [plan for plan in PLANS if plan.rate_per_minute <= rate_per_minute]
    return fitting[-1] if fitting else PLANS[0]


def stock_code(code: str) -> str:
    """J-Quants' five characters to ours: 72030 -> 7203, 130A0 -> 130A; 25935 stays."""
    code = str(code).strip()
    return code[:4] if len(code) == 5 and code.endswith("0") else code


def api_code(code: str) -> str:
    return code + "0" if len(code) == 4 else code


@dataclass(frozen=True)
class ListingEntry:
    code: str
    name: str
    name_en: str
    segment: str
    sector33_code: str
    sector33: str
    sector17_code: str
    sector17: str
    size_code: str
    size_class: str


@dataclass(slots=True)
class DayBar:
    """One stock's traded day and the provider's split factor of that day (1.0: none; 0.5:
    a 1:2 split takes effect that day). `held_factor` is a factor outside ADJ_FACTOR_MIN..MAX,
    held for staff review; `adj_factor` is then 1.0."""

    code: str
    bar: Bar
    adj_factor: float
    held_factor: float | None = None


@dataclass
class ProviderBars:
    """The rows of an answer that passed validation, oldest first, and the ones skipped with
    the reason ({"7203 2026-11-13": "..."}): one bad row never stops the rest of the day."""

    bars: list[DayBar]
    rejected: dict[str, str]


def _date(value, *, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ParseError(f"{what}: {value!r} is not a date") from None


def _number(row: dict, key: str, *, what: str) -> float:
    value = row.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(float(value))
    ):
        raise ParseError(f"{what}: {key} is {value!r:.40}, not a finite number")
    return float(value)


def _in_range(day: datetime.date, first: datetime.date | None, last: datetime.date | None) -> bool:
    return (first is None or day >= first) and (last is None or day <= last)


def parse_master(rows: list[dict]) -> list[ListingEntry]:
    """The master's rows as entries; market.services.listing checks each before it is stored."""
    entries = []
    for row in rows:
        entries.append(
            ListingEntry(
                code=stock_code(row.get("Code") or ""),
                name=str(row.get("CoName") or ""),
                name_en=str(row.get("CoNameEn") or ""),
                segment=str(row.get("MktNm") or ""),
                sector33_code=str(row.get("S33") or ""),
                sector33=str(row.get("S33Nm") or ""),
                sector17_code=str(row.get("S17") or ""),
                sector17=str(row.get("S17Nm") or ""),
                size_code="",
                size_class=str(row.get("ScaleCat") or ""),
            )
        )
    return entries


def parse_daily_bars(
    rows: list[dict],
    *,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
) -> ProviderBars:
    """Bars oldest first; a row with null prices (no trades that day) is no bar. A row dated
    outside first..last (the day or range asked for), with a code the exchange does not issue,
    with prices that are not finite, positive and consistent, or repeated, is skipped and
    reported."""
    bars, rejected, seen = [], {}, set()
    for row in rows:
        code = stock_code(row.get("Code", ""))
        where = f"{code[:8]} {str(row.get('Date'))[:10]}"
        try:
            day_bar = _day_bar(row, code=code, where=where, first=first, last=last)
        except ParseError as exc:
            rejected[where] = exc.reason
            continue
        if day_bar is None:
            continue
        if (code, day_bar.bar.date) in seen:
            rejected[where] = f"{where}: the row appears twice; the first one is kept"
            continue
        seen.add((code, day_bar.bar.date))
        bars.append(day_bar)
    bars.sort(key=lambda day_bar: (day_bar.bar.date, day_bar.code))
    return ProviderBars(bars=bars, rejected=rejected)


def _day_bar(row: dict, *, code: str, where: str, first, last) -> DayBar | None:
    if not CODE_RE.match(code):
        raise ParseError(f"{where}: {code!r:.20} is not a stock code")
    day = _date(row.get("Date"), what=where)
    if not _in_range(day, first, last):
        raise ParseError(f"{where}: dated outside the days asked for ({first}..{last})")
    if all(row.get(key) is None for key in ("O", "H", "L", "C")):
        return None
    bar = Bar(
        date=day,
        open=_number(row, "O", what=where),
        high=_number(row, "H", what=where),
        low=_number(row, "L", what=where),
        close=_number(row, "C", what=where),
        volume=round(_number(row, "Vo", what=where)),
    )
    problem = bar_problem(bar)
    if problem:
        raise ParseError(f"{where}: {problem}")
    factor = row.get("AdjFactor")
    factor = 1.0 if factor is None else _number(row, "AdjFactor", what=where)
    if not ADJ_FACTOR_MIN <= factor <= ADJ_FACTOR_MAX:
        return DayBar(code=code, bar=bar, adj_factor=1.0, held_factor=factor)
    return DayBar(code=code, bar=bar, adj_factor=factor)


def parse_calendar(
    rows: list[dict],
    *,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
) -> dict[datetime.date, str]:
    """The kind of each day; days outside first..last (not asked for) are left out."""
    days = {}
    for row in rows:
        day = _date(row.get("Date"), what="calendar")
        if not _in_range(day, first, last):
            continue
        kind = HOLIDAY_KINDS.get(str(row.get("HolDiv")))
        if kind is None:
            raise ParseError(f"calendar {day}: HolDiv {row.get('HolDiv')!r} is unknown")
        days[day] = kind
    return days


@dataclass
class IndexBars:
    """An index's rows that passed validation, oldest first, as (date, open, high, low, close),
    and the ones skipped with the reason ({"TOPIX 2030-01-04": "..."}), as for stock rows."""

    bars: list[tuple[datetime.date, float, float, float, float]]
    rejected: dict[str, str]


def parse_index_bars(
    rows: list[dict],
    *,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
    code: str = "TOPIX",
) -> IndexBars:
    """An index's bars oldest first. A row dated outside first..last (the range asked for),
    with prices that are not finite, positive and consistent, or repeated, is skipped and
    reported: one bad row never stops the rest."""
    bars, rejected, seen = [], {}, set()
    for row in rows:
        where = f"{code} {str(row.get('Date'))[:10]}"
        try:
            bar = _index_bar(row, where=where, first=first, last=last)
        except ParseError as exc:
            rejected[where] = exc.reason
            continue
        if bar.date in seen:
            rejected[where] = f"{where}: the row appears twice; the first one is kept"
            continue
        seen.add(bar.date)
        bars.append((bar.date, bar.open, bar.high, bar.low, bar.close))
    return IndexBars(bars=sorted(bars), rejected=rejected)


def _index_bar(row: dict, *, where: str, first, last) -> Bar:
    day = _date(row.get("Date"), what=where)
    if not _in_range(day, first, last):
        raise ParseError(f"{where}: dated outside the days asked for ({first}..{last})")
    bar = Bar(
        date=day,
        open=_number(row, "O", what=where),
        high=_number(row, "H", what=where),
        low=_number(row, "L", what=where),
        close=_number(row, "C", what=where),
        volume=0,
    )
    problem = bar_problem(bar)
    if problem:
        raise ParseError(f"{where}: {problem}")
    return bar


class JQuantsSource:
    """The exchange's API. Not a PriceSource: it gives the whole market a day at a time, with
    the provider's split factors, rather than one stock's pages."""

    name = "jquants"

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep):
        if not settings.JQUANTS_API_KEY:
            raise SourceRefusedError("JQUANTS_API_KEY is not set: J-Quants needs your API key")
        self.client = PoliteClient(
            base_url=settings.JQUANTS_API_BASE,
            rate_per_second=settings.JQUANTS_RATE_PER_MINUTE / 60,
            retry_wait_429=settings.JQUANTS_RETRY_WAIT,
            retry_after_max_seconds=BLOCK_SECONDS,
            headers={"x-api-key": settings.JQUANTS_API_KEY, "Accept": "application/json"},
            refused_statuses={401, 403},
            sleep=sleep,
        )

    @property
    def plan(self) -> Plan:
        return plan_for_rate(settings.JQUANTS_RATE_PER_MINUTE)

    def rows(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a list, page after page; a pagination_key seen before, more than
        MAX_PAGES pages or MAX_ROWS rows stop it with a ParseError."""
        query = dict(params or {})
        seen_keys: set[str] = set()
        count = 0
        for _page in range(MAX_PAGES):
            try:
                content, _encoding = self.client.get_bytes(path, params=query)
            except SourceRefusedError as exc:
                raise SourceRefusedError(
                    f"J-Quants refused the key in JQUANTS_API_KEY, or your plan does not cover "
                    f"this data: {exc}"
                ) from None
            try:
                payload = json.loads(content)
            except ValueError:
                raise ParseError(f"{path}: the answer is not JSON", url=path) from None
            if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
                raise ParseError(f"{path}: the answer has no data list", url=path)
            count += len(payload["data"])
            if count > MAX_ROWS:
                raise ParseError(f"{path}: more than {MAX_ROWS} rows: refused", url=path)
            yield from payload["data"]
            pagination_key = payload.get("pagination_key")
            if not pagination_key:
                return
            if not isinstance(pagination_key, str) or pagination_key in seen_keys:
                raise ParseError(f"{path}: the pagination_key repeats: stopped", url=path)
            seen_keys.add(pagination_key)
            query = {**(params or {}), "pagination_key": pagination_key}
        raise ParseError(f"{path}: more than {MAX_PAGES} pages: stopped", url=path)

    def listing(self) -> list[ListingEntry]:
        return parse_master(list(self.rows(MASTER_PATH)))

    def day_bars(self, day: datetime.date) -> ProviderBars:
        """Every issue's bar of one day."""
        rows = list(self.rows(DAILY_PATH, {"date": day.isoformat()}))
        return parse_daily_bars(rows, first=day, last=day)

    def stock_bars(self, code: str, *, start: datetime.date, end: datetime.date) -> ProviderBars:
        params = {"code": api_code(code), "from": start.isoformat(), "to": end.isoformat()}
        answer = parse_daily_bars(list(self.rows(DAILY_PATH, params)), first=start, last=end)
        for day_bar in answer.bars:
            if day_bar.code != code:
                answer.rejected[f"{day_bar.code} {day_bar.bar.date}"] = f"not {code}, asked for"
        answer.bars = [day_bar for day_bar in answer.bars if day_bar.code == code]
        return answer

    def calendar(self, *, start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
        rows = list(self.rows(CALENDAR_PATH, {"from": start.isoformat(), "to": end.isoformat()}))
        return parse_calendar(rows, first=start, last=end)

    def topix(self, *, start: datetime.date, end: datetime.date) -> IndexBars:
        rows = list(self.rows(TOPIX_PATH, {"from": start.isoformat(), "to": end.isoformat()}))
        return parse_index_bars(rows, first=start, last=end)

    def close(self) -> None:
        self.client.close()
