"""Exact z-normalised pattern search over a market of price series. No Django here."""

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

__all__ = [
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
