import datetime as dt
import math

import numpy as np
import pytest
from django.utils import translation

from billing.entitlements import SearchQuotaExceeded
from core.errors import NotFoundError
from similarity.limits import MINI_CHART_POINTS
from similarity.models import SavedSearch
from similarity.services import search_rerun, search_run
from similarity.validation import SearchInputError
from tests.factories import SavedSearchFactory, UserFactory

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
WAVE = [100 + 10 * math.sin(i / 4) + i * 0.3 for i in range(40)]


def _field(excinfo) -> set[str]:
    return set(excinfo.value.fields)


def test_stock_pattern_is_the_split_adjusted_closes_of_the_range(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={})

    bars = search_market["7974"].bars.filter(date__range=("2015-01-05", "2015-04-30"))
    assert saved.pattern == [bar.adj_close for bar in bars.order_by("date")]
    assert saved.result["pattern"]["code"] == "7974"
    assert saved.result["pattern"]["name"] == "任天堂"
    assert saved.label.startswith("7974 任天堂")


def test_a_search_is_saved_for_its_user_with_matches(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})

    saved.refresh_from_db()
    assert saved.user == pro_user
    assert saved.match_count == 5
    assert len(saved.result["matches"]) == 5
    assert saved.snapshot_id
    assert saved.snapshot_date == dt.date(2018, 11, 16)


def test_matches_are_sorted_and_carry_what_the_pages_draw(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 8})

    result = saved.result
    m = result["pattern"]["length"]
    distances = [match["distance"] for match in result["matches"]]
    assert distances == sorted(distances)
    for rank, match in enumerate(result["matches"], start=1):
        assert match["rank"] == rank
        assert match["name"]
        assert match["start_date"] < match["end_date"]
        assert math.isclose(
            match["correlation"], 1 - match["distance"] ** 2 / (2 * m), abs_tol=1e-5
        )
        # m closes and up to 60 after, thinned evenly to MINI_CHART_POINTS when more.
        shown = len(match["window"]) + len(match["after"])
        assert len(match["window"]) == m or shown <= MINI_CHART_POINTS + 1
        assert len(match["after"]) <= 60
        assert set(match["returns"]) == {"5", "20", "60"}
    assert len(result["pattern"]["normalized"]) == m


def test_forward_returns_are_measured_from_the_last_bar_of_the_match(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 3, "horizons": [5]})

    match = saved.result["matches"][0]
    stock = search_market[match["code"]]
    closes = list(
        stock.bars.filter(date__gte=match["end_date"])
        .order_by("date")[:6]
        .values_list("adj_close", flat=True)
    )
    assert match["returns"]["5"] == pytest.approx(closes[5] / closes[0] - 1, abs=1e-6)


def test_the_query_window_is_not_its_own_match(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 100})

    for match in saved.result["matches"]:
        if match["code"] == "7974":
            assert match["end_date"] < "2015-01-05" or match["start_date"] > "2015-04-30"


def test_stats_fan_and_groups_summarise_the_matches(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 30})

    result = saved.result
    assert [stat["horizon"] for stat in result["stats"]] == [5, 20, 60]
    with_5 = [m for m in result["matches"] if m["returns"]["5"] is not None]
    assert result["stats"][0]["matches"] == len(with_5)
    # Statistics count each episode once, as the median of its matches.
    by_episode = {}
    for match in with_5:
        by_episode.setdefault(match["episode"], []).append(match["returns"]["5"])
    values = [float(np.median(v)) for v in by_episode.values()]
    assert result["stats"][0]["count"] == len(by_episode) < len(with_5)
    assert result["stats"][0]["median"] == pytest.approx(float(np.median(values)), abs=1e-6)
    assert result["fan"]["horizon"] == 60
    assert len(result["fan"]["bands"]["p50"]) == 61
    assert result["fan"]["bands"]["p10"][0] == pytest.approx(1.0)
    assert result["groups_horizon"] == 60
    assert sum(group["share"] for group in result["groups"]) == pytest.approx(1.0, abs=1e-5)
    # The fan and the scenarios count each episode once; the groups list every match of theirs.
    with_60 = [m for m in result["matches"] if m["returns"]["60"] is not None]
    assert result["fan"]["count"] == len({m["episode"] for m in with_60}) < len(with_60)
    assert sum(group["count"] for group in result["groups"]) == result["fan"]["count"]
    grouped = sorted(rank for group in result["groups"] for rank in group["ranks"])
    assert grouped == sorted(m["rank"] for m in with_60)
    assert all(len(group["median_path"]) == 61 for group in result["groups"])


def test_unknown_code_is_not_found(search_market, pro_user):
    with pytest.raises(NotFoundError, match="9999"):
        search_run(user=pro_user, spec={**NINTENDO_2015, "code": "9999"}, options={})


def test_full_width_code_finds_the_stock(search_market, pro_user):
    saved = search_run(user=pro_user, spec={**NINTENDO_2015, "code": "７９７４"}, options={})

    assert saved.result["pattern"]["code"] == "7974"


def test_from_after_to_names_from(search_market, pro_user):
    with pytest.raises(SearchInputError) as excinfo:
        search_run(
            user=pro_user,
            spec={**NINTENDO_2015, "from": "2015-05-01", "to": "2015-04-01"},
            options={},
        )

    assert _field(excinfo) == {"from"}


@pytest.mark.parametrize(
    ("start", "end"),
    [("2015-01-05", "2015-01-08"), ("2012-01-01", "2014-12-31")],
    ids=["4-days", "over-500-days"],
)
def test_range_outside_5_to_500_trading_days_names_to(search_market, pro_user, start, end):
    with translation.override("en"), pytest.raises(SearchInputError) as excinfo:
        search_run(user=pro_user, spec={**NINTENDO_2015, "from": start, "to": end}, options={})

    assert _field(excinfo) == {"to"}
    assert "trading days" in str(excinfo.value.fields["to"][0])


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"source": "stock", "code": "7974", "from": "2015-13-01", "to": "2015-04-30"}, "from"),
        ({"source": "stock", "code": "7974", "from": "2015-01-05"}, "to"),
        ({"source": "stock", "code": "", "from": "2015-01-05", "to": "2015-04-30"}, "code"),
        ({"source": "prices", "prices": [1, 2, "x", 4, 5]}, "prices"),
        ({"source": "prices", "prices": [1, 2, True, 4, 5]}, "prices"),
        ({"source": "prices", "prices": [1, 2, float("nan"), 4, 5]}, "prices"),
        ({"source": "prices", "prices": [1, 2, float("inf"), 4, 5]}, "prices"),
        ({"source": "prices", "prices": [3, 3, 3, 3, 3, 3]}, "prices"),
        ({"source": "prices", "prices": [1e308, -1e308, 1e308, -1e308, 1e308]}, "prices"),
        ({"source": "sketch", "points": [[0, 1e300], [1, 2]], "days": 20}, "points"),
        ({"source": "prices", "prices": [1, 2, 3, 4]}, "prices"),
        ({"source": "prices", "prices": list(range(501))}, "prices"),
        ({"source": "prices", "prices": "1,2,3,4,5"}, "prices"),
        ({"source": "prices", "prices": WAVE, "code": "7974"}, "code"),
        ({"source": "sketch", "points": [], "days": 20}, "points"),
        ({"source": "sketch", "days": 20}, "points"),
        ({"source": "sketch", "points": [[0, 1], [0, 2]], "days": 20}, "points"),
        ({"source": "sketch", "points": [[0, 1], [5]], "days": 20}, "points"),
        ({"source": "sketch", "points": [[0, 1], [1, 1], [2, 1]], "days": 20}, "points"),
        ({"source": "sketch", "points": [[0, 1], [1, 2]], "days": 4}, "days"),
        ({"source": "sketch", "points": [[0, 1], [1, 2]], "days": 501}, "days"),
        ({"source": "sketch", "points": [[0, 1], [1, 2]]}, "days"),
        ({"source": "drawing"}, "source"),
    ],
)
def test_bad_pattern_names_the_field(search_market, pro_user, spec, field):
    with pytest.raises(SearchInputError) as excinfo:
        search_run(user=pro_user, spec=spec, options={})

    assert _field(excinfo) == {field}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"mode": "future"}, "mode"),
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"k": "ten"}, "k"),
        ({"horizons": [0]}, "horizons"),
        ({"horizons": [5, 251]}, "horizons"),
        ({"horizons": [1, 2, 3, 4, 5, 6]}, "horizons"),
        ({"horizons": "5"}, "horizons"),
        ({"min_turnover": -1}, "min_turnover"),
        ({"min_turnover": "lots"}, "min_turnover"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2016-01-01", "date_to": "2015-01-01"}, "date_from"),
        ({"stretch": "yes"}, "stretch"),
        ({"segment": 5}, "segment"),
    ],
)
def test_bad_option_names_it(search_market, pro_user, options, field):
    with pytest.raises(SearchInputError) as excinfo:
        search_run(user=pro_user, spec={"source": "prices", "prices": WAVE}, options=options)

    assert _field(excinfo) == {field}


def test_pasted_prices_are_searched_as_given(search_market, pro_user):
    saved = search_run(user=pro_user, spec={"source": "prices", "prices": WAVE}, options={})

    assert saved.pattern == WAVE
    assert saved.result["pattern"]["code"] is None
    assert saved.match_count == 10


def test_sketch_is_resampled_to_the_chosen_days(search_market, pro_user):
    points = [[0, 0], [50, 100], [100, 20], [150, 80], [200, 60]]

    saved = search_run(
        user=pro_user, spec={"source": "sketch", "points": points, "days": 30}, options={}
    )

    assert len(saved.pattern) == 30
    assert saved.pattern[0] == 0 and saved.pattern[-1] == 60
    assert max(saved.pattern) == pytest.approx(100, abs=10)


def test_free_plan_caps_matches_history_and_horizons(search_market, user):
    saved = search_run(user=user, spec=NINTENDO_2015, options={"k": 50, "horizons": [20, 5, 60]})

    result = saved.result
    assert saved.match_count == 10
    assert {limit["code"] for limit in result["limits"]} == {
        "k_capped",
        "history_limited",
        "first_horizon_only",
    }
    assert result["horizons"] == [5]
    assert [stat["horizon"] for stat in result["stats"]] == [5]
    assert all(set(match["returns"]) == {"5"} for match in result["matches"])
    assert all(match["start_date"] >= "2015-11-16" for match in result["matches"])


def test_pro_plan_applies_no_limits(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 50})

    assert saved.match_count == 50
    assert saved.result["limits"] == []
    assert min(match["start_date"] for match in saved.result["matches"]) < "2015-01-01"


def test_the_daily_quota_stops_the_eleventh_free_search(search_market, user):
    spec = {"source": "prices", "prices": WAVE}
    for _ in range(10):
        search_run(user=user, spec=spec, options={})

    with pytest.raises(SearchQuotaExceeded):
        search_run(user=user, spec=spec, options={})
    assert SavedSearch.objects.filter(user=user).count() == 10


def test_bad_input_does_not_use_the_quota(search_market, user):
    for _ in range(12):
        with pytest.raises(SearchInputError):
            search_run(user=user, spec={"source": "prices", "prices": [1, 2]}, options={})

    search_run(user=user, spec={"source": "prices", "prices": WAVE}, options={})


def test_latest_mode_finds_stocks_as_they_look_now(search_market, pro_user):
    saved = search_run(
        user=pro_user, spec={"source": "prices", "prices": WAVE}, options={"mode": "latest"}
    )

    matches = saved.result["matches"]
    assert len(matches) == len(search_market)
    for match in matches:
        stock = search_market[match["code"]]
        last = stock.bars.order_by("-date").first()
        assert match["end_date"] == match["latest_date"] == last.date.isoformat()
        assert match["latest_close"] == last.adj_close
        assert match["returns"] == {}
    assert saved.result["stats"] == []
    assert saved.result["fan"] is None


@pytest.mark.parametrize(
    ("options", "codes"),
    [
        ({"segment": "ETF・ETN"}, {"1321"}),
        ({"sector": "3650"}, {"6758"}),
        ({"sector": "銀行業"}, {"8306"}),
        ({"segment": "プライム（内国株式）", "sector": "3800"}, {"7974"}),
    ],
)
def test_filters_keep_only_the_chosen_stocks(search_market, pro_user, options, codes):
    saved = search_run(
        user=pro_user, spec={"source": "prices", "prices": WAVE}, options={"k": 20, **options}
    )

    assert saved.match_count > 0
    assert {match["code"] for match in saved.result["matches"]} == codes


def test_min_turnover_leaves_out_thinly_traded_stocks(search_market, pro_user):
    saved = search_run(
        user=pro_user,
        spec={"source": "prices", "prices": WAVE},
        options={"k": 100, "mode": "latest", "min_turnover": 2e10},
    )

    # Average turnover of the last three months: 1435 about 5e9 yen, 1321 1e10, the rest 4e10+.
    codes = {match["code"] for match in saved.result["matches"]}
    assert codes == set(search_market) - {"1435", "1321"}


def test_date_range_bounds_the_windows(search_market, pro_user):
    saved = search_run(
        user=pro_user,
        spec={"source": "prices", "prices": WAVE},
        options={"k": 20, "date_from": "2016-01-01", "date_to": "2016-12-31"},
    )

    for match in saved.result["matches"]:
        assert "2016-01-01" <= match["start_date"] <= match["end_date"] <= "2016-12-31"


def test_stretch_search_draws_every_match_at_the_pattern_length(search_market, pro_user):
    saved = search_run(
        user=pro_user, spec={"source": "prices", "prices": WAVE}, options={"stretch": True}
    )

    assert saved.match_count == 10
    assert all(len(match["window"]) == len(WAVE) for match in saved.result["matches"])


def test_rerun_saves_a_new_search_with_the_same_pattern(search_market, pro_user):
    first = search_run(user=pro_user, spec={"source": "prices", "prices": WAVE}, options={"k": 7})

    again = search_rerun(user=pro_user, saved_search=first)

    assert again.pk != first.pk
    assert again.rerun_of == first
    assert again.pattern == first.pattern
    assert again.options == first.options
    assert again.result["matches"] == first.result["matches"]


def test_rerun_reads_a_stock_range_again(search_market, pro_user):
    first = search_run(user=pro_user, spec=NINTENDO_2015, options={})
    search_market["7974"].bars.filter(date="2015-01-05").update(adj_close=1.0)

    again = search_rerun(user=pro_user, saved_search=first)

    assert again.pattern[0] == 1.0
    assert again.pattern[1:] == first.pattern[1:]


def test_rerun_of_someone_elses_search_is_not_found(search_market, pro_user):
    theirs = SavedSearchFactory(user=UserFactory(email="o@example.com"), prices=WAVE)

    with pytest.raises(NotFoundError):
        search_rerun(user=pro_user, saved_search=theirs)


@pytest.mark.parametrize("k", [1, 60])
def test_a_search_makes_the_same_few_queries_however_many_matches(
    search_market, pro_user, django_assert_max_num_queries, k
):
    search_run(user=pro_user, spec=NINTENDO_2015, options={})  # builds the per-snapshot cache

    # Savepoint, stock, its bars, the user's plan (subscription, grant), the latest forecast
    # model (with its calibration), insert, the saved searches beyond the kept ones, release.
    with django_assert_max_num_queries(9):
        saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": k})

    assert saved.match_count == k


def test_a_saved_search_with_100_matches_of_500_days_and_5_horizons_stays_small(
    search_market, pro_user
):
    import json

    from similarity.limits import MINI_CHART_POINTS

    prices = (100 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.02, 500)))).tolist()

    saved = search_run(
        user=pro_user,
        spec={"source": "prices", "prices": prices},
        options={"k": 100, "horizons": [5, 20, 60, 120, 250]},
    )

    saved.refresh_from_db()
    stored = len(json.dumps(saved.result).encode())
    assert saved.match_count >= 20
    # Measured on this market (26 matches): 195,139 bytes before the mini charts were thinned
    # (7.5 KB a match: 693 KB at 100 matches, as reported), 70,168 after.
    assert stored < 100_000, stored
    for match in saved.result["matches"]:
        assert len(match["window"]) + len(match["after"]) <= MINI_CHART_POINTS + 1


def test_only_the_newest_saved_searches_of_a_user_are_kept(
    search_market, pro_user, django_user_model, monkeypatch
):
    from similarity import limits
    from similarity.models import SavedSearch

    other = django_user_model.objects.create_user(email="other@example.com", password="x-Pass-12")
    other_search = search_run(user=other, spec=NINTENDO_2015, options={"k": 1})
    monkeypatch.setattr(limits, "SAVED_SEARCHES_KEPT", 3)

    runs = [search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 1}) for _ in range(5)]

    kept = set(SavedSearch.objects.filter(user=pro_user).values_list("pk", flat=True))
    assert kept == {saved.pk for saved in runs[-3:]}
    assert SavedSearch.objects.filter(pk=other_search.pk).exists()
