"""Searches on weekly and monthly closes, end to end (service, API, snapshot)."""

import datetime as dt
import math

import numpy as np
import pytest

from accounts.services import api_token_rotate
from similarity.api.serializers import SavedSearchSerializer
from similarity.services import search_rerun, search_run
from similarity.snapshot import snapshot_current
from similarity.snapshot_intervals import intervals_load
from similarity.validation import SearchInputError

NINTENDO = {"source": "stock", "code": "7974", "from": "2014-01-01", "to": "2015-12-31"}
WAVE = [100 + 10 * math.sin(i / 3) + i * 0.5 for i in range(30)]


def period_closes(stock, interval: str, start=None, end=None) -> list[tuple[dt.date, float]]:
    """(last trading day, its split-adjusted close) of each week or month, one bar at a time:
    the reference the search's closes are checked against."""
    groups: dict[tuple[int, int], tuple[dt.date, float]] = {}
    for day, close in stock.bars.order_by("date").values_list("date", "adj_close"):
        key = day.isocalendar()[:2] if interval == "week" else (day.year, day.month)
        groups[key] = (day, close)  # the last one of the period wins
    rows = sorted(groups.values())
    return [(d, c) for d, c in rows if (start is None or d >= start) and (end is None or d <= end)]


@pytest.mark.parametrize("interval", ["week", "month"])
def test_a_stock_range_selects_the_periods_whose_last_trading_day_is_inside(
    search_market, pro_user, interval
):
    saved = search_run(user=pro_user, spec=NINTENDO, options={"interval": interval, "k": 5})

    expected = period_closes(
        search_market["7974"], interval, dt.date(2014, 1, 1), dt.date(2015, 12, 31)
    )
    assert saved.pattern == [close for _day, close in expected]
    assert saved.result["pattern"]["start_date"] == expected[0][0].isoformat()
    assert saved.result["pattern"]["end_date"] == expected[-1][0].isoformat()
    assert saved.options["interval"] == interval
    assert saved.result["interval"] == interval


@pytest.mark.parametrize(
    ("interval", "horizons"), [("day", [5, 20, 60]), ("week", [4, 13, 26]), ("month", [3, 6, 12])]
)
def test_default_horizons_count_bars_of_the_interval(search_market, pro_user, interval, horizons):
    saved = search_run(
        user=pro_user, spec={"source": "prices", "prices": WAVE}, options={"interval": interval}
    )

    assert saved.result["horizons"] == horizons
    assert [stat["horizon"] for stat in saved.result["stats"]] == horizons


def test_weekly_matches_are_dated_by_their_bars_and_returns_count_weeks(search_market, pro_user):
    saved = search_run(
        user=pro_user, spec=NINTENDO, options={"interval": "week", "k": 10, "horizons": [4]}
    )

    assert saved.result["matches"]
    for match in saved.result["matches"]:
        weeks = period_closes(search_market[match["code"]], "week")
        days = [day.isoformat() for day, _close in weeks]
        first, last = days.index(match["start_date"]), days.index(match["end_date"])
        assert last - first + 1 == saved.result["pattern"]["length"]
        if match["returns"]["4"] is not None:
            expected = weeks[last + 4][1] / weeks[last][1] - 1
            assert match["returns"]["4"] == pytest.approx(expected, abs=1e-6)


def test_a_monthly_search_reads_pasted_prices_as_monthly_closes(search_market, pro_user):
    saved = search_run(
        user=pro_user,
        spec={"source": "prices", "prices": WAVE[:12]},
        options={"interval": "month", "k": 5},
    )

    for match in saved.result["matches"]:
        months = period_closes(search_market[match["code"]], "month")
        days = [day.isoformat() for day, _close in months]
        assert days.index(match["end_date"]) - days.index(match["start_date"]) == 11


@pytest.mark.parametrize(
    ("options", "spec", "field"),
    [
        ({"interval": "year"}, {"source": "prices", "prices": WAVE}, "interval"),
        ({"interval": "week", "horizons": [53]}, {"source": "prices", "prices": WAVE}, "horizons"),
        ({"interval": "month", "horizons": [25]}, {"source": "prices", "prices": WAVE}, "horizons"),
        (
            {"interval": "month"},
            {"source": "prices", "prices": [100 + (i % 7) for i in range(121)]},
            "prices",
        ),
        (
            {"interval": "week", "stretch": True},
            {"source": "prices", "prices": [100 + (i % 7) for i in range(209)]},
            "prices",
        ),
        (
            {"interval": "month"},
            {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-03-31"},
            "to",
        ),
    ],
)
def test_limits_per_interval_name_the_field(search_market, pro_user, options, spec, field):
    with pytest.raises(SearchInputError) as excinfo:
        search_run(user=pro_user, spec=spec, options=options)
    assert set(excinfo.value.fields) == {field}


def test_a_rerun_keeps_the_interval(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO, options={"interval": "month", "k": 3})

    again = search_rerun(user=pro_user, saved_search=saved)

    assert again.options["interval"] == "month"
    assert again.pattern == saved.pattern
    assert again.result["horizons"] == [3, 6, 12]


def test_the_snapshot_holds_weekly_and_monthly_markets_beside_the_daily_one(search_market):
    snapshot = snapshot_current()
    assert set(snapshot.intervals) == {"week", "month"}
    for interval in ("week", "month"):
        view = snapshot.at(interval)
        assert view.id == snapshot.id and view.interval == interval
        assert view.market.ids == snapshot.market.ids
        assert view.baseline is not None
        code = "7203"
        dates = view.market.series_dates(view.market.index_of(code))
        expected = period_closes(search_market[code], interval)
        assert [d.item() for d in dates] == [day for day, _c in expected]
        np.testing.assert_allclose(
            view.market.series_closes(view.market.index_of(code)), [c for _d, c in expected]
        )
    assert snapshot.at("day") is snapshot
    assert snapshot.at("week") is snapshot.at("week")


def test_a_folder_built_before_timeframes_is_resampled_on_first_use(search_market, tmp_path):
    snapshot = snapshot_current()
    snapshot.market.save(tmp_path)
    assert intervals_load(tmp_path, snapshot.market) == {}


def test_saved_results_say_their_interval(search_market, pro_user):
    weekly = search_run(user=pro_user, spec=NINTENDO, options={"interval": "week", "k": 3})
    daily = search_run(user=pro_user, spec=NINTENDO, options={"k": 3})
    daily.options.pop("interval")  # saved before timeframes
    daily.result.pop("interval")

    assert SavedSearchSerializer(weekly).data["interval"] == "week"
    assert SavedSearchSerializer(daily).data["interval"] == "day"


@pytest.fixture
def api(client, pro_user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"
    return client


def test_the_api_searches_weekly_closes(search_market, api):
    response = api.post(
        "/api/v1/search/",
        data={"code": "7974", "from": "2014-01-01", "to": "2015-12-31", "interval": "week"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["interval"] == "week"
    assert body["options"]["interval"] == "week"
    assert body["horizons"] == [4, 13, 26]


def test_the_api_refuses_an_unknown_interval(search_market, api):
    response = api.post(
        "/api/v1/search/",
        data={"prices": WAVE, "interval": "hour"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "interval" in response.json()["error"]["fields"]


def test_the_schema_documents_the_interval(search_market, api):
    schemas = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "components"
    ]["schemas"]

    option = schemas["SearchInputRequest"]["properties"]["interval"]
    assert option["description"]
    assert schemas["SavedSearch"]["properties"]["interval"]
