"""The same_period option: other stocks over a stock pattern's own days, listed apart from the
matches and counted in nothing (similarity/results/same_period.py, through the search service)."""

import math

import pytest

from billing.entitlements import SearchCostExceeded, entitlements_for
from similarity import limits
from similarity.models import SavedSearch
from similarity.services import search_rerun, search_run
from similarity.snapshot import snapshot_current
from similarity.validation import SearchInputError

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
WAVE = [100 + 10 * math.sin(i / 4) + i * 0.3 for i in range(40)]
# Every part of a result that the same-period windows must leave as it is.
COUNTED = ("matches", "stats", "fan", "groups", "groups_horizon", "warnings", "market_benchmark")


def _overlaps(item: dict, start: str, end: str) -> bool:
    return item["start_date"] <= end and item["end_date"] >= start


def test_the_option_is_off_by_default_and_the_result_has_no_same_period(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10})

    assert saved.options["same_period"] is False
    assert "same_period" not in saved.result


def test_same_period_windows_overlap_the_pattern_and_leave_the_statistics_alone(
    search_market, pro_user
):
    off = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10})
    on = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10, "same_period": True})

    for key in COUNTED:
        assert on.result[key] == off.result[key], key
    assert on.match_count == off.match_count == 10
    context = on.result["same_period"]
    assert len(context) == 10
    assert [item["rank"] for item in context] == list(range(1, 11))
    assert [item["correlation"] for item in context] == sorted(
        (item["correlation"] for item in context), reverse=True
    )
    matched = {(item["code"], item["start_date"]) for item in on.result["matches"]}
    for item in context:
        assert _overlaps(item, "2015-01-05", "2015-04-30")
        assert (item["code"], item["start_date"]) not in matched
        # Every Nintendo window over these days overlaps the pattern itself, which is left out.
        assert item["code"] != "7974"
        assert "episode" not in item and "excess_returns" not in item
        assert set(item["returns"]) == {"5", "20", "60"}
        assert item["window"] and item["after"]  # the mini chart, as for a match


def test_a_recent_pattern_lists_its_same_period_without_returns_past_the_data(
    search_market, pro_user
):
    bars = search_market["7974"].bars.order_by("-date").values_list("date", flat=True)[:40]
    spec = {**NINTENDO_2015, "from": bars[39].isoformat(), "to": bars[0].isoformat()}

    saved = search_run(user=pro_user, spec=spec, options={"k": 10, "same_period": True})

    context = saved.result["same_period"]
    assert context
    assert all(_overlaps(item, spec["from"], spec["to"]) for item in context)
    # Windows ending within 60 days of the data's last day have no 60-day outcome yet.
    assert all(item["returns"]["60"] is None for item in context)
    assert {item["code"] for item in context} <= set(search_market) - {"7974"}


@pytest.mark.parametrize(
    ("spec", "mode"),
    [
        ({"source": "prices", "prices": WAVE}, "history"),
        (
            {"source": "sketch", "points": [[0, 0], [10, 8], [20, 3], [30, 9]], "days": 25},
            "history",
        ),
        (NINTENDO_2015, "latest"),
    ],
)
def test_without_a_period_the_option_is_accepted_and_the_list_is_empty(
    search_market, pro_user, spec, mode
):
    saved = search_run(user=pro_user, spec=spec, options={"mode": mode, "same_period": True})

    assert saved.options["same_period"] is True
    assert saved.result["same_period"] == []


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_a_same_period_that_is_not_a_boolean_names_the_option(search_market, pro_user, value):
    with pytest.raises(SearchInputError) as excinfo:
        search_run(user=pro_user, spec=NINTENDO_2015, options={"same_period": value})

    assert set(excinfo.value.fields) == {"same_period"}


def test_the_option_is_saved_and_a_rerun_lists_the_same_period_again(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5, "same_period": True})

    fresh = search_rerun(user=pro_user, saved_search=saved)

    assert fresh.options["same_period"] is True
    assert fresh.result["same_period"] == saved.result["same_period"]


def test_a_search_saved_before_the_option_reruns_without_it(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})
    SavedSearch.objects.filter(pk=saved.pk).update(
        options={key: value for key, value in saved.options.items() if key != "same_period"}
    )
    saved.refresh_from_db()

    fresh = search_rerun(user=pro_user, saved_search=saved)

    assert "same_period" not in fresh.result


def test_the_same_period_search_is_charged_on_top_of_the_search(
    search_market, pro_user, monkeypatch
):
    market = snapshot_current().market
    days = search_market["7974"].bars.filter(date__range=("2015-01-05", "2015-04-30")).count()
    monkeypatch.setattr(limits, "BASE_RATE_INDEXED_MS", 0.0)
    monkeypatch.setattr(limits, "BASE_RATE_EXACT_MS_PER_MILLION_CLOSES", 0.0)
    one = limits.search_cost_ms(
        closes=market.size, series=len(market), length=days, k=10, stretch=False, mode="history"
    )
    monkeypatch.setattr(
        limits, "SEARCH_COST_MS_PER_MINUTE", (1 + limits.SAME_PERIOD_COST_SHARE / 2) * one
    )

    with pytest.raises(SearchCostExceeded):
        search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10, "same_period": True})
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10})

    assert saved.match_count == 10
    # The refused search gave back the day's search it took.
    assert entitlements_for(user=pro_user).searches_today == 1


def test_a_same_period_option_without_effect_is_not_charged(search_market, pro_user, monkeypatch):
    market = snapshot_current().market
    monkeypatch.setattr(limits, "BASE_RATE_INDEXED_MS", 0.0)
    monkeypatch.setattr(limits, "BASE_RATE_EXACT_MS_PER_MILLION_CLOSES", 0.0)
    one = limits.search_cost_ms(
        closes=market.size,
        series=len(market),
        length=len(WAVE),
        k=10,
        stretch=False,
        mode="history",
    )
    monkeypatch.setattr(limits, "SEARCH_COST_MS_PER_MINUTE", 1.5 * one)

    saved = search_run(
        user=pro_user, spec={"source": "prices", "prices": WAVE}, options={"same_period": True}
    )

    assert saved.result["same_period"] == []
