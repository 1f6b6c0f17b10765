"""Alerts limited to the watchlist (issue 23, point 4: `universe: "watchlist"`): the run checks
only the stocks in the user's watchlist when it runs; the account export and deletion cover the
watchlist."""

import json

import pytest

from accounts.services import account_delete, api_token_rotate
from alerts.models import Alert, AlertHit, WatchlistEntry
from alerts.runs import alerts_check
from alerts.services import AlertInputError, alert_create, alert_update
from alerts.watchlist.services import watchlist_add, watchlist_remove

from .conftest import DAYS, spike_pattern

pytestmark = pytest.mark.django_db

SPIKE = {"source": "prices", "prices": spike_pattern()}


def _hit_codes() -> set[str]:
    return set(AlertHit.objects.values_list("code", flat=True))


def test_a_market_alert_sees_every_stock(user, synthetic_market):
    alert_create(user=user, spec=SPIKE)

    alerts_check()

    assert "1002" in _hit_codes()  # its spike ends the window on the day before


def test_a_watchlist_alert_with_an_empty_watchlist_finds_nothing(user, synthetic_market):
    alert = alert_create(user=user, spec=SPIKE, universe="watchlist")

    checked = alerts_check()

    assert checked.alerts == 1
    assert _hit_codes() == set()
    alert.refresh_from_db()
    assert alert.last_checked_date == synthetic_market.previous_day


def test_the_watchlist_is_read_when_the_alert_runs(user, other_user, synthetic_market):
    alert_create(user=user, spec=SPIKE, universe="watchlist")
    # Added after the alert was made; another user's watchlist does not count.
    watchlist_add(user=user, code="1002")
    watchlist_add(user=other_user, code="1001")
    alert_create(user=other_user, spec=SPIKE, universe="watchlist")

    alerts_check()
    assert set(AlertHit.objects.filter(alert__user=user).values_list("code", flat=True)) == {"1002"}
    assert not AlertHit.objects.filter(alert__user=other_user).exists()

    # The new day: 1001 jumps, but it is only in the other user's watchlist.
    watchlist_remove(user=user, code="1002")
    synthetic_market.load(DAYS)
    alerts_check()
    new_day = synthetic_market.new_day
    assert not AlertHit.objects.filter(alert__user=user, data_date=new_day).exists()
    assert set(
        AlertHit.objects.filter(alert__user=other_user, data_date=new_day).values_list(
            "code", flat=True
        )
    ) == {"1001"}


def test_the_watchlist_and_the_filters_apply_together(user, synthetic_market):
    watchlist_add(user=user, code="1002")
    alert_create(user=user, spec=SPIKE, universe="watchlist", segment="グロース")

    alerts_check()

    assert _hit_codes() == set()


def test_an_unknown_universe_is_refused(user, synthetic_market):
    with pytest.raises(AlertInputError) as caught:
        alert_create(user=user, spec=SPIKE, universe="sector")
    assert "universe" in caught.value.fields


def test_the_universe_can_be_changed(user, synthetic_market):
    alert = alert_create(user=user, spec=SPIKE)

    alert_update(user=user, alert=alert, universe="watchlist")

    alert.refresh_from_db()
    assert alert.universe == Alert.Universe.WATCHLIST


def test_the_api_takes_and_shows_the_universe(client, pro_user, synthetic_market):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"

    created = client.post(
        "/api/v1/alerts/",
        data={"prices": spike_pattern(), "universe": "watchlist"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["universe"] == "watchlist"
    changed = client.patch(
        f"/api/v1/alerts/{created.json()['id']}/",
        data={"universe": "market"},
        content_type="application/json",
    )
    assert changed.json()["universe"] == "market"
    bad = client.post(
        "/api/v1/alerts/",
        data={"prices": spike_pattern(), "universe": "everything"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "universe" in bad.json()["error"]["fields"]


def test_the_alert_me_button_and_the_alerts_page_take_the_universe(client, user):
    from tests.factories import SavedSearchFactory

    saved = SavedSearchFactory(user=user)
    client.force_login(user)
    assert 'name="universe"' in client.get(f"/search/results/{saved.pk}/").content.decode()

    client.post("/account/alerts/new/", {"search_id": str(saved.pk), "universe": "watchlist"})
    alert = Alert.objects.get(user=user)
    assert alert.universe == "watchlist"
    page = client.get("/account/alerts/").content.decode()
    assert "お気に入りの銘柄" in page

    client.post(f"/account/alerts/{alert.pk}/universe/", {"universe": "market"})
    alert.refresh_from_db()
    assert alert.universe == "market"


def test_the_export_holds_the_watchlist(client, user, synthetic_market):
    watchlist_add(user=user, code="1003")
    alert_create(user=user, spec=SPIKE, universe="watchlist")
    client.force_login(user)

    data = json.loads(b"".join(client.get("/account/export/").streaming_content))

    assert [entry["stock__code"] for entry in data["watchlist"]] == ["1003"]
    assert data["shape_alerts"][0]["universe"] == "watchlist"


def test_deleting_the_account_deletes_the_watchlist(user, other_user, synthetic_market):
    watchlist_add(user=user, code="1003")
    watchlist_add(user=other_user, code="1003")

    account_delete(user=user)

    assert list(WatchlistEntry.objects.values_list("user_id", flat=True)) == [other_user.pk]
