"""What happened after the matches: forward returns, their statistics, fan bands, scenarios.

Pure functions of a Market and a list of matches (anything with ``.series`` and ``.stop``). A
match ends at index ``e = stop - 1``; the return after ``h`` closes is ``close[e+h]/close[e]-1``,
absent (NaN in arrays, None in the dataclasses) when the series ends first. Everything returned
is made of plain floats, ints, lists and dicts, so ``dataclasses.asdict`` gives JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .kmeans import kmeans_labels, silhouette
from .series import Market

DEFAULT_HORIZONS = (5, 20, 60)
FAN_PERCENTILES = (10, 25, 50, 75, 90)
MAX_GROUPS = 4
# Fewer complete paths than this form a single group: clusters of two or three are noise.
MIN_PATHS_TO_SPLIT = 8
# Below this mean silhouette the paths show no structure worth splitting.
MIN_SILHOUETTE = 0.25


@dataclass(frozen=True)
class OutcomeStats:
    """The distribution of forward returns at one horizon (of a search's matches, its episodes
    or a base rate): how many, mean, quartiles, 10th and 90th percentiles, share positive."""

    horizon: int
    count: int
    mean: float | None
    median: float | None
    q25: float | None
    q75: float | None
    share_positive: float | None
    p10: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class PathPercentiles:
    horizon: int
    days: list[int]
    count: int  # paths drawn: one per episode when episodes were given
    bands: dict[str, list[float]]  # "p10", "p25", "p50", "p75", "p90": ratios, 1.0 at day 0


@dataclass(frozen=True)
class PathCluster:
    share: float  # of the paths grouped (episodes, when given)
    count: int  # paths in the group (episodes, when given)
    median_path: list[float]  # ratios to the match's last close, day 0..horizon
    median_return: float
    members: list[int]  # positions in the list of matches given


@dataclass(frozen=True)
class Outcomes:
    horizons: list[int]
    returns: list[list[float | None]]  # per match, per horizon
    stats: list[OutcomeStats]
    fan: PathPercentiles | None
    groups: list[PathCluster]


def _ends(market: Market, matches) -> tuple[np.ndarray, np.ndarray]:
    """Absolute index of each match's last close, and of its series' last close."""
    series = np.fromiter((mt.series for mt in matches), dtype=np.int64, count=len(matches))
    stops = np.fromiter((mt.stop for mt in matches), dtype=np.int64, count=len(matches))
    return market.offsets[series] + stops - 1, market.offsets[series + 1] - 1


def forward_returns(
    market: Market, matches: Sequence, horizons: Sequence[int] = DEFAULT_HORIZONS
) -> np.ndarray:
    """The return after each match at each horizon.

    Parameters
    ----------
    market : Market
        The market the matches come from.
    matches : sequence of Match
        Matched windows (``series`` and ``stop`` are read).
    horizons : sequence of int
        Closes after the match's last close, each at least 1.

    Returns
    -------
    numpy.ndarray of float64, shape (len(matches), len(horizons))
        ``close[end + h] / close[end] - 1``; NaN where the series ends before ``end + h``.
    """
    horizons = _check_horizons(horizons)
    out = np.full((len(matches), len(horizons)), np.nan)
    if not len(matches):
        return out
    end, last = _ends(market, matches)
    closes = market.closes
    for j, h in enumerate(horizons):
        ok = end + h <= last
        out[ok, j] = closes[end[ok] + h] / closes[end[ok]] - 1.0
    return out


def forward_paths(market: Market, matches: Sequence, horizon: int) -> np.ndarray:
    """The path of closes after each match, relative to its last close.

    Parameters
    ----------
    market : Market
        The market the matches come from.
    matches : sequence of Match
        Matched windows.
    horizon : int
        Closes after the match to follow, at least 1.

    Returns
    -------
    numpy.ndarray of float64, shape (len(matches), horizon + 1)
        ``close[end .. end + horizon] / close[end]`` (1.0 at day 0); an incomplete path is NaN
        from its series' end on.
    """
    horizon = _check_horizons([horizon])[0]
    out = np.full((len(matches), horizon + 1), np.nan)
    if not len(matches):
        return out
    end, last = _ends(market, matches)
    closes = market.closes
    for t in range(len(matches)):
        stop = min(int(end[t]) + horizon, int(last[t])) + 1
        out[t, : stop - end[t]] = closes[end[t] : stop] / closes[end[t]]
    return out


def outcome_stats(returns: np.ndarray, horizons: Sequence[int]) -> list[OutcomeStats]:
    """Count, mean, median, quartiles and share positive of each column of ``returns``.

    Parameters
    ----------
    returns : numpy.ndarray of float64, shape (matches, len(horizons))
        As from :func:`forward_returns`; NaN values are left out.
    horizons : sequence of int
        The horizon of each column.

    Returns
    -------
    list of OutcomeStats
        One per horizon; its figures are None when no match has a return there.
    """
    return [
        summarize(returns[:, j][~np.isnan(returns[:, j])] if len(returns) else np.zeros(0), h)
        for j, h in enumerate(horizons)
    ]


def summarize(values: np.ndarray, horizon: int) -> OutcomeStats:
    """Count, mean, quartiles, 10th and 90th percentiles (``numpy.percentile``'s linear rule)
    and share positive of ``values`` (NaN-free)."""
    if values.size == 0:
        return OutcomeStats(int(horizon), 0, None, None, None, None, None)
    p10, q25, median, q75, p90 = np.percentile(values, (10, 25, 50, 75, 90))
    return OutcomeStats(
        horizon=int(horizon),
        count=int(values.size),
        mean=float(values.mean()),
        median=float(median),
        q25=float(q25),
        q75=float(q75),
        share_positive=float(np.mean(values > 0)),
        p10=float(p10),
        p90=float(p90),
    )


def episode_paths(paths: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, list]:
    """The complete paths, one per episode (the median path of its members' complete paths)
    when ``labels`` (each match's episode) are given, else one per match; and per path, the
    positions of the matches it stands for."""
    complete = np.flatnonzero(~np.isnan(paths).any(axis=1)) if len(paths) else np.zeros(0, int)
    if labels is None:
        return paths[complete], [[int(t)] for t in complete]
    out, members = [], []
    for label in dict.fromkeys(np.asarray(labels)[complete].tolist()):
        inside = complete[np.asarray(labels)[complete] == label]
        out.append(np.median(paths[inside], axis=0))
        members.append([int(t) for t in inside])
    return (np.array(out) if out else np.zeros((0, paths.shape[1]))), members


def fan_chart(
    market: Market,
    matches: Sequence,
    horizon: int,
    percentiles: Sequence[float] = FAN_PERCENTILES,
    labels: np.ndarray | None = None,
) -> PathPercentiles | None:
    """Percentile bands of the complete paths after the matches.

    Parameters
    ----------
    market, matches, horizon
        As for :func:`forward_paths`.
    percentiles : sequence of float
        The bands drawn, in percent.
    labels : array of int, optional
        Each match's episode: an episode's matches are one path (their median), so that
        overlapping matches count once.

    Returns
    -------
    PathPercentiles or None
        The bands over day 0..horizon, named ``p10``, ``p25``...; None when no path is complete.
    """
    complete, _members = episode_paths(forward_paths(market, matches, horizon), labels)
    if complete.shape[0] == 0:
        return None
    bands = np.percentile(complete, percentiles, axis=0)
    return PathPercentiles(
        horizon=int(horizon),
        days=list(range(int(horizon) + 1)),
        count=int(complete.shape[0]),
        bands={
            f"p{p:g}": [float(v) for v in row] for p, row in zip(percentiles, bands, strict=True)
        },
    )


def scenario_groups(
    market: Market,
    matches: Sequence,
    horizon: int,
    max_groups: int = MAX_GROUPS,
    seed: int = 0,
    labels: np.ndarray | None = None,
) -> list[PathCluster]:
    """Cluster the complete paths after the matches into at most ``max_groups`` scenarios.

    KMeans on the log paths, with the number of groups (2..max_groups) chosen by the best mean
    silhouette; one group when there are too few paths or no clear structure.

    Parameters
    ----------
    market, matches, horizon
        As for :func:`forward_paths`; only complete paths are grouped.
    max_groups : int
        The most groups returned.
    seed : int
        KMeans' seed: the same seed gives the same groups.
    labels : array of int, optional
        Each match's episode: an episode's matches are one path (their median), grouped, counted
        and shared once.

    Returns
    -------
    list of PathCluster
        Sorted by median return, best first; empty when no path is complete.
    """
    complete, members = episode_paths(forward_paths(market, matches, horizon), labels)
    if complete.shape[0] == 0:
        return []
    clusters = _cluster(np.log(complete[:, 1:]), max_groups, seed)
    groups = []
    for cluster in np.unique(clusters):
        inside = clusters == cluster
        median_path = np.median(complete[inside], axis=0)
        groups.append(
            PathCluster(
                share=float(inside.mean()),
                count=int(inside.sum()),
                median_path=[float(v) for v in median_path],
                median_return=float(np.median(complete[inside, -1]) - 1.0),
                members=sorted(t for i in np.flatnonzero(inside) for t in members[i]),
            )
        )
    groups.sort(key=lambda g: (-g.median_return, g.members[0]))
    return groups


def _cluster(features: np.ndarray, max_groups: int, seed: int) -> np.ndarray:
    """Labels of the best KMeans clustering of 2..max_groups groups by mean silhouette (the
    runs of scikit-learn's KMeans with 10 seedings, replayed by :mod:`.kmeans`)."""
    n = features.shape[0]
    single = np.zeros(n, dtype=np.int64)
    if n < MIN_PATHS_TO_SPLIT or max_groups < 2:
        return single
    distinct = np.unique(np.round(features, 12), axis=0).shape[0]
    best, best_score = single, MIN_SILHOUETTE
    for groups in range(2, min(max_groups, distinct - 1, n - 1) + 1):
        labels = kmeans_labels(features, groups, seed)
        if np.unique(labels).size < 2:
            continue
        score = silhouette(features, labels)
        if score > best_score:
            best, best_score = labels, score
    return best


def match_outcomes(
    market: Market,
    matches: Sequence,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    seed: int = 0,
    labels: np.ndarray | None = None,
) -> Outcomes:
    """Everything the result page shows about what followed the matches.

    Parameters
    ----------
    market : Market
        The market the matches come from.
    matches : sequence of Match
        Matched windows, best first.
    horizons : sequence of int
        Closes after each match at which returns are measured.
    seed : int
        Seed of the scenario clustering.
    labels : array of int, optional
        Each match's episode: the fan and the scenarios then count each episode once.

    Returns
    -------
    Outcomes
        Returns per match and horizon (None where absent), statistics per horizon, and the fan
        bands and scenario groups at the longest horizon.
    """
    horizons = _check_horizons(horizons)
    returns = forward_returns(market, matches, horizons)
    longest = max(horizons)
    return Outcomes(
        horizons=list(horizons),
        returns=[[None if np.isnan(v) else float(v) for v in row] for row in returns],
        stats=outcome_stats(returns, horizons),
        fan=fan_chart(market, matches, longest, labels=labels),
        groups=scenario_groups(market, matches, longest, seed=seed, labels=labels),
    )


def _check_horizons(horizons: Sequence[int]) -> list[int]:
    values = [int(h) for h in horizons]
    if not values or any(h < 1 for h in values):
        raise ValueError("horizons must be positive numbers of closes")
    return values
