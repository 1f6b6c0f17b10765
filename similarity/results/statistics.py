"""The statistics block of a history search's result: outcomes, episodes and evidence per horizon.

`similarity.results.builder` assembles the whole result (schema in `schema`) and calls
`history_statistics`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from similarity.engine import (
    Benchmark,
    Excess,
    Market,
    Match,
    Outcomes,
    OutcomeStats,
    bootstrap_intervals,
    collapse,
    excess_returns,
    independent_stats,
    match_episodes,
    match_outcomes,
    summarize,
    verdict,
)

if TYPE_CHECKING:
    from similarity.results.schema import Distribution, HorizonStats


@functools.cache
def _threadpools() -> ThreadpoolController:
    import sklearn.cluster  # noqa: F401  (loads the OpenMP runtime, so that limits reach it)

    return ThreadpoolController()


# Fewer independent episodes than this, or a median correlation below WEAK_CORRELATION, and the
# result says that its statistics are weak.
MIN_EPISODES = 10
WEAK_CORRELATION = 0.8


class HistoryStatistics(NamedTuple):
    summary: Outcomes | None  # None when nothing was found
    stats: list[HorizonStats]
    labels: np.ndarray  # episode of each match (0-based)
    excess: Excess  # market-relative return per match and horizon, and the benchmark of each


def history_statistics(
    market: Market,
    found: Sequence[Match],
    horizons: list[int],
    *,
    baselines: list[OutcomeStats] | None,
    benchmark: Benchmark | None,
    twins: np.ndarray | None = None,
) -> HistoryStatistics:
    """Outcomes, episodes, market-relative returns and per-horizon evidence of a history search.

    ``twins`` gives each series of the market the id of its underlying (-1: none), so that an
    ETF and its leveraged or inverse twin are one episode. With no match, the statistics still
    carry the base rates when there are any.
    """
    summary = None
    stats: list[HorizonStats] = []
    labels = np.zeros(len(found), dtype=np.int64)
    excess = Excess(np.full((len(found), len(horizons)), np.nan), [None] * len(found))
    if found:
        # Scenario clustering (scikit-learn) on one OpenMP thread: with several web workers per
        # core, a thread team per request spins and waits; one thread is 10x faster under load.
        with _threadpools().limit(limits=1):
            summary = match_outcomes(market, found, horizons)
        returns = np.array(
            [[np.nan if v is None else v for v in row] for row in summary.returns], dtype=float
        )
        labels = match_episodes(market, found, twins)
        if benchmark is not None:
            excess = excess_returns(market, found, horizons, returns, benchmark)
        stats = _evidence(returns, excess.values, labels, horizons, baselines)
    elif baselines is not None:
        empty = np.zeros((0, len(horizons)))
        stats = _evidence(empty, empty, labels, horizons, baselines)
    return HistoryStatistics(summary, stats, labels, excess)


def _distribution(stat: OutcomeStats) -> Distribution:
    return {
        "count": stat.count,
        **{
            name: None if getattr(stat, name) is None else round_value(getattr(stat, name))
            for name in ("mean", "median", "q25", "q75", "share_positive")
        },
    }


def _evidence(
    returns: np.ndarray,
    excess: np.ndarray,
    labels: np.ndarray,
    horizons: list[int],
    baselines: list[OutcomeStats] | None,
) -> list[HorizonStats]:
    """Per horizon: the episodes' statistics, the base rate, the market-relative statistics,
    the bootstrap intervals (fixed seed) and the verdict."""
    own = independent_stats(returns, labels, horizons)
    relative = independent_stats(excess, labels, horizons)
    out: list[HorizonStats] = []
    for j, h in enumerate(horizons):
        values = collapse(returns[:, j], labels) if len(returns) else np.zeros(0)
        interval = bootstrap_intervals(values)
        base = baselines[j] if baselines is not None else None
        out.append(
            {
                "horizon": h,
                **_distribution(own[j]),
                "matches": int(np.count_nonzero(~np.isnan(returns[:, j]))) if len(returns) else 0,
                "baseline": {
                    **_distribution(base or summarize(np.zeros(0), h)),
                    "p10": None if base is None or base.p10 is None else round_value(base.p10),
                    "p90": None if base is None or base.p90 is None else round_value(base.p90),
                },
                "excess": _distribution(relative[j]),
                "interval": {
                    name: None
                    if bounds is None
                    else [round_value(bounds[0]), round_value(bounds[1])]
                    for name, bounds in interval.items()
                },
                "verdict": verdict(base.median if base else None, interval["median"]),
            }
        )
    return out


def result_warnings(found: Sequence[Match], stats: list[HorizonStats]) -> list[str]:
    warnings = []
    if not stats or stats[0]["count"] < MIN_EPISODES:
        warnings.append("few_matches")
    if found and float(np.median([match.correlation for match in found])) < WEAK_CORRELATION:
        warnings.append("weak_matches")
    return warnings


def round_value(value: float) -> float:
    """A number as the result stores it (6 decimals)."""
    return round(float(value), 6)
