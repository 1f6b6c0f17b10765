"""Exact z-normalised pattern search over a market of price series. No Django here.

This module's ``__all__`` is the engine's API: code outside the engine imports only from here.
Inside, dependencies run one way, from the bottom:

* ``series`` (the Market container), ``pattern`` (limits and normalisation), ``kernels``;
* ``windows`` (which windows a search looks at: series, dates, periods, exclusions);
* ``screen``, ``period``, then ``finder`` (the search);
* ``outcomes``, ``evidence``; ``baseline_index``, ``baseline_query``, then ``baseline``;
* ``latest`` (many patterns in latest mode) and ``walkforward`` (calibration) on top.
"""

from .baseline import base_rate
from .baseline_index import BaselineIndex
from .evidence import (
    INTERVAL_LEVEL,
    Benchmark,
    Excess,
    bootstrap_intervals,
    collapse,
    episodes,
    equal_weighted_benchmark,
    excess_returns,
    independent_stats,
    match_episodes,
    verdict,
)
from .finder import STRETCH_FACTORS, Match, search, search_stretched
from .latest import LatestHits, latest_hits
from .outcomes import (
    DEFAULT_HORIZONS,
    FAN_PERCENTILES,
    FanChart,
    Outcomes,
    OutcomeStats,
    ScenarioGroup,
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
from .walkforward import (
    CALIBRATION_K,
    CALIBRATION_LENGTHS,
    CalibrationRow,
    SampleOutcome,
    calibration_table,
    draw_samples,
    market_calendar,
    sample_outcomes,
)

__all__ = [
    # the market and the pattern
    "MAX_CLOSE",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "Market",
    "PatternError",
    "normalize_pattern",
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
    "FanChart",
    "OutcomeStats",
    "Outcomes",
    "ScenarioGroup",
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
    "equal_weighted_benchmark",
    "excess_returns",
    "independent_stats",
    "match_episodes",
    "verdict",
    "BaselineIndex",
    "base_rate",
    # walk-forward calibration
    "CALIBRATION_K",
    "CALIBRATION_LENGTHS",
    "CalibrationRow",
    "SampleOutcome",
    "calibration_table",
    "draw_samples",
    "market_calendar",
    "sample_outcomes",
]
