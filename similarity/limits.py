"""Every limit of a search, in one place.

The validator, the form, the API serializer, their help texts and the page scripts (through
`script_limits`, rendered with `json_script`) read these names; none of them types a number of its
own. What the engine itself cannot do (patterns shorter or longer than it searches, prices beyond
what float64 squares hold) is defined by the engine and only named here.
"""

import math

from similarity import engine

# A pattern: prices, closes of a stock range, or a sketch's resampled days.
MIN_LENGTH = engine.MIN_LENGTH
MAX_LENGTH = engine.MAX_LENGTH
DEFAULT_SKETCH_DAYS = 60
# Every price and sketch coordinate lies within ±MAX_ABS_VALUE (beyond it squares of deviations
# overflow float64 and a pattern cannot be normalised).
MAX_ABS_VALUE = engine.MAX_CLOSE
MAX_ABS_VALUE_TEXT = f"1e{round(math.log10(MAX_ABS_VALUE))}"  # "1e12", for messages
MAX_SKETCH_POINTS = 10_000
# Characters a page may post: the sketch's JSON and the pasted prices.
MAX_SKETCH_TEXT = 20 * MAX_SKETCH_POINTS
MAX_PRICES_TEXT = 40 * MAX_LENGTH
# Characters of one pasted price with its decoration ("¥12,345,678.25", "1,520 JPY"); a longer
# token is refused before it is read, so reading a paste stays linear in its length.
MAX_PRICE_TOKEN = 40

# Options.
DEFAULT_K = 10
MAX_K = 100
DEFAULT_HORIZONS = engine.DEFAULT_HORIZONS  # (5, 20, 60)
MAX_HORIZON = 250
MAX_HORIZONS = 5
HORIZON_CHOICES = (5, 10, 20, 60, 120, 250)  # offered by the search page
MAX_NAME_LENGTH = 100  # segment and sector names
STRETCH_FACTORS = engine.STRETCH_FACTORS  # also searched with the stretch option
STRETCH_MIN = min(STRETCH_FACTORS)
STRETCH_MAX = max(STRETCH_FACTORS)

# Timeframes: a search runs on daily closes, or on weekly or monthly ones (the split-adjusted close
# of each Monday-to-Sunday week's, or each calendar month's, last trading day). Lengths, horizons
# and stretch count bars of the interval.
INTERVALS = ("day", "week", "month")
DEFAULT_INTERVAL = "day"
DEFAULT_HORIZONS_BY_INTERVAL = {"day": DEFAULT_HORIZONS, "week": (4, 13, 26), "month": (3, 6, 12)}
# "Today's chart": how many of a stock's latest bars a one-tap search takes (今のチャートに似た
# 過去), by interval; the pattern is editable on the results page.
LATEST_BARS_BY_INTERVAL = {"day": 60, "week": 26, "month": 12}
MIN_LENGTH_BY_INTERVAL = {"day": MIN_LENGTH, "week": MIN_LENGTH, "month": MIN_LENGTH}
# Some 2 years of days, 5 years of weeks, 10 years of months.
MAX_LENGTH_BY_INTERVAL = {"day": MAX_LENGTH, "week": 260, "month": 120}
# A year of days or weeks, two years of months.
MAX_HORIZON_BY_INTERVAL = {"day": MAX_HORIZON, "week": 52, "month": 24}
HORIZON_CHOICES_BY_INTERVAL = {
    "day": HORIZON_CHOICES,
    "week": (1, 2, 4, 8, 13, 26, 52),
    "month": (1, 2, 3, 6, 12, 24),
}
# With stretch, the longest pattern (in bars) a search accepts: the stretched copies
# (STRETCH_FACTORS) of a longer weekly or monthly one would outrun most stocks' history.
MAX_STRETCH_LENGTH_BY_INTERVAL = {
    "day": MAX_LENGTH,
    "week": int(MAX_LENGTH_BY_INTERVAL["week"] / STRETCH_MAX),
    "month": int(MAX_LENGTH_BY_INTERVAL["month"] / STRETCH_MAX),
}

# The walk-forward calibration's pattern lengths per interval: a forecast range is learned for
# each interval from its own searches (`manage.py calibrate --interval week`).
CALIBRATION_LENGTHS_BY_INTERVAL = {
    "day": engine.CALIBRATION_LENGTHS,
    "week": (13, 26, 52),
    "month": (6, 12, 24),
}
# Market history a calibration pattern needs before it, in bars: about two years each.
CALIBRATION_MIN_HISTORY_BY_INTERVAL = {"day": engine.MIN_HISTORY_DAYS, "week": 104, "month": 24}

# Saved searches kept per user: older ones are deleted when a new one is saved. A search is
# 15-150 KB (mini charts thinned, see MINI_CHART_POINTS), so at most some 75 MB a user.
SAVED_SEARCHES_KEPT = 500
# Points stored per match for its mini chart (168 pixels wide): window and what followed together.
MINI_CHART_POINTS = 120

# A search's cost: an estimate of the CPU time (all threads) it takes from what it reads,
# calibrated on the 2-core machine (benchmarks/search_cost_bench.py prints it against the CPU
# measured for each case): the whole market (18.3 M closes) in history mode with k=10 takes
# about 110 ms charged for 55-70 ms of CPU measured on 6 Dec (the engine got faster since the rate
# was set at 7.0, which charged stretch and the same period just over twice their CPU), with k=100
# some 15% more, with stretch (five passes) about 0.56 s. Latest mode
# reads one window a stock. The same-period search reads no more than the main search and took a
# fifth to all of its time (similarity.engine.period): it adds SAME_PERIOD_COST_SHARE of it.
SEARCH_COST_MS_PER_MILLION_CLOSES = 6.0
SEARCH_COST_K_SCALE = 500  # k adds k / SCALE of the base cost: more series need full profiles
SAME_PERIOD_COST_SHARE = 0.5
# A history search's base rate: each horizon counted exactly (not in the snapshot's index, or a
# subset of the stocks) reads every window of the scope, some 0.7 s a horizon over the whole
# market; the indexed ones take a few ms together.
BASE_RATE_EXACT_MS_PER_MILLION_CLOSES = 38.0
BASE_RATE_INDEXED_MS = 5.0
# Estimated search CPU one user may spend in a minute, about a tenth of the machine's two cores:
# some 100 ordinary searches, 17 with stretch, or 3 with five horizons counted exactly. Beyond it
# a search answers 429.
SEARCH_COST_MS_PER_MINUTE = 12_000


def search_cost_ms(
    *,
    closes: int,
    series: int,
    length: int,
    k: int,
    stretch: bool,
    mode: str,
    same_period: bool = False,
    base_rate_exact: int = 0,
    base_rate_indexed: int = 0,
) -> float:
    """The estimated CPU milliseconds of one search over `closes` closes in `series` series,
    with the same-period search when it applies, and a history search's base rate with
    `base_rate_exact` horizons counted exactly and `base_rate_indexed` read from the index."""
    passes = 1 + (len(STRETCH_FACTORS) if stretch else 0)
    scanned = series * length if mode == "latest" else closes
    cost = (
        scanned / 1e6 * SEARCH_COST_MS_PER_MILLION_CLOSES * passes * (1 + k / SEARCH_COST_K_SCALE)
    )
    if same_period:
        cost *= 1 + SAME_PERIOD_COST_SHARE
    cost += base_rate_exact_ms(closes=closes, horizons=base_rate_exact)
    return cost + (BASE_RATE_INDEXED_MS if base_rate_indexed else 0.0)


def base_rate_exact_ms(*, closes: int, horizons: int) -> float:
    """The estimated CPU milliseconds of a base rate counted exactly at `horizons` horizons over
    `closes` closes: charged before a search when foreseen, after it when the index fell back."""
    return closes / 1e6 * BASE_RATE_EXACT_MS_PER_MILLION_CLOSES * horizons


def script_limits() -> dict:
    """The limits the page scripts check before posting (read through `json_script`)."""
    return {
        "minDays": MIN_LENGTH,
        "maxDays": MAX_LENGTH,
        "maxSketchPoints": MAX_SKETCH_POINTS,
        # Per interval ("day", "week", "month"): the longest pattern in bars.
        "maxBars": dict(MAX_LENGTH_BY_INTERVAL),
    }
