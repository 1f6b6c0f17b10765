"""Exact z-normalised pattern search over a market of price series. No Django here.

This module's ``__all__`` is the engine's API: code outside the engine imports only from here.
Inside, dependencies run one way, from the bottom:

* ``series`` (the Market container), ``pattern`` (limits and normalisation), ``kernels``;
* ``intervals`` (weekly and monthly closes from daily ones);
* ``windows`` (which windows a search looks at: series, dates, periods, exclusions);
* ``screen``, ``period``, then ``finder`` (the search);
* ``outcomes``, ``evidence``; ``baseline_index``, ``baseline_query``, then ``baseline``;
* ``buy_and_hold`` (the equal-weighted market of ordinary shares, the base rate's excess),
  ``forecast`` (the calibrated range) and ``verdict`` (sign tests with Holm);
* ``latest`` (many patterns in latest mode) and ``walkforward`` (calibration) on top.
"""

from .baseline import BaseRate, base_rate, base_rate_counted, base_rate_exact_horizons
from .baseline_index import BaselineIndex
from .buy_and_hold import BuyAndHoldBenchmark, ExcessSample, booked_returns, chain_returns
from .evidence import (
    INTERVAL_LEVEL,
    Benchmark,
    Excess,
    bootstrap_intervals,
    collapse,
    episodes,
    excess_returns,
    independent_stats,
    match_episodes,
)
from .finder import STRETCH_FACTORS, Match, search, search_stretched
from .forecast import (
    Forecast,
    ForecastParams,
    Samples,
    forecast_apply,
    forecast_fit,
    forecast_predict,
    trailing_volatility,
)
from .intervals import INTERVALS, market_resample, period_ends
from .latest import LatestHits, latest_hits
from .outcomes import (
    DEFAULT_HORIZONS,
    FAN_PERCENTILES,
    Outcomes,
    OutcomeStats,
    PathCluster,
    PathPercentiles,
    fan_chart,
    forward_paths,
    forward_returns,
    match_outcomes,
    outcome_stats,
    scenario_groups,
    summarize,
)
from .pattern import MAX_LENGTH, MIN_LENGTH, PatternError, normalize_pattern
from .series import MAX_CLOSE, Market
from .verdict import MIN_VERDICT_EPISODES, VERDICT_ALPHA, VERDICTS, holm, sign_test, verdicts
from .walkforward import (
    BURN_IN,
    CALIBRATION_K,
    CALIBRATION_LENGTHS,
    MIN_HISTORY_DAYS,
    MIN_SKILL_PATTERNS,
    SampleRow,
    as_of_end,
    calibration_draws,
    calibration_table,
    draw_samples,
    final_recency,
    market_calendar,
    pattern_rows,
    samples_of,
    scored,
    usable,
    walk_forward_predict,
)

__all__ = [
    # the market and the pattern
    "MAX_CLOSE",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "Market",
    "PatternError",
    "normalize_pattern",
    # timeframes
    "INTERVALS",
    "market_resample",
    "period_ends",
    # the search
    "STRETCH_FACTORS",
    "Match",
    "search",
    "search_stretched",
    "LatestHits",
    "latest_hits",
    # what followed the matches
    "DEFAULT_HORIZONS",
    "FAN_PERCENTILES",
    "PathPercentiles",
    "OutcomeStats",
    "Outcomes",
    "PathCluster",
    "fan_chart",
    "forward_paths",
    "forward_returns",
    "outcome_stats",
    "match_outcomes",
    "scenario_groups",
    "summarize",
    # evidence and base rates
    "INTERVAL_LEVEL",
    "Benchmark",
    "Excess",
    "bootstrap_intervals",
    "collapse",
    "episodes",
    "excess_returns",
    "independent_stats",
    "match_episodes",
    "BaselineIndex",
    "base_rate",
    "BaseRate",
    "base_rate_counted",
    "BuyAndHoldBenchmark",
    "ExcessSample",
    "booked_returns",
    "chain_returns",
    # the verdicts
    "MIN_VERDICT_EPISODES",
    "VERDICT_ALPHA",
    "VERDICTS",
    "holm",
    "sign_test",
    "verdicts",
    # the forecast
    "Forecast",
    "ForecastParams",
    "Samples",
    "forecast_apply",
    "forecast_fit",
    "forecast_predict",
    "trailing_volatility",
    "base_rate_exact_horizons",
    # walk-forward calibration
    "CALIBRATION_K",
    "CALIBRATION_LENGTHS",
    "MIN_HISTORY_DAYS",
    "MIN_SKILL_PATTERNS",
    "SampleRow",
    "as_of_end",
    "calibration_table",
    "draw_samples",
    "market_calendar",
    "pattern_rows",
    "samples_of",
    "usable",
    "walk_forward_predict",
    "BURN_IN",
    "calibration_draws",
    "final_recency",
    "scored",
]
