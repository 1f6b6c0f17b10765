import pytest

from accounts.services import api_token_rotate
from alerts.models import Alert
from alerts.runs import alert_deliveries_send, alerts_check
from alerts.services import alert_create
from billing.models import Plan

from .conftest import DAYS, spike_pattern

PRICES = [100, 102, 101, 105, 110, 108, 112, 115, 113, 118]


@pytest.fixture
def api(client, pro_user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"
    return client


def _post(client, body):
    return client.post("/api/v1/alerts/", data=body, content_type="application/json")


def _patch(client, alert_id, body):
    return client.patch(f"/api/v1/alerts/{alert_id}/", data=body, content_type="application/json")


def test_create_from_prices_answers_201_with_the_alert(api, pro_user):
    response = _post(api, {"prices": PRICES, "name": "Up steps", "segment": "グロース"})
    assert response.status_code == 201
    body = response.json()
    alert = Alert.objects.get(pk=body["id"])
    assert alert.user == pro_user
    assert body["name"] == "Up steps"
    assert body["threshold"] == 0.9
    assert body["active"] is True
    assert body["pattern"] == PRICES
    assert body["segment"] == "グロース"
    assert body["spec"] == {"source": "prices", "prices": [float(p) for p in PRICES]}


def test_a_stock_range_is_frozen_to_its_closes(api, synthetic_market):
    days = synthetic_market.days
    response = _post(
        api, {"code": "1003", "from": str(days[10]), "to": str(days[39]), "threshold": 0.85}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["length"] == 30
    assert body["source"] == "stock"
    assert body["threshold"] == 0.85
    assert body["pattern"][0] == pytest.approx(
        synthetic_market.stocks["1003"].bars.order_by("date")[10].adj_close
    )


def test_a_sketch_is_frozen_to_its_prices(api):
    response = _post(api, {"points": [[0, 0], [10, 5], [20, 2], [30, 8]], "days": 25})
    assert response.status_code == 201
    assert response.json()["length"] == 25


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prices": PRICES, "threshold": 0.5}, "threshold"),
        ({"prices": PRICES, "threshold": 1.0}, "threshold"),
        ({"prices": [1, 2, 3]}, "prices"),
        ({"prices": [5, 5, 5, 5, 5, 5]}, "prices"),
        ({"prices": PRICES, "k": 10}, "k"),
        ({"prices": PRICES, "min_turnover": -1}, "min_turnover"),
        ({"points": [[0, 1], [5, 2]], "days": 2}, "days"),
        ({"code": "7203", "from": "2015-02-01", "to": "2015-01-01"}, "from"),
        ({"name": "nothing to watch"}, "non_field_errors"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, body, field):
    response = _post(api, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Alert.objects.count() == 0


def test_an_unknown_stock_is_a_404(api, synthetic_market):
    response = _post(api, {"code": "9999", "from": "2026-01-05", "to": "2026-02-05"})
    assert response.status_code == 404


def test_over_the_plan_limit_is_a_403_that_says_the_limit(api):
    Plan.objects.filter(slug="pro").update(max_alerts=2)
    assert _post(api, {"prices": PRICES}).status_code == 201
    assert _post(api, {"prices": PRICES[::-1]}).status_code == 201
    response = _post(api, {"prices": PRICES[1:]})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "alert_limit"
    assert "2" in error["message"]
    assert Alert.objects.count() == 2


def test_list_get_patch_and_delete(api):
    first = _post(api, {"prices": PRICES, "name": "first"}).json()
    second = _post(api, {"prices": PRICES[::-1], "name": "second"}).json()

    listed = api.get("/api/v1/alerts/").json()
    assert [item["id"] for item in listed["results"]] == [second["id"], first["id"]]
    assert api.get(f"/api/v1/alerts/{first['id']}/").json()["name"] == "first"

    paused = _patch(api, first["id"], {"active": False, "threshold": 0.95, "name": "renamed"})
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["paused_by"] == "user"
    assert paused.json()["threshold"] == 0.95
    assert paused.json()["name"] == "renamed"
    assert _patch(api, first["id"], {"active": True}).json()["active"] is True
    assert _patch(api, first["id"], {"threshold": 0.7}).status_code == 400
    assert _patch(api, first["id"], {"colour": "red"}).status_code == 400

    assert api.delete(f"/api/v1/alerts/{first['id']}/").status_code == 204
    assert not Alert.objects.filter(pk=first["id"]).exists()


def test_resuming_over_the_limit_is_refused(api):
    Plan.objects.filter(slug="pro").update(max_alerts=1)
    first = _post(api, {"prices": PRICES}).json()
    _patch(api, first["id"], {"active": False})
    assert _post(api, {"prices": PRICES[::-1]}).status_code == 201
    response = _patch(api, first["id"], {"active": True})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "alert_limit"


def test_another_users_alert_is_a_404(api, other_user):
    theirs = alert_create(user=other_user, spec={"source": "prices", "prices": PRICES})
    for response in (
        api.get(f"/api/v1/alerts/{theirs.pk}/"),
        _patch(api, theirs.pk, {"active": False}),
        api.delete(f"/api/v1/alerts/{theirs.pk}/"),
        api.get(f"/api/v1/alerts/{theirs.pk}/hits/"),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert api.get("/api/v1/alerts/").json()["results"] == []


def test_hits_list_the_stocks_with_links(api, pro_user, synthetic_market):
    alert = _post(api, {"prices": spike_pattern()}).json()
    synthetic_market.load(DAYS)
    alerts_check()
    alert_deliveries_send()
    response = api.get(f"/api/v1/alerts/{alert['id']}/hits/")
    assert response.status_code == 200
    [hit] = response.json()["results"]
    assert hit["code"] == "1001"
    assert hit["data_date"] == synthetic_market.new_day.isoformat()
    assert hit["correlation"] >= 0.9
    assert hit["chart_url"].startswith("/stocks/1001/?date_from=")
    assert hit["search_url"].startswith("/search/?source=stock&code=1001&date_from=")


def test_the_free_plan_has_no_api(client, user):
    client.force_login(user)
    assert _post(client, {"prices": PRICES}).status_code == 402


def test_the_schema_documents_the_alert_endpoints(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/alerts/"]) >= {"get", "post"}
    assert set(paths["/api/v1/alerts/{alert_id}/"]) >= {"get", "patch", "delete"}
    assert "get" in paths["/api/v1/alerts/{alert_id}/hits/"]
    assert "403" in paths["/api/v1/alerts/"]["post"]["responses"]
