"""J-Quants API V2 (JPX), the exchange's own data: listing, daily bars, calendar, TOPIX.

Every list answers `{"data": [...], "pagination_key": "..."}`; the same query is repeated with
`pagination_key` until it is absent. The client keeps the plan's rate a minute, waits after a 429
as its Retry-After says (else JQUANTS_RETRY_WAIT), backs off on 5xx, and never retries a 403
(a bad key or data outside the plan). The row parsers are pure functions of the decoded JSON.
"""

import datetime
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings

from market.bars import Bar, bar_problem
from market.exchanges.tse.calendar import DayKind
from market.sources.base import SourceRefusedError
from market.sources.http import PoliteClient
from market.sources.parsing import ParseError

# Heavy overuse blocks a key for about five minutes: the longest Retry-After worth honouring.
BLOCK_SECONDS = 300.0
MASTER_PATH = "/equities/master"
DAILY_PATH = "/equities/bars/daily"
CALENDAR_PATH = "/markets/calendar"
TOPIX_PATH = "/indices/bars/daily/topix"
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
    a 1:2 split takes effect that day)."""

    code: str
    bar: Bar
    adj_factor: float


def _date(value, *, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ParseError(f"{what}: {value!r} is not a date") from None


def _number(row: dict, key: str, *, what: str) -> float:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ParseError(f"{what}: {key} is {value!r}, not a number")
    return float(value)


def parse_master(rows: list[dict]) -> list[ListingEntry]:
    entries = []
    for row in rows:
        code = stock_code(row.get("Code", ""))
        if not code or not row.get("CoName"):
            raise ParseError(f"master row without a code or a name: {row!r:.200}")
        entries.append(
            ListingEntry(
                code=code,
                name=str(row["CoName"]),
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


def parse_daily_bars(rows: list[dict]) -> list[DayBar]:
    """Bars oldest first; a row with null prices (no trades that day) is no bar."""
    bars = []
    for row in rows:
        code = stock_code(row.get("Code", ""))
        where = f"{code} {row.get('Date')}"
        day = _date(row.get("Date"), what=where)
        if all(row.get(key) is None for key in ("O", "H", "L", "C")):
            continue
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
        if factor <= 0:
            raise ParseError(f"{where}: AdjFactor {factor!r} is not positive")
        bars.append(DayBar(code=code, bar=bar, adj_factor=factor))
    bars.sort(key=lambda day_bar: (day_bar.bar.date, day_bar.code))
    return bars


def parse_calendar(rows: list[dict]) -> dict[datetime.date, str]:
    days = {}
    for row in rows:
        day = _date(row.get("Date"), what="calendar")
        kind = HOLIDAY_KINDS.get(str(row.get("HolDiv")))
        if kind is None:
            raise ParseError(f"calendar {day}: HolDiv {row.get('HolDiv')!r} is unknown")
        days[day] = kind
    return days


def parse_index_bars(rows: list[dict]) -> list[tuple[datetime.date, float, float, float, float]]:
    bars = []
    for row in rows:
        day = _date(row.get("Date"), what="index")
        values = [_number(row, key, what=f"index {day}") for key in ("O", "H", "L", "C")]
        if not 0 < values[2] <= min(values[0], values[3]) <= max(values[0], values[3]) <= values[1]:
            raise ParseError(f"index {day}: open/close outside low-high or not positive")
        bars.append((day, *values))
    return sorted(bars)


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
        """Every row of a list, page after page."""
        query = dict(params or {})
        while True:
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
            yield from payload["data"]
            pagination_key = payload.get("pagination_key")
            if not pagination_key:
                return
            query = {**(params or {}), "pagination_key": pagination_key}

    def listing(self) -> list[ListingEntry]:
        return parse_master(list(self.rows(MASTER_PATH)))

    def day_bars(self, day: datetime.date) -> list[DayBar]:
        """Every issue's bar of one day."""
        return parse_daily_bars(list(self.rows(DAILY_PATH, {"date": day.isoformat()})))

    def stock_bars(self, code: str, *, start: datetime.date, end: datetime.date) -> list[DayBar]:
        params = {"code": api_code(code), "from": start.isoformat(), "to": end.isoformat()}
        return parse_daily_bars(list(self.rows(DAILY_PATH, params)))

    def calendar(self, *, start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
        return parse_calendar(
            list(self.rows(CALENDAR_PATH, {"from": start.isoformat(), "to": end.isoformat()}))
        )

    def topix(self, *, start: datetime.date, end: datetime.date):
        return parse_index_bars(
            list(self.rows(TOPIX_PATH, {"from": start.isoformat(), "to": end.isoformat()}))
        )

    def close(self) -> None:
        self.client.close()
