import pytest
from django.core import mail

from alerts.models import Alert, AlertChannelPreference
from alerts.runs import alert_deliveries_send, alerts_check
from alerts.services import alert_create
from billing.models import Plan
from similarity.services import search_run

from .conftest import DAYS, spike_pattern

PRICES = [100, 102, 101, 105, 110, 108, 112, 115, 113, 118]


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_alert_me_on_a_results_page_saves_the_search_s_pattern_and_filters(
    signed_in, user, synthetic_market
):
    saved = search_run(
        user=user,
        spec={"source": "prices", "prices": spike_pattern()},
        options={"mode": "latest", "segment": "プライム（内国株式）"},
    )
    page = signed_in.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="alert-me"' in page.content
    assert b'name="search_id"' in page.content

    response = signed_in.post("/account/alerts/new/", {"search_id": str(saved.pk)})
    assert response.status_code == 302
    assert response["Location"] == "/account/alerts/"
    alert = Alert.objects.get()
    assert alert.spec == saved.spec
    assert alert.pattern == saved.pattern
    assert alert.segment == "プライム（内国株式）"
    assert alert.name == saved.label


def test_alert_me_on_the_search_form_saves_the_form_s_pattern(signed_in):
    page = signed_in.get("/search/")
    assert b'formaction="/account/alerts/new/"' in page.content
    response = signed_in.post(
        "/account/alerts/new/",
        {"source": "prices", "prices": " ".join(map(str, PRICES)), "mode": "latest", "k": "10"},
    )
    assert response.status_code == 302
    assert Alert.objects.get().pattern == PRICES


def test_a_bad_pattern_from_the_form_saves_nothing_and_says_why(signed_in):
    response = signed_in.post(
        "/account/alerts/new/",
        {"source": "prices", "prices": "1 2 3", "mode": "latest", "k": "10"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.redirect_chain[-1][0].startswith("/search/?source=prices")
    assert Alert.objects.count() == 0
    assert "at least 5" in response.content.decode()


def test_someone_else_s_search_cannot_be_watched(signed_in, other_user, synthetic_market):
    saved = search_run(
        user=other_user, spec={"source": "prices", "prices": PRICES}, options={"mode": "latest"}
    )
    signed_in.post("/account/alerts/new/", {"search_id": str(saved.pk)})
    assert Alert.objects.count() == 0


def test_the_free_plan_s_one_alert_is_enforced(signed_in, user):
    signed_in.post("/account/alerts/new/", {"source": "prices", "prices": "1 2 3 4 9", "k": "10"})
    response = signed_in.post(
        "/account/alerts/new/",
        {"source": "prices", "prices": "1 2 3 4 7", "k": "10", "mode": "latest"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert Alert.objects.count() == 1
    assert "allows 1 active alerts" in response.content.decode()


def test_the_alerts_page_lists_alerts_and_their_last_hits_with_links(
    signed_in, user, synthetic_market
):
    alert = alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load(DAYS)
    alerts_check()
    alert_deliveries_send()
    page = signed_in.get("/account/alerts/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert alert.name in html
    assert html.count('data-testid="alert-hit"') == 1
    assert "/stocks/1001/?date_from=" in html
    assert "/search/?source=stock&amp;code=1001&amp;date_from=" in html
    assert "1 of 1 active alerts" in html


def test_pause_resume_threshold_and_delete_from_the_page(signed_in, user):
    alert = alert_create(user=user, spec={"source": "prices", "prices": PRICES})
    signed_in.post(f"/account/alerts/{alert.pk}/pause/")
    alert.refresh_from_db()
    assert (alert.status, alert.paused_by) == ("paused", "user")
    signed_in.post(f"/account/alerts/{alert.pk}/resume/")
    alert.refresh_from_db()
    assert alert.is_active
    signed_in.post(f"/account/alerts/{alert.pk}/threshold/", {"threshold": "0.93"})
    alert.refresh_from_db()
    assert alert.threshold == 0.93
    response = signed_in.post(
        f"/account/alerts/{alert.pk}/threshold/",
        {"threshold": "0.5"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "threshold must be from 0.80 to 0.99" in response.content.decode()
    alert.refresh_from_db()
    assert alert.threshold == 0.93
    signed_in.post(f"/account/alerts/{alert.pk}/delete/")
    assert not Alert.objects.exists()


def test_another_user_s_alert_is_a_404_on_the_pages(signed_in, other_user):
    theirs = alert_create(user=other_user, spec={"source": "prices", "prices": PRICES})
    for action in ("pause", "resume", "threshold", "delete"):
        assert signed_in.post(f"/account/alerts/{theirs.pk}/{action}/").status_code == 404
    assert Alert.objects.filter(pk=theirs.pk, status="active").exists()


def test_the_pages_need_a_login(client):
    assert client.get("/account/alerts/").status_code == 302
    assert client.post("/account/alerts/new/", {"prices": "1 2 3 4 5"}).status_code == 302


def test_a_plan_with_more_alerts_shows_its_limit(signed_in, pro_user):
    Plan.objects.filter(slug="pro").update(max_alerts=7)
    html = signed_in.get("/account/alerts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 of 7 active alerts" in html


def test_mails_can_be_turned_off_and_on_from_the_page(signed_in, user):
    signed_in.post("/account/alerts/channels/", {})
    assert AlertChannelPreference.objects.get(user=user).mails_enabled is False
    signed_in.post("/account/alerts/channels/", {"mail": "1"})
    assert AlertChannelPreference.objects.get(user=user).mails_enabled is True
    assert mail.outbox == []


def test_a_search_id_that_is_no_uuid_is_refused_not_a_500(signed_in):
    response = signed_in.post("/account/alerts/new/", {"search_id": "abc"})

    assert response.status_code == 302 and response["Location"] == "/account/alerts/"
    assert Alert.objects.count() == 0


def test_pausing_and_creating_cannot_go_on_for_ever(signed_in, user):
    from alerts import limits as alert_limits
    from alerts.services import AlertLimitReached, alert_update

    stored = []
    with pytest.raises(AlertLimitReached):
        for step in range(10):
            alert = alert_create(user=user, spec={"source": "prices", "prices": [1, 2, 3, 4, step]})
            stored.append(alert)
            alert_update(user=user, alert=alert, active=False)

    assert Alert.objects.filter(user=user).count() == alert_limits.STORED_PER_ACTIVE_ALLOWED


def test_a_sketch_alert_keeps_its_days_not_every_point_drawn(user, synthetic_market):
    points = [[x / 100, (x % 50) / 10] for x in range(10_000)]

    alert = alert_create(user=user, spec={"source": "sketch", "points": points, "days": 30})

    assert len(alert.spec["points"]) == 30
    assert alert.pattern == [point[1] for point in alert.spec["points"]]


def test_the_alerts_page_keeps_every_kept_hit_of_the_latest_day_one_click_away(signed_in, user):
    """A digest points to the alerts page for the hits it does not list: every hit the alert
    kept of its latest data date is there, the first ones in view, the others one click away,
    with their last close written as a price."""
    import datetime as dt

    from alerts import limits as alert_limits
    from alerts.models import AlertHit
    from alerts.selectors import RECENT_HITS

    alert = alert_create(user=user, name="急騰", spec={"source": "prices", "prices": PRICES})
    day = dt.date(2026, 11, 16)
    count = RECENT_HITS + 5
    assert count <= alert_limits.HITS_KEPT_PER_ALERT_AND_DAY
    AlertHit.objects.bulk_create(
        AlertHit(
            alert=alert,
            data_date=day,
            code=f"{1300 + i}",
            name=f"銘柄{i}",
            correlation=0.99 - i / 100,
            start_date=day - dt.timedelta(days=30),
            end_date=day,
            last_close=1520.0 + i,
        )
        for i in range(count)
    )

    body = signed_in.get("/account/alerts/").content.decode()

    shown, more = body.split('data-testid="more-hits"')
    assert shown.count('data-testid="alert-hit"') == RECENT_HITS
    assert more.count('data-testid="alert-hit"') == 5
    assert "ほか5件のヒットを表示" in more
    assert "1,520円" in shown and "1,534円" in more
