"""The forecast's statistics against independent reference code on synthetic data."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from similarity.engine.forecast import (
    HALF_LIFE_YEARS,
    LEVELS,
    POOLED,
    ForecastParams,
    Samples,
    conformal_factor,
    conformal_scores,
    forecast_apply,
    forecast_fit,
    forecast_predict,
    probability_up,
    quantile_score,
    recency_weights,
    trailing_volatility,
)

LENGTHS = (20, 60, 120)
HORIZONS = (5, 20, 60)
PER_CELL = 20_000  # rows per length x horizon: half to learn, half to check


def synthetic(seed: int, informative: bool = False, per_cell: int = PER_CELL) -> Samples:
    """Outcomes from a known distribution: normal, with a spread that grows with the pattern's
    volatility and the horizon, and a fat-tailed extra that the plain base rate (the typical
    window's spread) does not know. The matches' quantiles are the true ones when
    ``informative``, else noise around the base rate."""
    rng = np.random.default_rng(seed)
    rows = per_cell * len(LENGTHS) * len(HORIZONS)
    length = np.repeat(np.tile(LENGTHS, len(HORIZONS)), per_cell)
    horizon = np.repeat(np.repeat(HORIZONS, len(LENGTHS)), per_cell)
    volatility = np.exp(rng.normal(np.log(0.02), 0.4, rows))
    signal = rng.normal(0, 0.01, rows) * np.sqrt(horizon)
    spread = volatility * np.sqrt(horizon) * 1.2
    realised = signal + spread * rng.standard_normal(rows)
    z = norm.ppf(LEVELS)
    base = np.outer(0.02 * np.sqrt(horizon), z)
    true = signal[:, None] + np.outer(spread, z)
    matches = (
        true if informative else base + rng.normal(0, 0.01, (rows, 5)) * np.sqrt(horizon)[:, None]
    )
    return Samples(length, horizon, base, np.sort(matches, axis=1), volatility, realised)


def halves(samples: Samples) -> tuple[Samples, Samples]:
    rows = np.arange(samples.realised.size)
    return samples.subset(rows % 2 == 0), samples.subset(rows % 2 == 1)


@pytest.fixture(scope="module")
def learned() -> tuple[ForecastParams, Samples]:
    """Parameters learned on half of the known distribution's rows, and the other half."""
    learn, check = halves(synthetic(11))
    return forecast_fit(learn, LENGTHS, HORIZONS), check


def reference_factor(scores, share) -> float:
    """The smallest score f with at least ceil((n + 1) * share) scores at or below it."""
    needed = min(math.ceil((len(scores) + 1) * share), len(scores))
    for candidate in sorted(scores):
        if sum(1 for s in scores if s <= candidate) >= needed:
            return candidate
    raise AssertionError("unreachable")


@pytest.mark.parametrize("share", [0.5, 0.8])
@pytest.mark.parametrize("n", [1, 7, 40, 301])
def test_the_conformal_factor_is_the_reference_order_statistic(share, n):
    scores = np.random.default_rng(n).exponential(size=n)

    assert conformal_factor(scores, share) == reference_factor(scores.tolist(), share)


def test_an_outcome_is_inside_the_widened_band_exactly_when_its_score_is_at_most_the_factor():
    rng = np.random.default_rng(3)
    quantiles = np.sort(rng.normal(size=(500, 5)), axis=1)
    realised = rng.normal(size=500) * 2
    scores = conformal_scores(quantiles, realised, 0)
    factor = 1.7
    median = quantiles[:, 2]
    low = median - factor * (median - quantiles[:, 0])
    high = median + factor * (quantiles[:, 4] - median)

    assert np.array_equal(scores <= factor, (low <= realised) & (realised <= high))


def test_the_quantile_score_is_twice_the_mean_pinball_loss():
    rng = np.random.default_rng(4)
    quantiles = np.sort(rng.normal(size=(50, 5)), axis=1)
    realised = rng.normal(size=50)

    expected = [
        2 / 5 * sum((tau - (y < q)) * (y - q) for tau, q in zip(LEVELS, row, strict=True))
        for row, y in zip(quantiles, realised, strict=True)
    ]
    assert quantile_score(quantiles, realised) == pytest.approx(expected)


def test_probability_up_reads_the_cdf_between_the_quantiles():
    symmetric = norm.ppf(LEVELS)[None, :]
    shifted = symmetric - symmetric[0, 1]  # the 25th percentile at zero

    assert probability_up(symmetric)[0] == pytest.approx(0.5)
    assert probability_up(shifted)[0] == pytest.approx(0.75)
    assert probability_up(symmetric + 10)[0] == 0.98


def test_trailing_volatility_is_the_sample_deviation_of_log_returns():
    closes = 100 * np.exp(np.cumsum(np.random.default_rng(5).normal(0, 0.02, 200)))

    expected = np.std(np.diff(np.log(closes[-61:])), ddof=1)
    assert trailing_volatility(closes) == pytest.approx(expected)
    assert trailing_volatility(closes[:4]) is None


def test_the_learned_forecast_covers_a_known_distribution_in_every_cell_and_third(learned):
    params, check = learned

    quantiles, _weights = forecast_predict(params, check)

    inside_80 = (quantiles[:, 0] <= check.realised) & (check.realised <= quantiles[:, 4])
    inside_50 = (quantiles[:, 1] <= check.realised) & (check.realised <= quantiles[:, 3])
    for m in LENGTHS:
        for h in HORIZONS:
            cell = (check.length == m) & (check.horizon == h)
            assert inside_80[cell].mean() == pytest.approx(0.8, abs=0.03), (m, h)
            assert inside_50[cell].mean() == pytest.approx(0.5, abs=0.03), (m, h)
    thirds = np.searchsorted(params.volatility_cuts, check.volatility, side="right")
    for third in range(3):
        assert inside_80[thirds == third].mean() == pytest.approx(0.8, abs=0.03), third
        assert inside_50[thirds == third].mean() == pytest.approx(0.5, abs=0.03), third


def test_the_plain_base_rate_misses_the_same_distribution_by_volatility(learned):
    _params, check = learned
    base = check.base

    inside = (base[:, 0] <= check.realised) & (check.realised <= base[:, 4])
    high = check.volatility > np.percentile(check.volatility, 200 / 3)
    assert inside[high].mean() < 0.7


def test_noise_matches_get_no_weight_and_informative_ones_do():
    noise = forecast_fit(synthetic(12, per_cell=3000), LENGTHS, HORIZONS)
    informative = forecast_fit(synthetic(12, informative=True, per_cell=3000), LENGTHS, HORIZONS)

    assert np.all(noise.weights == 0)
    assert np.all(informative.weights >= 0.5)


def test_the_learned_forecast_beats_the_plain_base_rate_on_unseen_rows(learned):
    params, check = learned
    quantiles, _weights = forecast_predict(params, check)

    skill = (
        1
        - quantile_score(quantiles, check.realised).sum()
        / quantile_score(check.base, check.realised).sum()
    )
    assert skill > 0


def test_parameters_survive_json():
    params = forecast_fit(synthetic(14, per_cell=500), LENGTHS, HORIZONS)

    again = ForecastParams.from_json(params.to_json())

    assert again.lengths == LENGTHS and again.horizons == HORIZONS
    assert np.allclose(again.widen, params.widen, atol=1e-4)
    assert np.allclose(again.weights, params.weights)


def test_a_search_between_learned_lengths_and_horizons_uses_the_nearest_cell():
    params = forecast_fit(synthetic(15, per_cell=500), LENGTHS, HORIZONS)

    assert params.cell(25, 7) == (0, 0)
    assert params.cell(500, 250) == (2, 2)


def test_a_sketch_without_volatility_gets_the_unscaled_base_rate_and_pooled_widening():
    params = forecast_fit(synthetic(16, per_cell=500), LENGTHS, HORIZONS)
    base = norm.ppf(LEVELS) * 0.05

    made = forecast_apply(
        params, length=60, horizon=20, base=base, volatility=None, episode_returns=np.zeros(0)
    )

    factor_80, factor_50 = params.widen[1, 1, POOLED]
    assert made.matches_weight == 0.0
    assert made.p50 == pytest.approx(base[2])
    assert made.p90 == pytest.approx(base[2] + factor_80 * (base[4] - base[2]))
    assert made.p75 == pytest.approx(base[2] + factor_50 * (base[3] - base[2]))


def test_no_forecast_without_base_rate_quantiles():
    params = ForecastParams.neutral(LENGTHS, HORIZONS)

    made = forecast_apply(
        params,
        length=60,
        horizon=20,
        base=(None,) * 5,
        volatility=0.02,
        episode_returns=np.zeros(0),
    )

    assert made is None


def reference_weighted_factor(scores, weights, share) -> float:
    """The smallest score whose scores at or below it weigh at least share * (total + 1)."""
    needed = share * (sum(weights) + 1.0)
    for candidate in sorted(scores):
        if sum(w for s, w in zip(scores, weights, strict=True) if s <= candidate) >= needed:
            return candidate
    return max(scores)


@pytest.mark.parametrize("share", [0.5, 0.8])
@pytest.mark.parametrize("n", [1, 7, 40, 301])
def test_the_weighted_conformal_factor_is_the_reference_weighted_quantile(share, n):
    rng = np.random.default_rng(n + 100)
    scores = rng.exponential(size=n)
    weights = rng.uniform(0.05, 1.0, n)

    assert conformal_factor(scores, share, weights) == reference_weighted_factor(
        scores.tolist(), weights.tolist(), share
    )
    assert conformal_factor(scores, share, np.ones(n)) == conformal_factor(scores, share)


def test_recency_weights_halve_every_half_life():
    now = np.datetime64("2018-11-16")
    days = now - np.array([0, 365, 730, 1461, 3000], dtype="timedelta64[D]")

    weights = recency_weights(days, now)

    expected = 0.5 ** (np.array([0, 365, 730, 1461, 3000]) / 365.25 / HALF_LIFE_YEARS)
    assert weights == pytest.approx(expected)
    assert recency_weights(np.array([now + 5]), now)[0] == 1.0  # never above one


def regime_change(seed: int, years: int = 20, per_year: int = 600) -> tuple[Samples, np.ndarray]:
    """Outcomes whose spread halved ten years ago (the volatility the stocks show did not
    change), with each row's outcome day."""
    rng = np.random.default_rng(seed)
    rows = years * per_year
    length = np.tile(LENGTHS, rows // len(LENGTHS) + 1)[:rows]
    horizon = np.full(rows, 20)
    volatility = np.exp(rng.normal(np.log(0.02), 0.3, rows))
    days = np.datetime64("1998-01-01") + np.sort(rng.integers(0, years * 365, rows))
    old = days < np.datetime64("2008-01-01")
    spread = volatility * np.sqrt(20) * np.where(old, 2.0, 1.0)
    realised = spread * rng.standard_normal(rows)
    base = np.outer(0.02 * np.sqrt(20) * np.ones(rows), norm.ppf(LEVELS))
    matches = np.full((rows, 5), np.nan)
    return Samples(length, horizon, base, matches, volatility, realised), days


def test_recent_outcomes_weigh_more_so_a_changed_market_is_covered_as_it_is_now():
    learn, days = regime_change(21)
    check, _check_days = regime_change(22)
    recent = check.subset(_check_days >= np.datetime64("2014-01-01"))
    now = np.datetime64("2018-01-01")
    learn = learn.subset(days < now)
    recency = recency_weights(days[days < now], now)

    weighted = forecast_fit(learn, LENGTHS, (20,), recency)
    alike = forecast_fit(learn, LENGTHS, (20,))

    def coverage(params, band):
        quantiles, _weights = forecast_predict(params, recent)
        lo, hi = (0, 4) if band == 80 else (1, 3)
        return np.mean(
            (quantiles[:, lo] <= recent.realised) & (recent.realised <= quantiles[:, hi])
        )

    assert coverage(weighted, 80) == pytest.approx(0.8, abs=0.03)
    assert coverage(weighted, 50) == pytest.approx(0.5, abs=0.03)
    assert coverage(alike, 80) > 0.86  # every year alike: too wide for today's market


def test_the_widening_is_shared_by_the_lengths_and_differs_by_third(learned):
    params, _check = learned

    assert np.array_equal(params.widen[0], params.widen[1])
    assert np.array_equal(params.widen[0], params.widen[2])
    assert not np.allclose(params.widen[0, :, 0], params.widen[0, :, 2])
