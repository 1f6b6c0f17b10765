"""A search's result: its schema, what SavedSearch.result holds (`builder` makes it).

Numbers are plain floats; dates are ISO strings. Returns are fractions (0.05 is +5%); paths are
ratios to the close at the match's last bar (1.0 at day 0). A value that does not exist (a
horizon past the end of the data) is null. Mini charts: `pattern.normalized` (z-normalised
pattern, length m), and per match `window` (the matched closes z-normalised the same way,
length m) followed by `after` (the next closes on the same scale, up to the longest horizon):
draw window + after on one axis, the pattern over the window, and shade `after`. Beyond
MINI_CHART_POINTS in all, window and after are evenly thinned on one spacing (a chart 168 pixels
wide needs no more; the closes themselves are at /api/v1/stocks/<code>/bars/).

The API answers with this shape through the output serializers in `similarity/api/serializers.py`.
"""

from typing import Literal, NotRequired, TypedDict

from similarity.validation import Mode


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
    # The next two, like the base-rate fields of HorizonStats, are absent from searches saved
    # before base rates existed.
    excess_returns: NotRequired[dict[str, float | None]]  # minus the market over the same days
    # The market those were measured against (null when none could be): TOPIX where its levels
    # cover the days, else the equal-weighted market. Absent from searches saved before it.
    excess_benchmark: NotRequired[Literal["TOPIX", "equal_weighted"] | None]
    episode: NotRequired[int]  # 1, 2, ...: matches of one market episode share it, count once
    # History mode: the stock's last trading day when it stopped trading before a horizon and
    # a return was booked at that last close; absent otherwise.
    stopped_trading: NotRequired[str]
    booked: NotRequired[list[int]]  # ...and the horizons whose return was booked so
    window: list[float]  # z-normalised closes of the window (resampled to m with stretch; thinned)
    after: list[float]  # closes after the window on the window's scale (history mode)
    last_close: float  # split-adjusted close on end_date
    latest_close: NotRequired[float]  # latest mode: the stock's latest price...
    latest_date: NotRequired[str]  # ...and its date


class Distribution(TypedDict):
    count: int
    mean: float | None
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None  # 0..1
    p10: NotRequired[float | None]  # baseline only: its 10-90 band, drawn behind the fan
    p90: NotRequired[float | None]
    # baseline only: the median excess return (minus the market's over the same days) of every
    # window that could have been a match, what the verdict compares the episodes' with
    excess_median: NotRequired[float | None]


class Interval(TypedDict):
    # [lo, hi]: evidence.INTERVAL_LEVEL bootstrap interval, with statistics.MIN_EPISODES
    # episodes or more (null below)
    median: list[float] | None
    share_positive: list[float] | None  # [lo, hi]: the same for the share positive
    range: NotRequired[list[float] | None]  # [min, max] of the episodes when too few to bootstrap


class Forecast(TypedDict):
    """The calibrated predictive range at a horizon (returns as fractions): the base rate scaled
    to the pattern's volatility, moved toward the episodes by matches_weight (learned), widened
    by split-conformal factors (engine.forecast). A forecast, unlike the matches' figures."""

    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    matches_weight: float  # 0..1: how far the forecast moved toward the episodes' quantiles


class HorizonStats(TypedDict):
    horizon: int
    count: int  # independent episodes with a return at this horizon (each counted once)
    matches: NotRequired[int]  # matches with a return at this horizon
    mean: float | None  # the statistics are over episodes: one value (the median) each
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None  # 0..1
    baseline: NotRequired[Distribution]  # every window that could have been a match
    excess: NotRequired[Distribution]  # the episodes' returns minus the market's, same days
    interval: NotRequired[Interval]
    # The episodes' excess returns against the base rate's median excess (sign test, Holm over
    # the horizons); "insufficient" below verdicts.MIN_VERDICT_EPISODES episodes.
    verdict: NotRequired[Literal["above", "below", "indistinguishable", "insufficient"]]
    booked: NotRequired[int]  # matches whose stock stopped trading, booked at its last close
    forecast: NotRequired[Forecast | None]  # null before the first calibration


class FanChart(TypedDict):
    horizon: int  # days shown: the longest horizon applied
    days: list[int]  # 0..horizon
    # Paths in the bands: one per episode (its matches' median path), so overlapping matches
    # count once (searches saved before: one per match)
    count: int
    bands: dict[str, list[float]]  # {"p10": [...], "p25", "p50", "p75", "p90"}, ratios, 1.0 at 0


class ScenarioGroup(TypedDict):
    label: str  # "Rally", "Drift up", "Sideways", "Decline" ... for display
    share: float  # 0..1 of the grouped episodes (of the grouped matches, in older searches)
    count: int  # episodes in the group; `ranks` lists every match of them
    median_path: list[float]  # ratios, 0..horizon
    median_return: float  # at the horizon
    ranks: list[int]  # the matches (MatchResult.rank) in the group


class LimitApplied(TypedDict):
    code: Literal["k_capped", "history_limited", "first_horizon_only"]
    message: str  # for display, e.g. "Matches capped at 10 on the Free plan." (search's language)
    # The message's numbers, so that a page in either language can say it (result_texts.py);
    # absent from searches saved before them.
    params: NotRequired[dict[str, str | int]]


class ForecastModelInfo(TypedDict):
    version: int  # the ForecastModel applied
    data_date: str | None  # the last trading day of the data it was learned on
    demo: bool  # learned from the demo market's smaller sample


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
    # What excess_returns are measured against: "mixed" when some matches predate the stored
    # TOPIX and were measured against the equal-weighted market. None in latest mode.
    market_benchmark: Literal["TOPIX", "equal_weighted", "mixed"] | None
    warnings: list[Literal["few_matches", "weak_matches"]]  # fewer than result_stats.MIN_EPISODES;
    # median correlation below WEAK_CORRELATION
    snapshot: SnapshotInfo
    elapsed_ms: float  # from the request's start to the result built
    # With the same_period option only: windows overlapping the pattern's own days (the market at
    # that time, for context), ranked on their own, with returns but no episode or excess return,
    # counted nowhere (stats, fan, groups, warnings, base rate). Empty without a stock's range in
    # history mode. See similarity.results.same_period.
    same_period: NotRequired[list[MatchResult]]
    # History mode: the forecast model applied to stats[i].forecast (null: none learned yet).
    forecast_model: NotRequired[ForecastModelInfo | None]
    # The closes searched, "day", "week" or "month": horizons, lengths and the matches' dates
    # (those of their first and last bar, each its period's last trading day) are of it. Results
    # saved before timeframes lack it: "day".
    interval: NotRequired[Literal["day", "week", "month"]]
