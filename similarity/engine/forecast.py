"""The forecast a history search shows: a calibrated predictive range per horizon.

It starts from the base rate (what followed every window that could have been a match), scaled to
the pattern's own trailing volatility: a quiet stock's range is narrower than a wild one's, which
the z-normalised matches cannot know. It moves toward the matches' own quantiles (one value per
episode) only by a weight learned walk-forward, zero where they add nothing. Then each band is
widened (or narrowed) around the median by a split-conformal factor learned walk-forward per
horizon and volatility third, so that the 10-90 range holds 80% of outcomes and the 25-75 range
50%.

The conformal factor is the weighted quantile of past scores, each weighted by its recency (half
a weight every HALF_LIFE_YEARS: the nonexchangeable split conformal of Barber, Candès, Ramdas and
Tibshirani, 2023): markets change, and walk-forward on jp_daily a factor learned with every
year alike let the 10-90 range hold 86-87% in the quiet third at 60 days and the 25-75 range
46-47% in the wild third at 20 days (see docs/statistics.md). It is pooled over the pattern
lengths (after the volatility scaling the length changes little), so that each horizon x third
has three times the samples; the lengths keep their own matches' weight.

Everything here is arrays in, arrays out: :func:`forecast_fit` learns :class:`ForecastParams`
from walk-forward samples (see :mod:`.walkforward`), :func:`forecast_apply` applies them to one
search. Scores: the quantile score averaged over the five published levels (twice the mean
pinball loss, the usual approximation of the CRPS from quantiles) and the Brier score of P(up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
QUANTILE_NAMES = ("p10", "p25", "p50", "p75", "p90")
# Trailing daily returns that measure a pattern's volatility.
VOLATILITY_DAYS = 60
MIN_VOLATILITY_RETURNS = 5
# Bounds of the volatility ratio (pattern / typical window) applied to the base rate.
RATIO_BOUNDS = (0.25, 4.0)
# The matches count toward the forecast only with this many episodes at the horizon.
MIN_FORECAST_EPISODES = 5
# Grids the walk-forward fit chooses from.
EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))
# A conformal cell with fewer samples than this uses its length x horizon pooled over thirds,
# and that with fewer uses no widening at all.
MIN_CONFORMAL_SAMPLES = 30
# The recency weight of a learned sample halves every this many years (by its outcome's day).
HALF_LIFE_YEARS = 2.0
# A weight other than zero must beat zero by this many standard errors of the paired difference.
WEIGHT_MIN_Z = 3.0
POOLED = 3  # the volatility "third" of a pattern without a volatility (a sketch)
# The central ranges published, with the share of outcomes each should hold.
BANDS = ((0, 4, 0.8), (1, 3, 0.5))


def trailing_volatility(closes: np.ndarray, days: int = VOLATILITY_DAYS) -> float | None:
    """The standard deviation of the last ``days`` daily log returns of ``closes`` (fewer when
    there are fewer); None with fewer than MIN_VOLATILITY_RETURNS returns or a price at or
    below zero."""
    values = np.asarray(closes, dtype=np.float64)[-(days + 1) :]
    if values.size < MIN_VOLATILITY_RETURNS + 1 or not np.all(values > 0):
        return None
    return float(np.std(np.diff(np.log(values)), ddof=1))


@dataclass(frozen=True)
class ForecastParams:
    """What ``calibrate`` learned, per pattern length (``lengths``) and horizon (``horizons``).

    ``reference_volatility`` is the median trailing volatility of the sampled patterns (a
    typical window), ``volatility_cuts`` the bounds of the thirds. ``exponents[j]`` is how
    strongly the base rate follows the volatility ratio at horizon ``j``; ``weights[i, j]`` the
    matches' weight; ``widen[i, j, t, b]`` the conformal factor of band ``b`` (0: 10-90, 1:
    25-75) for volatility third ``t`` (``POOLED``: all thirds together), learned over every
    length (the same for each ``i``; a model stored before that has its own per length).
    """

    lengths: tuple[int, ...]
    horizons: tuple[int, ...]
    reference_volatility: float
    volatility_cuts: tuple[float, float]
    exponents: np.ndarray  # (horizons,)
    weights: np.ndarray  # (lengths, horizons)
    widen: np.ndarray  # (lengths, horizons, 4, 2)

    @classmethod
    def neutral(cls, lengths, horizons) -> ForecastParams:
        """Before anything was learned: the plain base rate (not scaled, no matches, no
        widening)."""
        shape = (len(lengths), len(horizons))
        return cls(
            lengths=tuple(int(m) for m in lengths),
            horizons=tuple(int(h) for h in horizons),
            reference_volatility=1.0,
            volatility_cuts=(np.inf, np.inf),
            exponents=np.zeros(len(horizons)),
            weights=np.zeros(shape),
            widen=np.ones((*shape, 4, 2)),
        )

    def to_json(self) -> dict:
        return {
            "lengths": list(self.lengths),
            "horizons": list(self.horizons),
            "reference_volatility": self.reference_volatility,
            "volatility_cuts": list(self.volatility_cuts),
            "exponents": np.round(self.exponents, 4).tolist(),
            "weights": np.round(self.weights, 4).tolist(),
            "widen": np.round(self.widen, 4).tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> ForecastParams:
        return cls(
            lengths=tuple(int(m) for m in data["lengths"]),
            horizons=tuple(int(h) for h in data["horizons"]),
            reference_volatility=float(data["reference_volatility"]),
            volatility_cuts=tuple(float(v) for v in data["volatility_cuts"]),
            exponents=np.asarray(data["exponents"], dtype=np.float64),
            weights=np.asarray(data["weights"], dtype=np.float64),
            widen=np.asarray(data["widen"], dtype=np.float64),
        )

    def third(self, volatility: float | None) -> int:
        """The volatility third (0 low, 1 middle, 2 high) of a pattern; POOLED without one."""
        if volatility is None or not np.isfinite(volatility):
            return POOLED
        return int(np.searchsorted(np.asarray(self.volatility_cuts), volatility, side="right"))

    def cell(self, length: int, horizon: int) -> tuple[int, int]:
        """The learned length and horizon nearest (on a log scale) to a search's."""
        return _nearest(self.lengths, length), _nearest(self.horizons, horizon)


def _nearest(values: tuple[int, ...], value: int) -> int:
    return int(np.argmin(np.abs(np.log(np.asarray(values, dtype=float)) - np.log(value))))


@dataclass(frozen=True)
class Forecast:
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    matches_weight: float


def forecast_apply(
    params: ForecastParams,
    *,
    length: int,
    horizon: int,
    base: np.ndarray,
    volatility: float | None,
    episode_returns: np.ndarray,
) -> Forecast | None:
    """The forecast of one search at one horizon.

    Parameters
    ----------
    params : ForecastParams
        The latest learned parameters.
    length, horizon : int
        The pattern's length and the horizon in closes.
    base : array of 5 floats
        The base rate's 10th, 25th, 50th, 75th and 90th percentiles (None values: no forecast).
    volatility : float or None
        The pattern's :func:`trailing_volatility` (None: a sketch, the base rate unscaled).
    episode_returns : array of float
        One return per episode of the matches (NaN-free).

    Returns
    -------
    Forecast or None
        The quantiles as returns (fractions) and the weight the matches got; None when the base
        rate has no quantiles.
    """
    if any(value is None for value in base):
        return None
    i, j = params.cell(length, horizon)
    third = params.third(volatility)
    ratio = 1.0 if third == POOLED else volatility / params.reference_volatility
    scaled = scale_base(
        np.asarray(base, dtype=np.float64)[None, :], np.array([ratio]), params.exponents[j]
    )
    matches = episode_quantiles(episode_returns)[None, :]
    weight = float(params.weights[i, j]) if np.isfinite(matches).all() else 0.0
    blended = blend(scaled, matches, np.array([weight]))
    final = widen(blended, params.widen[i, j, third][None, :])[0]
    return Forecast(*(float(v) for v in final), matches_weight=weight)


def episode_quantiles(values: np.ndarray) -> np.ndarray:
    """The five levels' quantiles of the episodes' returns; NaN with too few episodes."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size < MIN_FORECAST_EPISODES:
        return np.full(LEVELS.size, np.nan)
    return np.percentile(values, LEVELS * 100)


def scale_base(base: np.ndarray, ratio: np.ndarray, exponent: float) -> np.ndarray:
    """Each row of base-rate quantiles spread around its median by ``ratio ** exponent``."""
    factor = np.clip(ratio, *RATIO_BOUNDS) ** exponent
    median = base[:, 2:3]
    return median + (base - median) * factor[:, None]


def blend(scaled: np.ndarray, matches: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Quantile averaging: ``(1 - w) * scaled + w * matches`` where the matches have quantiles."""
    weight = np.where(np.isfinite(matches).all(axis=1), weight, 0.0)[:, None]
    return scaled + weight * (np.nan_to_num(matches) - scaled)


def widen(quantiles: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Each band spread around the median by its factor (``factors[:, b]`` for ``BANDS[b]``);
    the 25-75 range is kept inside the 10-90 one."""
    out = quantiles.copy()
    median = quantiles[:, 2]
    for b, (lo, hi, _share) in enumerate(BANDS):
        out[:, lo] = median - factors[:, b] * (median - quantiles[:, lo])
        out[:, hi] = median + factors[:, b] * (quantiles[:, hi] - median)
    out[:, 1] = np.maximum(out[:, 1], out[:, 0])
    out[:, 3] = np.minimum(out[:, 3], out[:, 4])
    return out


def quantile_score(quantiles: np.ndarray, realised: np.ndarray) -> np.ndarray:
    """Per row, twice the mean pinball loss over LEVELS: the CRPS approximated from quantiles
    (lower is better)."""
    diff = realised[:, None] - quantiles
    return 2.0 * np.mean(np.maximum(LEVELS * diff, (LEVELS - 1.0) * diff), axis=1)


def probability_up(quantiles: np.ndarray) -> np.ndarray:
    """P(return > 0) read from five quantiles: the CDF linear between them and, beyond the 10th
    and 90th percentiles, linear with the outer segments' slope; kept within [0.02, 0.98]."""
    out = np.empty(quantiles.shape[0])
    for r, q in enumerate(quantiles):
        xs = np.concatenate(
            [
                [q[0] - (q[1] - q[0]) * LEVELS[0] / (LEVELS[1] - LEVELS[0])],
                q,
                [q[4] + (q[4] - q[3]) * (1 - LEVELS[4]) / (LEVELS[4] - LEVELS[3])],
            ]
        )
        ps = np.concatenate([[0.0], LEVELS, [1.0]])
        xs = np.maximum.accumulate(xs)
        below = np.interp(0.0, xs, ps) if xs[-1] > xs[0] else float(xs[0] >= 0.0)
        out[r] = 1.0 - below
    return np.clip(out, 0.02, 0.98)


def inside(quantiles: np.ndarray, realised: np.ndarray, band: int) -> np.ndarray:
    """Whether each outcome fell inside ``BANDS[band]`` (bounds included)."""
    lo, hi, _share = BANDS[band]
    return (quantiles[:, lo] <= realised) & (realised <= quantiles[:, hi])


def conformal_scores(quantiles: np.ndarray, realised: np.ndarray, band: int) -> np.ndarray:
    """How far each outcome lies from the median, in half-widths of ``BANDS[band]`` on its side:
    the outcome is inside the band widened by ``f`` exactly when its score is at most ``f``."""
    lo, hi, _share = BANDS[band]
    median = quantiles[:, 2]
    above = realised >= median
    half = np.where(above, quantiles[:, hi] - median, median - quantiles[:, lo])
    gap = np.abs(realised - median)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(half > 0, gap / half, np.where(gap > 0, np.inf, 0.0))


def conformal_factor(scores: np.ndarray, share: float, weights: np.ndarray | None = None) -> float:
    """The split-conformal quantile: the ``ceil((n + 1) * share)``-th smallest score (the
    largest when that rank is past ``n``). With ``weights`` (each in (0, 1], the new pattern's
    own weight 1): the smallest score whose scores at or below it weigh at least ``share`` of
    the total plus one (the largest when none does); all weights 1 give the plain rule."""
    finite = np.isfinite(scores)
    if weights is None:
        scores = np.sort(scores[finite])
        if scores.size == 0:
            return 1.0
        rank = min(int(np.ceil((scores.size + 1) * share)), scores.size)
        return float(scores[rank - 1])
    scores, weights = scores[finite], np.asarray(weights, dtype=np.float64)[finite]
    if scores.size == 0:
        return 1.0
    order = np.argsort(scores, kind="stable")
    scores, weights = scores[order], weights[order]
    cumulative = np.cumsum(weights)
    needed = share * (cumulative[-1] + 1.0)
    # a relative tolerance, so that equal weights give exactly the plain rule's rank
    rank = int(np.searchsorted(cumulative, needed * (1 - 1e-12)))
    return float(scores[min(rank, scores.size - 1)])


def recency_weights(outcome_days: np.ndarray, now) -> np.ndarray:
    """Each learned sample's weight: one half every HALF_LIFE_YEARS between its outcome's day
    and ``now`` (at most 1)."""
    days = np.asarray(outcome_days, dtype="datetime64[D]").astype(np.int64)
    age = np.maximum(np.datetime64(now, "D").astype(np.int64) - days, 0) / 365.25
    return 0.5 ** (age / HALF_LIFE_YEARS)


@dataclass(frozen=True)
class Samples:
    """Walk-forward samples, one row per past pattern and horizon (see :mod:`.walkforward`):
    the plain base rate's quantiles, the matches' episode quantiles (NaN with too few), the
    pattern's trailing volatility (NaN: none), and what followed."""

    length: np.ndarray  # (n,) int
    horizon: np.ndarray  # (n,) int
    base: np.ndarray  # (n, 5)
    matches: np.ndarray  # (n, 5)
    volatility: np.ndarray  # (n,)
    realised: np.ndarray  # (n,)

    def subset(self, rows: np.ndarray) -> Samples:
        return Samples(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))


def forecast_fit(
    samples: Samples, lengths, horizons, recency: np.ndarray | None = None
) -> ForecastParams:
    """Learn the parameters from walk-forward samples: the reference volatility and the thirds'
    bounds, the exponent per horizon, the matches' weight per length x horizon, and the
    conformal factors per horizon x third, pooled over the lengths (over the thirds too where a
    third has too few), each sample weighted by its ``recency`` (:func:`recency_weights`;
    None: all alike)."""
    lengths = tuple(int(m) for m in lengths)
    horizons = tuple(int(h) for h in horizons)
    vol = samples.volatility[np.isfinite(samples.volatility)]
    if vol.size == 0:
        return ForecastParams.neutral(lengths, horizons)
    reference = float(np.median(vol))
    cuts = tuple(float(v) for v in np.percentile(vol, (100 / 3, 200 / 3)))
    neutral = ForecastParams.neutral(lengths, horizons)
    params = ForecastParams(
        lengths, horizons, reference, cuts, neutral.exponents, neutral.weights, neutral.widen
    )
    cells = _cells(params, samples)
    ratio = _ratio(params, samples)
    exponents = np.ones(len(horizons))
    for j in range(len(horizons)):
        rows = cells[1] == j
        if rows.any():
            scores = [
                quantile_score(
                    scale_base(samples.base[rows], ratio[rows], e), samples.realised[rows]
                ).mean()
                for e in EXPONENTS
            ]
            exponents[j] = EXPONENTS[int(np.argmin(scores))]
    scaled = scale_base(samples.base, ratio, 1.0)
    for j in range(len(horizons)):
        rows = cells[1] == j
        scaled[rows] = scale_base(samples.base[rows], ratio[rows], exponents[j])
    weights = np.zeros((len(lengths), len(horizons)))
    for i in range(len(lengths)):
        for j in range(len(horizons)):
            rows = (cells[0] == i) & (cells[1] == j)
            weights[i, j] = _weight(scaled[rows], samples.matches[rows], samples.realised[rows])
    blended = blend(scaled, samples.matches, weights[cells[0], cells[1]])
    widen_factors = _widen_factors(params, samples, cells, blended, recency)
    return ForecastParams(lengths, horizons, reference, cuts, exponents, weights, widen_factors)


def forecast_predict(params: ForecastParams, samples: Samples) -> tuple[np.ndarray, np.ndarray]:
    """The forecast quantiles of every sample row and the matches' weight each got."""
    cells = _cells(params, samples)
    ratio = _ratio(params, samples)
    scaled = np.empty_like(samples.base)
    for j in range(len(params.horizons)):
        rows = cells[1] == j
        scaled[rows] = scale_base(samples.base[rows], ratio[rows], params.exponents[j])
    weight = params.weights[cells[0], cells[1]]
    weight = np.where(np.isfinite(samples.matches).all(axis=1), weight, 0.0)
    blended = blend(scaled, samples.matches, weight)
    factors = params.widen[cells[0], cells[1], cells[2]]
    return widen(blended, factors), weight


def _cells(params: ForecastParams, samples: Samples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.array([_nearest(params.lengths, m) for m in samples.length], dtype=np.int64)
    horizons = np.array([_nearest(params.horizons, h) for h in samples.horizon], dtype=np.int64)
    thirds = np.where(
        np.isfinite(samples.volatility),
        np.searchsorted(np.asarray(params.volatility_cuts), samples.volatility, side="right"),
        POOLED,
    )
    return lengths, horizons, thirds.astype(np.int64)


def _ratio(params: ForecastParams, samples: Samples) -> np.ndarray:
    return np.where(
        np.isfinite(samples.volatility), samples.volatility / params.reference_volatility, 1.0
    )


def _weight(scaled: np.ndarray, matches: np.ndarray, realised: np.ndarray) -> float:
    """The grid weight with the lowest mean quantile score, kept only when it beats zero by
    WEIGHT_MIN_Z standard errors of the paired difference."""
    usable = np.isfinite(matches).all(axis=1)
    if usable.sum() < MIN_CONFORMAL_SAMPLES:
        return 0.0
    scaled, matches, realised = scaled[usable], matches[usable], realised[usable]
    zero = quantile_score(scaled, realised)
    best, best_score = 0.0, zero.mean()
    best_diff = None
    for w in WEIGHTS[1:]:
        score = quantile_score(scaled + w * (matches - scaled), realised)
        if score.mean() < best_score:
            best, best_score, best_diff = float(w), score.mean(), zero - score
    if best_diff is None:
        return 0.0
    error = best_diff.std(ddof=1) / np.sqrt(best_diff.size)
    return best if error > 0 and best_diff.mean() / error >= WEIGHT_MIN_Z else 0.0


def _widen_factors(params, samples, cells, blended, recency=None) -> np.ndarray:
    """Per horizon and volatility third (and over the thirds: POOLED), each band's conformal
    factor over every length's samples; the same for each length."""
    out = np.ones((len(params.lengths), len(params.horizons), 4, 2))
    for b, (_lo, _hi, share) in enumerate(BANDS):
        scores = conformal_scores(blended, samples.realised, b)
        for j in range(len(params.horizons)):
            cell = cells[1] == j
            pooled = _factor(scores, share, cell, recency, 1.0)
            out[:, j, POOLED, b] = pooled
            for t in range(3):
                out[:, j, t, b] = _factor(scores, share, cell & (cells[2] == t), recency, pooled)
    return out


def _factor(scores, share, rows, recency, fallback: float) -> float:
    """The conformal factor of ``rows``; ``fallback`` with fewer than MIN_CONFORMAL_SAMPLES."""
    if rows.sum() < MIN_CONFORMAL_SAMPLES:
        return fallback
    return conformal_factor(scores[rows], share, None if recency is None else recency[rows])
