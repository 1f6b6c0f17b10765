"""Running pattern searches: validate, resolve the pattern, apply the plan, search, save.

Entry points (pages, API and tasks call only these):

    search_run(*, user, spec: PatternSpec, options: dict) -> SavedSearch
    search_rerun(*, user, saved_search: SavedSearch) -> SavedSearch

Both raise `stocksite.api.DomainError` subclasses for bad input (400 with `fields` naming the
field), `NotFoundError` for an unknown stock code (404) and `SearchQuotaExceeded` (429).

The schema of what is stored on a SavedSearch (and answered by the API) is below.

PatternSpec (SavedSearch.spec), one of:
    {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
    {"source": "prices", "prices": [100.0, 101.5, ...]}                      5..500 numbers
    {"source": "sketch", "points": [[x, y], ...], "days": 60}
        points: the drawn line as pairs, x to the right, y UP (flip canvas coordinates);
        they are sorted by x and linearly resampled to `days` equally spaced values.

SearchOptions (SavedSearch.options): every key present after validation.

SearchResult (SavedSearch.result): see the TypedDicts. Numbers are plain floats; dates are ISO
strings. Returns are fractions (0.05 is +5%); paths are ratios to the close at the match's last
bar (1.0 at day 0). A value that does not exist (a horizon past the end of the data) is null.
Mini charts: `pattern.normalized` (z-normalised pattern, length m), and per match `window`
(the matched closes z-normalised the same way, length m) followed by `after` (the next closes on
the same scale, up to the longest horizon): draw window + after on one axis, the pattern over
the window, and shade `after`.
"""

from typing import Literal, NotRequired, TypedDict

Mode = Literal["history", "latest"]

DEFAULT_HORIZONS = (5, 20, 60)
FAN_PERCENTILES = (10, 25, 50, 75, 90)


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
    days: int  # 5..500


PatternSpec = StockPatternSpec | PricesPatternSpec | SketchPatternSpec


class SearchOptions(TypedDict):
    mode: Mode  # "history" (default) or "latest"
    k: int  # matches asked for, 1..100 (default 10); the plan may cap it (see limits)
    horizons: list[int]  # trading days after a match, 1..250, sorted, unique (default 5, 20, 60)
    segment: str  # market segment such as "プライム"; "" for all
    sector: str  # 33-sector code ("3650") or name ("電気機器"); "" for all
    min_turnover: float  # minimum average daily turnover in yen (close x volume); 0 for all
    date_from: str | None  # windows starting on or after this date (ISO)
    date_to: str | None  # windows ending on or before this date (ISO)
    stretch: bool  # also search the pattern 0.8x, 0.9x, 1.1x and 1.25x as long


class PatternInfo(TypedDict):
    source: Literal["stock", "prices", "sketch"]
    length: int  # m
    values: list[float]  # the prices searched (split-adjusted closes for a stock)
    normalized: list[float]  # z-normalised values, for the mini charts
    code: str | None  # stock source only
    name: str | None
    start_date: str | None
    end_date: str | None


class MatchResult(TypedDict):
    rank: int  # 1 = closest
    code: str
    name: str
    segment: str
    sector: str
    start_date: str  # first close of the window
    end_date: str  # last close of the window
    length: int  # closes in the window (differs from m only with stretch)
    correlation: float  # Pearson r = 1 - distance^2 / (2 * length)
    distance: float  # z-normalised Euclidean distance
    returns: dict[str, float | None]  # {"5": 0.031, "20": -0.02, "60": null}: by horizon
    window: list[float]  # z-normalised closes of the window (resampled to m with stretch)
    after: list[float]  # closes after the window on the window's scale (history mode)
    last_close: float  # split-adjusted close on end_date
    latest_close: NotRequired[float]  # latest mode: the stock's latest price...
    latest_date: NotRequired[str]  # ...and its date


class HorizonStats(TypedDict):
    horizon: int
    count: int  # matches with a return at this horizon
    mean: float | None
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None  # 0..1


class FanChart(TypedDict):
    horizon: int  # days shown: the longest horizon applied
    days: list[int]  # 0..horizon
    count: int  # matches whose complete path entered the bands
    bands: dict[str, list[float]]  # {"p10": [...], "p25", "p50", "p75", "p90"}, ratios, 1.0 at 0


class ScenarioGroup(TypedDict):
    label: str  # "Rally", "Drift up", "Sideways", "Decline" ... for display
    share: float  # 0..1 of the grouped matches
    count: int
    median_path: list[float]  # ratios, 0..horizon
    median_return: float  # at the horizon
    ranks: list[int]  # the matches (MatchResult.rank) in the group


class LimitApplied(TypedDict):
    code: Literal["k_capped", "history_limited", "first_horizon_only"]
    message: str  # for display, e.g. "Matches capped at 10 on the Free plan."


class SnapshotInfo(TypedDict):
    id: str
    date: str | None  # the last trading day in the data searched


class SearchResult(TypedDict):
    mode: Mode
    pattern: PatternInfo
    horizons: list[int]  # horizons applied (Free: the first only)
    matches: list[MatchResult]
    stats: list[HorizonStats]  # one per applied horizon; [] in latest mode
    fan: FanChart | None  # None in latest mode or with no complete path
    groups: list[ScenarioGroup]  # scenario groups for the longest applied horizon; may be []
    groups_horizon: int | None
    limits: list[LimitApplied]  # the plan limits that changed this search
    snapshot: SnapshotInfo
    elapsed_ms: float
