import dataclasses
import json

import numpy as np
import pytest

from similarity.engine import (
    Market,
    Match,
    fan_chart,
    forward_paths,
    forward_returns,
    match_outcomes,
    outcome_stats,
    scenario_groups,
    search,
)


def match(market: Market, series: int, start: int, stop: int) -> Match:
    return Match(series, market.ids[series], start, stop, 0.0, 1.0)


@pytest.fixture
def ramp_market() -> Market:
    return Market.from_series([np.arange(1.0, 11.0), np.arange(100.0, 80.0, -1)], ["UP", "DOWN"])


def test_forward_returns_follow_the_last_close_of_the_match(ramp_market):
    matches = [match(ramp_market, 0, 0, 5), match(ramp_market, 1, 3, 8)]

    returns = forward_returns(ramp_market, matches, horizons=(2, 5, 6))

    # UP ends at index 4 (close 5): +2 -> 7, +5 -> 10, +6 is past the end.
    assert returns[0, :2] == pytest.approx([7 / 5 - 1, 10 / 5 - 1])
    assert np.isnan(returns[0, 2])
    # DOWN ends at index 7 (close 93).
    assert returns[1] == pytest.approx([91 / 93 - 1, 88 / 93 - 1, 87 / 93 - 1])


def test_forward_paths_are_ratios_to_the_last_close_and_nan_past_the_end(ramp_market):
    paths = forward_paths(ramp_market, [match(ramp_market, 0, 4, 8)], horizon=4)

    assert paths[0, :3] == pytest.approx([1.0, 9 / 8, 10 / 8])
    assert np.isnan(paths[0, 3:]).all()


def test_outcome_stats_summarise_the_present_returns():
    returns = np.array([[0.1, np.nan], [-0.2, np.nan], [0.3, np.nan], [np.nan, np.nan]])

    first, second = outcome_stats(returns, [5, 20])

    assert (first.horizon, first.count) == (5, 3)
    assert first.mean == pytest.approx(0.2 / 3)
    assert first.median == pytest.approx(0.1)
    assert (first.q25, first.q75) == pytest.approx((-0.05, 0.2))
    assert first.share_positive == pytest.approx(2 / 3)
    assert second == type(second)(20, 0, None, None, None, None, None)


def test_fan_bands_are_ordered_percentiles_starting_at_one(walk_market, walk_series):
    matches = search(walk_market, walk_series[0][100:140], k=30)

    fan = fan_chart(walk_market, matches, horizon=20)

    assert fan.days == list(range(21))
    assert list(fan.bands) == ["p10", "p25", "p50", "p75", "p90"]
    bands = np.array(list(fan.bands.values()))
    assert bands[:, 0] == pytest.approx(1.0)
    assert (np.diff(bands, axis=0) >= 0).all()
    assert 0 < fan.count <= len(matches)


def test_fan_chart_is_none_without_a_complete_path(ramp_market):
    assert fan_chart(ramp_market, [match(ramp_market, 0, 0, 9)], horizon=5) is None


def two_futures_market(count: int) -> tuple[Market, list[Match]]:
    """``count`` series that share a past and then either rally or slide."""
    rng = np.random.default_rng(3)
    series = []
    for i in range(count):
        past = 100 + np.cumsum(rng.normal(0, 1, 30))
        drift = 0.02 if i % 2 == 0 else -0.02
        future = past[-1] * np.exp(np.cumsum(drift + rng.normal(0, 0.002, 20)))
        series.append(np.concatenate([past, future]))
    market = Market.from_series(series, [f"S{i}" for i in range(count)])
    return market, [match(market, i, 0, 30) for i in range(count)]


def test_scenario_groups_separate_distinct_futures():
    market, matches = two_futures_market(20)

    groups = scenario_groups(market, matches, horizon=20)

    assert len(groups) == 2
    rally, slide = groups
    assert rally.median_return > 0.3 and slide.median_return < -0.2
    assert rally.members == list(range(0, 20, 2))
    assert slide.members == list(range(1, 20, 2))
    assert (rally.share, rally.count) == (0.5, 10)
    assert len(rally.median_path) == 21 and rally.median_path[0] == 1.0


def test_scenario_groups_are_deterministic_and_at_most_four(walk_market, walk_series):
    matches = search(walk_market, walk_series[8][50:80], k=60)

    first = scenario_groups(walk_market, matches, horizon=20)
    again = scenario_groups(walk_market, matches, horizon=20)

    assert first == again
    assert 1 <= len(first) <= 4
    assert sum(g.count for g in first) == fan_chart(walk_market, matches, 20).count
    assert sum(g.share for g in first) == pytest.approx(1.0)


def test_few_paths_form_a_single_group():
    market, matches = two_futures_market(4)

    groups = scenario_groups(market, matches, horizon=20)

    assert [g.count for g in groups] == [4]


def test_outcomes_serialise_to_json(walk_market, walk_series):
    matches = search(walk_market, walk_series[0][100:140], k=20)

    result = match_outcomes(walk_market, matches)

    data = json.loads(json.dumps(dataclasses.asdict(result)))
    assert data["horizons"] == [5, 20, 60]
    assert len(data["returns"]) == len(matches)
    assert [s["horizon"] for s in data["stats"]] == [5, 20, 60]


@pytest.mark.parametrize("horizons", [(), (0, 5), (-1,)])
def test_bad_horizons_are_rejected(ramp_market, horizons):
    with pytest.raises(ValueError, match="horizons"):
        forward_returns(ramp_market, [], horizons)


def test_an_episode_counts_once_in_the_fan_and_the_scenarios():
    market, matches = two_futures_market(20)
    # The ten rallies are one market episode; each slide is its own.
    labels = np.array([0 if i % 2 == 0 else i for i in range(20)])

    fan = fan_chart(market, matches, 20, labels=labels)
    groups = scenario_groups(market, matches, horizon=20, labels=labels)

    assert fan.count == 11
    rally, slide = groups
    assert (rally.count, slide.count) == (1, 10)
    assert (rally.share, slide.share) == pytest.approx((1 / 11, 10 / 11))
    assert rally.members == list(range(0, 20, 2))  # every match of the episode is listed
    paths = forward_paths(market, matches, 20)
    expected = np.percentile(np.vstack([np.median(paths[::2], axis=0), paths[1::2]]), 90, axis=0)
    assert fan.bands["p90"] == pytest.approx(expected)
