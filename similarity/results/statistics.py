"""The statistics block of a history search's result: outcomes, episodes and evidence per horizon.

`similarity.results.builder` assembles the whole result (schema in `schema`) and calls
`history_statistics`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from similarity.engine import (
    Benchmark,
    Excess,
    ForecastParams,
    Market,
    Match,
    Outcomes,
    OutcomeStats,
    booked_returns,
    bootstrap_intervals,
    chain_returns,
    collapse,
    excess_returns,
    forecast_apply,
    match_episodes,
    match_outcomes,
    summarize,
    verdicts,
)

if TYPE_CHECKING:
    from similarity.results.schema import Distribution, HorizonStats, Interval


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
    returns: np.ndarray  # per match and horizon, delisted matches booked at their last close
    booked: np.ndarray  # per match and horizon: booked at the stock's last close


@dataclass(frozen=True)
class ForecastInput:
    """What the forecast of a search needs besides its statistics: the learned parameters, the
    pattern's length and its trailing volatility (None: a sketch), and the model's version,
    data date and demo flag as the result names them (`results.ForecastModelInfo`)."""

    params: ForecastParams
    length: int
    volatility: float | None
    model: dict


def history_statistics(
    market: Market,
    found: Sequence[Match],
    horizons: list[int],
    *,
    baselines: list[OutcomeStats] | None,
    benchmark: Benchmark | None,
    twins: np.ndarray | None = None,
    base_excess: list[float | None] | None = None,
    forecast: ForecastInput | None = None,
    calendar: np.ndarray | None = None,
) -> HistoryStatistics:
    """Outcomes, episodes, market-relative returns and per-horizon evidence of a history search.

    ``twins`` gives each series of the market the id of its underlying (-1: none), so that an
    ETF and its leveraged or inverse twin are one episode. ``base_excess`` is the base rate's
    median excess return per horizon, ``forecast`` what the forecast needs (None: no forecast),
    ``calendar`` the market's trading days (to book a delisted match at its last close once its
    horizon has passed). With no match, the statistics still carry the base rates when there
    are any.
    """
    summary = None
    horizons_count = len(horizons)
    labels = np.zeros(len(found), dtype=np.int64)
    excess = Excess(np.full((len(found), horizons_count), np.nan), [None] * len(found))
    returns = np.zeros((0, horizons_count))
    booked = np.zeros((len(found), horizons_count), dtype=bool)
    if found:
        labels = match_episodes(market, found, twins)
        # Scenario clustering (scikit-learn) on one OpenMP thread: with several web workers per
        # core, a thread team per request spins and waits; one thread is 10x faster under load.
        with _threadpools().limit(limits=1):
            summary = match_outcomes(market, found, horizons, labels=labels)
        returns, booked = booked_returns(market, found, horizons, calendar)
        if benchmark is not None:
            excess = _booked_excess(
                market,
                found,
                horizons,
                returns,
                booked,
                benchmark,
                excess_returns(market, found, horizons, returns, benchmark),
            )
    stats = []
    if found or baselines is not None:
        context = _Context(baselines, base_excess, forecast)
        stats = _evidence(returns, excess.values, labels, horizons, context, booked)
    return HistoryStatistics(summary, stats, labels, excess, returns, booked)


def _booked_excess(market, found, horizons, returns, booked, benchmark, excess: Excess) -> Excess:
    """The excess returns with those of booked matches filled in: the match's return to its
    stock's last close minus the market's over the same days."""
    if not booked.any():
        return excess
    values = excess.values.copy()
    sources = list(excess.sources)
    offsets = np.asarray(market.offsets)
    dates = np.asarray(market.dates)
    for t, j in zip(*np.nonzero(booked), strict=True):
        match = found[t]
        end = offsets[match.series] + match.stop - 1
        last = offsets[match.series + 1] - 1
        market_return = chain_returns(benchmark, dates[[end]], dates[[last]])[0]
        values[t, j] = returns[t, j] - market_return
        if sources[t] is None and not np.isnan(market_return):
            sources[t] = _covering_name(benchmark, dates[end], dates[last])
    return Excess(values, sources)


def _covering_name(benchmark, start, end) -> str | None:
    while benchmark is not None and not benchmark.covers(start, end):
        benchmark = benchmark.fallback
    return None if benchmark is None else benchmark.name


class _Context(NamedTuple):
    baselines: list[OutcomeStats] | None
    base_excess: list[float | None] | None
    forecast: ForecastInput | None


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
    context: _Context,
    booked: np.ndarray,
) -> list[HorizonStats]:
    """Per horizon: the episodes' statistics, the base rate (with its median excess), the
    market-relative statistics, the bootstrap intervals (fixed seed; with MIN_EPISODES or more
    episodes, else the episodes' range), the verdict and the forecast."""
    # One value per episode (independent_stats' own, collapsed once and summarised here).
    episode_values = [_collapsed(returns[:, j], labels) for j in range(len(horizons))]
    episode_excess = [_collapsed(excess[:, j], labels) for j in range(len(horizons))]
    own = [summarize(episode_values[j], h) for j, h in enumerate(horizons)]
    relative = [summarize(episode_excess[j], h) for j, h in enumerate(horizons)]
    base_excess = context.base_excess or [None] * len(horizons)
    judged = verdicts(episode_excess, base_excess)
    out: list[HorizonStats] = []
    for j, h in enumerate(horizons):
        values = episode_values[j]
        base = context.baselines[j] if context.baselines is not None else None
        out.append(
            {
                "horizon": h,
                **_distribution(own[j]),
                "matches": int(np.count_nonzero(~np.isnan(returns[:, j]))) if len(returns) else 0,
                "booked": int(booked[:, j].sum()) if len(booked) else 0,
                "baseline": {
                    **_distribution(base or summarize(np.zeros(0), h)),
                    "p10": None if base is None or base.p10 is None else round_value(base.p10),
                    "p90": None if base is None or base.p90 is None else round_value(base.p90),
                    "excess_median": None
                    if base_excess[j] is None
                    else round_value(base_excess[j]),
                },
                "excess": _distribution(relative[j]),
                "interval": _interval(values),
                "verdict": judged[j],
                "forecast": _forecast(context.forecast, h, base, values),
            }
        )
    return out


def _collapsed(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return collapse(values, labels) if len(values) else np.zeros(0)


def _interval(values: np.ndarray) -> Interval:
    """The bootstrap intervals with MIN_EPISODES episodes or more; below, none, and the
    episodes' own range instead (a percentile bootstrap of a few values covers far less than
    it says)."""
    if values.size < MIN_EPISODES:
        return {
            "median": None,
            "share_positive": None,
            "range": [round_value(values.min()), round_value(values.max())]
            if values.size
            else None,
        }
    interval = bootstrap_intervals(values)
    return {
        **{
            name: None if bounds is None else [round_value(bounds[0]), round_value(bounds[1])]
            for name, bounds in interval.items()
        },
        "range": None,
    }


def _forecast(given: ForecastInput | None, h: int, base, values: np.ndarray) -> dict | None:
    if given is None or base is None:
        return None
    quantiles = (base.p10, base.q25, base.median, base.q75, base.p90)
    made = forecast_apply(
        given.params,
        length=given.length,
        horizon=h,
        base=quantiles,
        volatility=given.volatility,
        episode_returns=values,
    )
    if made is None:
        return None
    return {name: round_value(value) for name, value in asdict(made).items()}


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
