"""The forecast a search shows after a calibration, the verdict's new fields, the `as_of` replay,
and the API schema that documents them."""

import numpy as np
import pytest
from django.core.management import call_command

from accounts.services import api_token_rotate
from billing.entitlements import entitlements_for
from similarity import selectors
from similarity.models import ForecastModel
from similarity.services import search_run
from similarity.snapshot import snapshot_current
from similarity.validation import SearchInputError

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
FORECAST_KEYS = {"p10", "p25", "p50", "p75", "p90", "matches_weight"}


@pytest.fixture
def calibrated(search_market):
    call_command("calibrate", "--samples", "9", "--lengths", "20,60", "--seed", "5")
    return ForecastModel.objects.get()


@pytest.fixture
def api(client, pro_user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"
    return client


def _post(client, body):
    return client.post("/api/v1/search/", data=body, content_type="application/json")


def test_a_search_after_a_calibration_carries_a_forecast_per_horizon(calibrated, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 20})

    assert saved.result["forecast_model"] == {
        "version": calibrated.pk,
        "data_date": calibrated.snapshot_date.isoformat(),
        "demo": False,
    }
    for stat in saved.result["stats"]:
        forecast = stat["forecast"]
        assert set(forecast) == FORECAST_KEYS
        values = [forecast[name] for name in ("p10", "p25", "p50", "p75", "p90")]
        assert values == sorted(values)
        assert 0 <= forecast["matches_weight"] <= 1


def test_before_any_calibration_there_is_no_forecast(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 20})

    assert saved.result["forecast_model"] is None
    assert all(stat["forecast"] is None for stat in saved.result["stats"])


def test_the_verdict_compares_excess_returns_and_needs_ten_episodes(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 20})

    for stat in saved.result["stats"]:
        assert stat["baseline"]["excess_median"] is not None
        if stat["count"] < 10:
            assert stat["verdict"] == "insufficient"
            assert stat["interval"]["median"] is None
            assert stat["interval"]["range"][0] <= stat["median"] <= stat["interval"]["range"][1]
        else:
            assert stat["verdict"] in ("above", "below", "indistinguishable")


def test_as_of_searches_only_windows_whose_outcomes_were_known_before_the_pattern(
    search_market, pro_user
):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 20, "as_of": True})

    market = snapshot_current().market
    first_day = np.datetime64("2015-01-05")
    assert saved.result["matches"]
    for match in saved.result["matches"]:
        dates = market.series_dates(market.index_of(match["code"]))
        end = int(np.searchsorted(dates, np.datetime64(match["end_date"])))
        assert dates[end + 60] < first_day  # the longest horizon closed before the pattern


def test_as_of_of_pasted_prices_is_refused_before_a_search_is_charged(search_market, pro_user):
    with pytest.raises(SearchInputError) as refused:
        search_run(
            user=pro_user,
            spec={"source": "prices", "prices": [100, 102, 101, 105, 110, 108, 112, 115]},
            options={"as_of": True},
        )

    assert "as_of" in refused.value.fields
    assert entitlements_for(user=pro_user).searches_today == 0


def test_as_of_through_the_api_needs_a_stock_range_in_history_mode(search_market, api):
    ok = _post(api, {"code": "7974", "from": "2015-01-05", "to": "2015-04-30", "as_of": True})
    prices = _post(api, {"prices": [100, 102, 101, 105, 110, 108, 112, 115], "as_of": True})
    latest = _post(
        api,
        {"code": "7974", "from": "2015-01-05", "to": "2015-04-30", "as_of": True, "mode": "latest"},
    )

    assert ok.status_code == 201 and ok.json()["options"]["as_of"] is True
    assert prices.status_code == 400 and "as_of" in prices.json()["error"]["fields"]
    assert latest.status_code == 400 and "as_of" in latest.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("as_of", "language", "text"),
    [
        (False, "en", "this is not a backtest"),
        (False, "ja", "これはバックテストではありません"),
        (True, "en", "Only the data known before the pattern began"),
        (True, "ja", "パターンが始まる前に分かっていたデータだけ"),
    ],
)
def test_the_result_page_says_whether_later_history_is_included(
    search_market, pro_user, client, as_of, language, text
):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10, "as_of": as_of})
    client.force_login(pro_user)

    html = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE=language)

    assert text in html.content.decode()


@pytest.mark.parametrize(
    ("language", "forecast", "described"),
    [
        ("en", "Forecast range", "What happened to these matches"),
        ("ja", "予測レンジ", "これらの類似チャートのその後"),
    ],
)
def test_the_result_page_labels_the_forecast_apart_from_what_happened(
    calibrated, pro_user, client, language, forecast, described
):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 20})
    client.force_login(pro_user)

    html = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE=language)

    body = html.content.decode()
    assert forecast in body and described in body
    assert body.count('data-testid="forecast-row"') == 3


def test_the_search_form_offers_the_as_of_checkbox_in_japanese(client, search_market, pro_user):
    client.force_login(pro_user)

    body = client.get("/search/").content.decode()

    assert "その時点で分かっていたデータだけ" in body
    assert 'name="as_of"' in body


def test_the_schema_documents_the_forecast_verdict_and_as_of(search_market, api):
    schemas = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "components"
    ]["schemas"]

    stats = schemas["HorizonStats"]["properties"]
    assert set(schemas["Forecast"]["properties"]) == FORECAST_KEYS
    assert "forecast" in stats and "booked" in stats
    assert "insufficient" in schemas["VerdictEnum"]["enum"]
    assert "excess_median" in schemas["Baseline"]["properties"]
    assert "as_of" in schemas["SearchInputRequest"]["properties"]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch):
    monkeypatch.setattr(selectors, "_benchmark", {})
    monkeypatch.setattr(selectors, "_excess", {})
