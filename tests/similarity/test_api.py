import time
from types import SimpleNamespace

import pytest

from accounts.services import api_token_rotate
from similarity.models import SavedSearch
from tests.factories import SavedSearchFactory, UserFactory

NINTENDO_2015 = {"code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
PRICES = [100, 102, 101, 105, 110, 108, 112, 115, 113, 118, 117, 121]


@pytest.fixture
def api(client, pro_user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"
    return client


def _post(client, body, **extra):
    return client.post("/api/v1/search/", data=body, content_type="application/json", **extra)


def test_search_by_stock_range_answers_matches_and_the_saved_id(search_market, api, pro_user):
    response = _post(api, {**NINTENDO_2015, "k": 5})

    assert response.status_code == 201
    body = response.json()
    saved = SavedSearch.objects.get(pk=body["id"])
    assert saved.user == pro_user
    assert body["pattern"]["code"] == "7974"
    assert len(body["matches"]) == 5
    match = body["matches"][0]
    assert {"code", "name", "start_date", "end_date", "correlation", "distance", "returns"} <= set(
        match
    )
    assert [stat["horizon"] for stat in body["stats"]] == [5, 20, 60]
    assert body["elapsed_ms"] > 0


def test_same_period_is_a_list_apart_from_the_matches(search_market, api):
    response = _post(api, {**NINTENDO_2015, "k": 5, "same_period": True})

    assert response.status_code == 201
    body = response.json()
    assert body["options"]["same_period"] is True
    assert len(body["matches"]) == 5
    assert len(body["same_period"]) == 5
    for item in body["same_period"]:
        assert item["start_date"] <= "2015-04-30" and item["end_date"] >= "2015-01-05"
        assert {"rank", "code", "correlation", "returns"} <= set(item)
        assert "episode" not in item


def test_the_schema_documents_the_same_period_option_and_list(search_market, api):
    schemas = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "components"
    ]["schemas"]

    option = schemas["SearchInputRequest"]["properties"]["same_period"]
    listed = schemas["SavedSearch"]["properties"]["same_period"]
    assert option["type"] == "boolean" and option["description"]
    assert listed["items"] == {"$ref": "#/components/schemas/Match"}
    assert "same_period" not in schemas["SavedSearch"]["required"]


def test_search_by_prices_with_options(search_market, api):
    response = _post(
        api, {"prices": PRICES, "mode": "latest", "k": 3, "sector": "3650", "stretch": False}
    )

    assert response.status_code == 201
    assert [match["code"] for match in response.json()["matches"]] == ["6758"]
    assert response.json()["matches"][0]["latest_close"] > 0


def test_search_by_sketch(search_market, api):
    response = _post(api, {"points": [[0, 0], [10, 8], [20, 3], [30, 9]], "days": 25})

    assert response.status_code == 201
    assert response.json()["pattern"]["length"] == 25


def test_json_sent_with_a_form_content_type_is_read(search_market, api):
    import json

    response = api.post(
        "/api/v1/search/",
        data=json.dumps({"prices": PRICES}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 201


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_body_that_is_not_json_is_400(search_market, api, content_type):
    response = api.post("/api/v1/search/", data="prices=1,2,3", content_type=content_type)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_unknown_code_is_404(search_market, api):
    response = _post(api, {**NINTENDO_2015, "code": "9999"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "9999" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NINTENDO_2015, "from": "2015-05-01"}, "from"),
        ({**NINTENDO_2015, "to": "2015-01-07"}, "to"),
        ({**NINTENDO_2015, "from": "2012-01-04", "to": "2015-01-07"}, "to"),
        ({**NINTENDO_2015, "from": "January"}, "from"),
        ({"code": "7974", "from": "2015-01-05"}, "to"),
        ({"prices": [1, 2, "three", 4, 5]}, "prices"),
        ({"prices": [1, 2, 3, 4]}, "prices"),
        ({"prices": list(range(501))}, "prices"),
        ({"prices": [7, 7, 7, 7, 7, 7]}, "prices"),
        ({"prices": [1, 2, 3, 4, "Infinity"]}, "prices"),
        ({"prices": [1, 2, 3, 4, "NaN"]}, "prices"),
        ({"prices": PRICES, "colour": "red"}, "colour"),
        ({"prices": PRICES, "mode": "future"}, "mode"),
        ({"prices": PRICES, "k": 0}, "k"),
        ({"prices": PRICES, "k": 101}, "k"),
        ({"prices": PRICES, "horizons": [0]}, "horizons"),
        ({"prices": PRICES, "min_turnover": -5}, "min_turnover"),
        ({**NINTENDO_2015, "same_period": "maybe"}, "same_period"),
        ({"prices": PRICES, "date_from": "2017-01-01", "date_to": "2016-01-01"}, "date_from"),
        ({"points": [], "days": 20}, "points"),
        ({"points": [[0, 1], [1, 2]], "days": 3}, "days"),
        ({"prices": PRICES, "code": "7974"}, "code"),
        ({"k": 5}, "non_field_errors"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(search_market, api, body, field):
    response = _post(api, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert error["message"]


def test_a_json_list_body_is_400(search_market, api):
    response = _post(api, [1, 2, 3, 4, 5])

    assert response.status_code == 400


def test_anonymous_is_401(search_market, client):
    response = _post(client, {"prices": PRICES})

    assert response.status_code == 401


def test_a_free_user_needs_pro_for_the_api(search_market, client, user):
    client.force_login(user)

    response = _post(client, {"prices": PRICES})

    assert response.status_code == 402
    assert not SavedSearch.objects.exists()


def test_the_list_has_only_the_users_searches(search_market, api, pro_user):
    SavedSearchFactory(user=UserFactory(email="o@example.com"))
    mine = _post(api, {"prices": PRICES}).json()["id"]

    response = api.get("/api/v1/searches/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [item["id"] for item in response.json()["results"]] == [mine]


def test_a_saved_search_reads_back_as_it_was_answered(search_market, api):
    answered = _post(api, {**NINTENDO_2015, "k": 4}).json()

    response = api.get(f"/api/v1/searches/{answered['id']}/")

    assert response.status_code == 200
    assert response.json() == answered


def test_someone_elses_search_is_404(search_market, api):
    theirs = SavedSearchFactory(user=UserFactory(email="o@example.com"))

    response = api.get(f"/api/v1/searches/{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_rerun_answers_a_new_saved_search(search_market, api):
    first = _post(api, {"prices": PRICES}).json()

    response = api.post(f"/api/v1/searches/{first['id']}/rerun/")

    assert response.status_code == 201
    assert response.json()["id"] != first["id"]
    assert response.json()["rerun_of"] == first["id"]


def test_the_quota_answers_429_when_used_up(search_market, api, pro_user):
    from billing.models import Plan

    Plan.objects.filter(slug="pro").update(searches_per_day=2)
    assert _post(api, {"prices": PRICES}).status_code == 201
    assert _post(api, {"prices": PRICES}).status_code == 201

    response = _post(api, {"prices": PRICES})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "quota_exceeded"


def test_the_plan_rate_limit_answers_429(search_market, api, pro_user):
    from billing.models import Plan

    Plan.objects.filter(slug="pro").update(api_requests_per_minute=2)
    assert api.get("/api/v1/searches/").status_code == 200
    assert api.get("/api/v1/searches/").status_code == 200

    response = api.get("/api/v1/searches/")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_without_a_snapshot_the_search_is_503(db, api, settings, tmp_path):
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "none"

    response = _post(api, {"prices": PRICES})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "snapshot_missing"


def test_api_searches_work_while_redis_is_down(private_redis, search_market, api):
    # The quota and the plan throttle count in this process's memory until Redis is back.
    private_redis.stop()

    response = _post(api, {"prices": PRICES, "k": 3})

    assert response.status_code == 201
    assert len(response.json()["matches"]) == 3


def test_a_corrupt_snapshot_makes_the_search_503_and_pages_keep_working(
    search_market, api, monkeypatch
):
    from similarity import snapshot as snapshots

    current = snapshots.snapshot_current()
    # Replaced, not written into: the file is a hard link to the session's template.
    (current.folder / "closes.npy").unlink()
    (current.folder / "closes.npy").write_bytes(b"\x93NUMPY truncated")
    monkeypatch.setattr(snapshots, "_current", None)
    monkeypatch.setattr(snapshots, "_broken", {})

    response = _post(api, {"prices": PRICES, "k": 3}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "snapshot_unavailable"
    assert "integrity check" in response.json()["error"]["message"]
    for page in ("/", "/stocks/", "/stocks/7974/", "/search/", "/pricing/"):
        assert api.get(page).status_code == 200, page


def test_heavy_searches_are_refused_once_the_minutes_cpu_budget_is_spent(
    search_market, api, pro_user, monkeypatch
):
    from billing.entitlements import entitlements_for
    from similarity import limits
    from similarity.snapshot import snapshot_current

    market = snapshot_current().market
    heavy_ms = limits.search_cost_ms(
        closes=market.size,
        series=len(market),
        length=len(PRICES),
        k=100,
        stretch=True,
        mode="history",
    )
    light_ms = limits.search_cost_ms(
        closes=market.size,
        series=len(market),
        length=len(PRICES),
        k=3,
        stretch=False,
        mode="history",
    )
    assert heavy_ms > 5 * light_ms
    monkeypatch.setattr(limits, "BASE_RATE_INDEXED_MS", 0.0)
    monkeypatch.setattr(limits, "BASE_RATE_EXACT_MS_PER_MILLION_CLOSES", 0.0)
    monkeypatch.setattr(limits, "SEARCH_COST_MS_PER_MINUTE", 1.5 * heavy_ms)
    # The budget is counted per clock minute: the clock the budget reads stands 20 seconds into
    # a minute, so the three searches fall in the same one however long each takes.
    minute = 60 * (int(time.time()) // 60 + 1)
    monkeypatch.setattr("billing.entitlements.time", SimpleNamespace(time=lambda: minute + 20.0))
    heavy = {"prices": PRICES, "k": 100, "stretch": True}

    first = _post(api, heavy)
    second = _post(api, heavy, HTTP_ACCEPT_LANGUAGE="en")
    light = _post(api, {"prices": PRICES, "k": 3})

    assert (first.status_code, second.status_code, light.status_code) == (201, 429, 201)
    assert second.json()["error"]["code"] == "search_cost_exceeded"
    assert "fewer matches" in second.json()["error"]["message"]
    assert "Try again in 40 seconds" in second.json()["error"]["message"]
    # The refused search did not use one of the day's searches.
    assert entitlements_for(user=pro_user).searches_today == 2
