"""Searches on weekly and monthly closes, end to end (service, API, snapshot)."""

import csv
import datetime as dt
import io
import math
import re

import numpy as np
import pytest
from django.core.management import call_command

from accounts.services import api_token_rotate
from similarity import limits
from similarity.api.serializers import SavedSearchSerializer
from similarity.models import SavedSearch, SearchGrade
from similarity.services import search_rerun, search_run
from similarity.snapshot import snapshot_current
from similarity.snapshot_intervals import intervals_load
from similarity.tasks import track_record_grade
from similarity.validation import SearchInputError

from .conftest import _bars
from .test_honest_results import CUT, market_until_cut  # noqa: F401 (a fixture)

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


# --- Pages, CSV and the track record ----------------------------------------------------------


def test_the_search_form_posts_the_interval_and_its_horizons(search_market, pro_user, client):
    client.force_login(pro_user)
    response = client.post(
        "/search/",
        {
            "source": "stock",
            "code": "7974",
            "date_from": "2014-01-01",
            "date_to": "2015-12-31",
            "interval": "week",
            "horizons": ["5", "20"],  # the daily boxes, hidden on a weekly search
            "horizons_week": ["13", "4"],
        },
    )

    assert response.status_code == 302
    saved = SavedSearch.objects.get(user=pro_user)
    assert saved.options["interval"] == "week"
    assert saved.result["horizons"] == [4, 13]
    english = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Weekly" in english and "after 13 weeks" in english
    japanese = client.get(response["Location"]).content.decode()
    assert "週足" in japanese and "13週後" in japanese


def test_the_search_page_offers_daily_weekly_and_monthly_charts(db, client):
    page = client.get("/search/?interval=month").content.decode()

    for value in ("day", "week", "month"):
        assert f'name="interval" value="{value}"' in page
    assert "日足" in page and "週足" in page and "月足" in page
    assert re.search(r'name="interval" value="month"[^>]*checked', page)


def test_the_csv_names_horizons_in_weeks(search_market, pro_user, client):
    saved = search_run(user=pro_user, spec=NINTENDO, options={"interval": "week", "k": 3})
    client.force_login(pro_user)

    rows = [
        row
        for row in csv.reader(
            io.StringIO(
                client.get(f"/search/results/{saved.pk}/export.csv").content.decode("utf-8-sig")
            )
        )
        if not row[0].startswith("#")  # the terms' note above the header
    ]

    assert [c for c in rows[0] if c.startswith("return_")] == [
        "return_4w",
        "return_13w",
        "return_26w",
    ]
    assert [row[6] for row in rows[1:]] == [m["end_date"] for m in saved.result["matches"]]


def test_a_weekly_search_of_the_latest_weeks_is_graded_in_weeks(
    market_until_cut,  # noqa: F811 (the fixture imported above)
    pro_user,
    tmp_path,
):
    spec = {"source": "stock", "code": "7974", "from": "2017-09-01", "to": CUT.isoformat()}
    saved = search_run(
        user=pro_user, spec=spec, options={"interval": "week", "k": 20, "horizons": [1, 4, 26]}
    )
    assert saved.tracks_outcome
    later = [bar for bar in _bars(market_until_cut / "jp_daily" / "7974.csv") if bar.date > CUT]
    path = tmp_path / "7974-new.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "date", "open", "high", "low", "close", "volume", "adj_close"])
        for bar in later:
            writer.writerow(
                [
                    "7974",
                    bar.date,
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.close,
                    bar.volume,
                    bar.adj_close,
                ]
            )
    call_command("import_prices", str(path), verbosity=0)

    assert track_record_grade()["grades"] == 2  # 1 and 4 weeks have passed; 26 not yet
    weeks: dict = {}
    for bar in later:
        weeks[bar.date.isocalendar()[:2]] = bar  # the week's last trading day
    fourth = sorted(weeks.values(), key=lambda bar: bar.date)[3]
    base = [bar for bar in _bars(market_until_cut / "jp_daily" / "7974.csv") if bar.date == CUT][0]
    grade = SearchGrade.objects.get(saved_search=saved, horizon=4)
    assert grade.interval == "week"
    assert grade.outcome_date == fourth.date
    assert grade.realised_return == pytest.approx(fourth.adj_close / base.adj_close - 1)


def test_weekly_and_monthly_base_rates_are_read_from_the_index(search_market):
    from similarity.engine import base_rate_exact_horizons

    snapshot = snapshot_current()
    for interval in ("week", "month"):
        view = snapshot.at(interval)
        horizons = list(limits.DEFAULT_HORIZONS_BY_INTERVAL[interval])
        assert base_rate_exact_horizons(view.market, horizons, index=view.baseline) == []


def test_a_weekly_or_monthly_search_is_charged_no_more_than_a_daily_one(search_market):
    from similarity.services import search_cost_estimate
    from similarity.validation import search_options_clean

    snapshot = snapshot_current()
    costs = {}
    for interval in limits.INTERVALS:
        options = search_options_clean(options={"interval": interval})
        costs[interval] = search_cost_estimate(
            snapshot=snapshot.at(interval),
            mask=None,
            k=10,
            horizons=options["horizons"],
            options=options,
            length=26,
            same_period=False,
        )
    assert costs["month"] < costs["week"] < costs["day"]


# --- Calibration per interval -------------------------------------------------------------------


def test_a_weekly_calibration_learns_the_weekly_forecast_only(search_market, pro_user, client):
    from io import StringIO

    from similarity.models import CalibrationRun

    out = StringIO()
    call_command("calibrate", "--interval", "week", "--samples", "10", "--seed", "5", stdout=out)
    run = CalibrationRun.objects.get()
    assert run.interval == "week"
    assert (run.lengths, run.horizons) == ([13, 26, 52], [4, 13, 26])
    assert "(week)" in out.getvalue()

    weekly = search_run(user=pro_user, spec=NINTENDO, options={"interval": "week", "k": 10})
    daily = search_run(user=pro_user, spec=NINTENDO, options={"k": 10})
    assert weekly.result["forecast_model"]["version"] == run.forecast_model.pk
    assert daily.result["forecast_model"] is None  # no daily model learned yet

    assert client.get("/api/v1/calibration/").status_code == 404  # daily: none yet
    answer = client.get("/api/v1/calibration/?interval=week")
    assert answer.status_code == 200 and answer.json()["interval"] == "week"
    assert client.get("/api/v1/calibration/?interval=year").status_code == 400


def test_calibrate_refuses_a_weekly_length_beyond_the_weekly_limit(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="260"):
        call_command("calibrate", "--interval", "week", "--lengths", "300")


@pytest.mark.parametrize(("interval", "bars"), [("week", 26), ("month", 12)])
def test_the_one_tap_search_takes_the_latest_weeks_or_months(
    search_market, pro_user, interval, bars
):
    from similarity.services import search_latest_bars

    saved = search_latest_bars(user=pro_user, code="7974", interval=interval)

    expected = period_closes(search_market["7974"], interval)[-bars:]
    assert saved.options["interval"] == interval
    assert saved.pattern == [close for _day, close in expected]
    assert saved.result["horizons"] == list(limits.DEFAULT_HORIZONS_BY_INTERVAL[interval])


def test_one_rebuild_builds_every_interval_and_says_so(search_market):
    from io import StringIO

    out = StringIO()
    call_command("build_snapshot", stdout=out)

    snapshot = snapshot_current()
    week, month = snapshot.at("week").market.size, snapshot.at("month").market.size
    assert 0 < month < week < snapshot.market.size
    assert f"(weekly {week}, monthly {month})" in out.getvalue()


def test_a_weekly_replay_sees_only_outcomes_known_before_the_pattern(search_market, pro_user):
    spec = {"source": "stock", "code": "7974", "from": "2016-06-01", "to": "2016-12-31"}
    saved = search_run(
        user=pro_user, spec=spec, options={"interval": "week", "as_of": True, "k": 20}
    )

    start = saved.result["pattern"]["start_date"]
    longest = max(saved.result["horizons"])
    assert saved.result["matches"]
    for match in saved.result["matches"]:
        weeks = [day.isoformat() for day, _c in period_closes(search_market[match["code"]], "week")]
        end = weeks.index(match["end_date"])
        if end + longest < len(weeks):
            assert weeks[end + longest] < start
