"""The one-look summary of a history result, per horizon, in plain words."""

import pytest
from django.utils import translation

from similarity.results.summary import horizon_summary, result_summary

FEW = {
    "horizon": 60,
    "count": 8,
    "median": -0.047,
    "baseline": {"median": 0.009},
    "excess": {"median": -0.032},
    "verdict": "insufficient",
}


def test_a_horizon_with_few_episodes_says_why_there_is_no_verdict():
    with translation.override("ja"):
        text = horizon_summary(FEW)["text"]

    assert text == (
        "60営業日後：似た形の中央値 -4.7%（全体 +0.9%）、市場比 -3.2%。8局面のため判定なし。"
    )


def test_the_summary_reads_in_english_on_request():
    with translation.override("en"):
        text = horizon_summary(FEW)["text"]

    assert text == (
        "After 60 trading days: similar shapes' median -4.7% (all windows +0.9%), versus the "
        "market -3.2%. 8 episodes: too few for a verdict."
    )


def test_a_result_stored_before_the_insufficient_verdict_gets_none_below_ten_episodes():
    assert horizon_summary({**FEW, "verdict": "below"})["verdict"] == "insufficient"


def test_a_verdict_comes_with_the_forecast_range_and_its_measured_hit_rate():
    stat = {
        **FEW,
        "count": 40,
        "verdict": "below",
        "forecast": {"p10": -0.081, "p25": -0.03, "p50": -0.01, "p75": 0.02, "p90": 0.06},
    }

    with translation.override("ja"):
        summary = horizon_summary(stat, hit_rate={"rate": 0.61, "count": 120})

    assert "予測レンジ -8.1%〜+6.0%。" in summary["text"]
    assert "ベースレートを下回りました（40局面）。" in summary["text"]
    assert summary["text"].endswith("過去の検証での、この判定の的中率は61%です。")


@pytest.mark.parametrize("stats", [[], [{"horizon": 5, "count": 0}]])
def test_horizons_without_episodes_have_no_sentence(stats):
    assert result_summary(stats) == []
