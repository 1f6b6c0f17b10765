"""Exact z-normalised pattern search over a market of price series. No Django here."""

from .alerts import LatestHits, latest_hits
from .finder import (
    MAX_LENGTH,
    MIN_LENGTH,
    STRETCH_FACTORS,
    Match,
    PatternError,
    normalize_pattern,
    search,
    search_stretched,
)
from .market import Market
from .outcomes import (
    DEFAULT_HORIZONS,
    FAN_PERCENTILES,
    FanChart,
    HorizonStats,
    Outcomes,
    ScenarioGroup,
    fan_chart,
    forward_paths,
    forward_returns,
    horizon_stats,
    outcomes,
    scenario_groups,
)

__all__ = [
    "LatestHits",
    "latest_hits",
    "DEFAULT_HORIZONS",
    "FAN_PERCENTILES",
    "FanChart",
    "HorizonStats",
    "Outcomes",
    "ScenarioGroup",
    "fan_chart",
    "forward_paths",
    "forward_returns",
    "horizon_stats",
    "outcomes",
    "scenario_groups",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "STRETCH_FACTORS",
    "Market",
    "Match",
    "PatternError",
    "normalize_pattern",
    "search",
    "search_stretched",
]
