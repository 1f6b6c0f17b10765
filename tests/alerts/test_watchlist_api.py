"""The watchlist API (issue 23, point 4): /api/v1/watchlist/ for every signed-in user."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.services import api_token_rotate
from alerts.models import WatchlistEntry
from alerts.watchlist.services import watchlist_add
from billing.models import Plan
from tests.factories import StockFactory, walk_closes

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocks(db):
    return {
        code: StockFactory(code=code, name=f"銘柄{code}", closes=walk_closes(seed=seed, days=30))
        for seed, code in enumerate(("7203", "6758", "130A"))
    }


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _add(client, code):
    return client.post("/api/v1/watchlist/", data={"code": code}, content_type="application/json")


def test_adding_a_stock_is_a_201_with_its_last_move(signed_in, user, stocks):
    response = _add(signed_in, "7203")

    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "7203"
    assert body["name"] == "銘柄7203"
    assert body["last_date"] == "2018-11-16"
    closes = walk_closes(seed=0, days=30)
    assert body["last_close"] == pytest.approx(closes[-1])
    assert body["change"] == pytest.approx(closes[-1] / closes[-2] - 1)
    assert list(WatchlistEntry.objects.filter(user=user).values_list("stock__code", flat=True)) == [
        "7203"
    ]


def test_adding_twice_is_a_200_and_keeps_one_entry(signed_in, user, stocks):
    assert _add(signed_in, "7203").status_code == 201

    again = _add(signed_in, "７２０３")  # full-width: the same stock

    assert again.status_code == 200
    assert again.json()["code"] == "7203"
    assert WatchlistEntry.objects.filter(user=user).count() == 1


def test_an_unknown_code_is_a_404_in_the_error_format(signed_in, stocks):
    response = _add(signed_in, "9999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "9999" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": ["7203"]}, {"code": "x" * 40}])
def test_bad_input_is_a_400_naming_the_code(signed_in, stocks, body):
    response = signed_in.post("/api/v1/watchlist/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]


def test_list_is_the_users_own_newest_first(signed_in, user, other_user, stocks):
    _add(signed_in, "7203")
    _add(signed_in, "130A")
    watchlist_add(user=other_user, code="6758")

    response = signed_in.get("/api/v1/watchlist/")

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["130A", "7203"]


def test_delete_is_a_204_and_then_a_404(signed_in, user, stocks):
    _add(signed_in, "7203")

    assert signed_in.delete("/api/v1/watchlist/7203/").status_code == 204
    assert not WatchlistEntry.objects.filter(user=user).exists()
    again = signed_in.delete("/api/v1/watchlist/7203/")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


def test_deleting_leaves_another_users_list_alone(signed_in, other_user, stocks):
    watchlist_add(user=other_user, code="7203")

    assert signed_in.delete("/api/v1/watchlist/7203/").status_code == 404
    assert WatchlistEntry.objects.filter(user=other_user).count() == 1


def test_over_the_plan_limit_is_a_403_that_says_the_limit(signed_in, user, stocks):
    Plan.objects.filter(slug="free").update(max_watchlist=2)
    _add(signed_in, "7203")
    _add(signed_in, "6758")

    response = _add(signed_in, "130A")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "watchlist_limit"
    assert "2" in error["message"]
    # A stock already there is still a 200 at the limit.
    assert _add(signed_in, "7203").status_code == 200
    assert WatchlistEntry.objects.filter(user=user).count() == 2


def test_the_seeded_plans_allow_10_and_300():
    assert Plan.objects.get(slug="free").max_watchlist == 10
    assert Plan.objects.get(slug="pro").max_watchlist == 300


def test_anonymous_is_a_401(client, stocks):
    assert client.get("/api/v1/watchlist/").status_code == 401
    assert _add(client, "7203").status_code == 401
    assert client.delete("/api/v1/watchlist/7203/").status_code == 401


def test_an_api_token_works(client, pro_user, stocks):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"

    assert _add(client, "7203").status_code == 201
    assert [row["code"] for row in client.get("/api/v1/watchlist/").json()["results"]] == ["7203"]


def test_a_session_post_needs_the_csrf_token(user, stocks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert _add(client, "7203").status_code == 403
    assert not WatchlistEntry.objects.exists()


def test_the_schema_documents_the_watchlist(signed_in):
    schema = signed_in.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    assert set(schema["paths"]["/api/v1/watchlist/"]) >= {"get", "post"}
    assert "delete" in schema["paths"]["/api/v1/watchlist/{code}/"]
    assert {"200", "201", "403", "404"} <= set(
        schema["paths"]["/api/v1/watchlist/"]["post"]["responses"]
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_adds_do_not_pass_the_limit(seeded_plans, django_user_model):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    Plan.objects.filter(slug="free").update(max_watchlist=3)
    user = django_user_model.objects.create_user(email="race@example.com", password="x")
    codes = [f"{8000 + n}" for n in range(8)]
    for code in codes:
        StockFactory(code=code)
    barrier = threading.Barrier(len(codes))
    statuses = []

    def add(code):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait()
            statuses.append(_add(client, code).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] * 3 + [403] * 5
    assert WatchlistEntry.objects.filter(user=user).count() == 3
