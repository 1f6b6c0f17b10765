"""A local server in the shape of J-Quants API V2, for the sync tests and the benchmark.

It answers GET with `x-api-key`, pages every list by `pagination_key` (opaque offsets), returns
`{"data": []}` when nothing matches and 403 for a wrong key, and plays queued faults (429 with or
without Retry-After, 5xx) before the real answer. `rows_from_jp_daily` turns jp_daily rows into
`/equities/bars/daily` rows: raw prices as traded and AdjFactor where the adjusted close shows a
split.
"""

import datetime
import json
from collections import defaultdict
from fractions import Fraction

from werkzeug import Request, Response

API_KEY = "test-key-0123456789"
FIVE = "0"


def api_code(code: str) -> str:
    return code + FIVE if len(code) == 4 else code


def rows_from_jp_daily(rows: list[dict], code: str) -> list[dict]:
    """J-Quants daily rows of one stock from jp_daily rows (oldest first)."""
    result, previous = [], None
    for row in rows:
        cumulative = row["adj_close"] / row["close"]
        factor = 1.0
        if previous is not None:
            ratio = previous / cumulative
            if abs(ratio - 1) > 0.02:
                factor = float(Fraction(ratio).limit_denominator(1000))
        previous = cumulative
        result.append(
            {
                "Date": row["date"].isoformat(),
                "Code": api_code(code),
                "O": row["open"],
                "H": row["high"],
                "L": row["low"],
                "C": row["close"],
                "UL": "0",
                "LL": "0",
                "Vo": float(row["volume"]),
                "Va": row["close"] * row["volume"],
                "AdjFactor": factor,
                "AdjO": row["open"] * cumulative,
                "AdjH": row["high"] * cumulative,
                "AdjL": row["low"] * cumulative,
                "AdjC": row["adj_close"],
                "AdjVo": row["volume"] / cumulative,
                "SomethingNew": "ignored",
            }
        )
    return result


def calendar_rows(trading_days, start: datetime.date, end: datetime.date) -> list[dict]:
    trading = set(trading_days)
    rows, day = [], start
    while day <= end:
        kind = "1" if day in trading else ("0" if day.weekday() >= 5 else "3")
        rows.append({"Date": day.isoformat(), "HolDiv": kind})
        day += datetime.timedelta(days=1)
    return rows


def master_row(code: str, name: str, name_en: str = "", market: str = "プライム") -> dict:
    return {
        "Date": "2026-11-30",
        "Code": api_code(code),
        "CoName": name,
        "CoNameEn": name_en,
        "S17": "6",
        "S17Nm": "自動車・輸送機",
        "S33": "3700",
        "S33Nm": "輸送用機器",
        "ScaleCat": "TOPIX Core30",
        "Mkt": "0111",
        "MktNm": market,
        "Mrgn": "2",
        "MrgnNm": "貸借",
    }


class FakeJQuants:
    """Data and faults of the fake API, served by a pytest-httpserver HTTPServer."""

    def __init__(self, server, *, page_size: int = 1000):
        self.server = server
        self.page_size = page_size
        self.master: list[dict] = []
        self.daily: list[dict] = []
        self.calendar: list[dict] = []
        self.topix: list[dict] = []
        self.faults: dict[str, list[Response]] = defaultdict(list)
        self.requests: list[tuple[str, dict]] = []
        self.hook = None  # called with (path, args) before answering: tests block or fail here
        self._daily_by_date: dict[str, list[dict]] | None = None
        routes = {
            "/equities/master": self._master,
            "/equities/bars/daily": self._daily,
            "/markets/calendar": self._calendar,
            "/indices/bars/daily/topix": self._topix,
        }
        for path, select in routes.items():
            server.expect_request(path, method="GET").respond_with_handler(
                self._handler(path, select)
            )

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def add_daily(self, rows: list[dict]) -> None:
        self.daily.extend(rows)
        self._daily_by_date = None

    def fail_next(self, path: str, *responses: Response) -> None:
        self.faults[path].extend(responses)

    def requested(self, path: str) -> list[dict]:
        return [args for requested, args in self.requests if requested == path]

    def _handler(self, path, select):
        def handle(request: Request) -> Response:
            args = request.args.to_dict()
            self.requests.append((path, args))
            if self.hook is not None:
                self.hook(path, args)
            if request.headers.get("x-api-key") != API_KEY:
                return _json({"message": "The incoming token is invalid or expired."}, 403)
            if self.faults[path]:
                return self.faults[path].pop(0)
            rows = select(args)
            offset = int(args.get("pagination_key", "0") or 0)
            page = rows[offset : offset + self.page_size]
            body = {"data": page}
            if offset + self.page_size < len(rows):
                body["pagination_key"] = str(offset + self.page_size)
            return _json(body, 200)

        return handle

    def _master(self, args):
        code = args.get("code")
        return [row for row in self.master if code is None or row["Code"] == api_code(code)]

    def _daily(self, args):
        if "date" in args:
            if self._daily_by_date is None:
                self._daily_by_date = defaultdict(list)
                for row in self.daily:
                    self._daily_by_date[row["Date"]].append(row)
            rows = self._daily_by_date.get(_iso(args["date"]), [])
            if "code" in args:
                rows = [row for row in rows if row["Code"] == api_code(args["code"])]
            return rows
        code = api_code(args["code"])
        start, end = _iso(args.get("from", "0000-00-00")), _iso(args.get("to", "9999-99-99"))
        return [row for row in self.daily if row["Code"] == code and start <= row["Date"] <= end]

    def _calendar(self, args):
        start, end = _iso(args.get("from", "0000-00-00")), _iso(args.get("to", "9999-99-99"))
        return [row for row in self.calendar if start <= row["Date"] <= end]

    def _topix(self, args):
        start, end = _iso(args.get("from", "0000-00-00")), _iso(args.get("to", "9999-99-99"))
        return [row for row in self.topix if start <= row["Date"] <= end]


def _iso(value: str) -> str:
    return value if "-" in value else f"{value[:4]}-{value[4:6]}-{value[6:]}"


def _json(body, status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
