"""The LINE option on the alerts page, the pricing page and in admin."""

import pytest

from alerts.models import AlertChannelPreference
from billing.entitlements import entitlements_for
from tests.factories import staff_sign_in


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def alerts_page(client) -> str:
    return client.get("/account/alerts/").content.decode()


def test_a_linked_pro_user_chooses_mail_line_or_both(line, client, line_linked):
    client.force_login(line_linked)
    assert 'data-testid="channel-line"' in alerts_page(client)

    client.post("/account/alerts/channels/", {"line": "1"})
    choice = AlertChannelPreference.objects.get(user=line_linked)
    assert (choice.mails_enabled, choice.line_enabled) == (False, True)
    client.post("/account/alerts/channels/", {"mail": "1", "line": "1"})
    choice.refresh_from_db()
    assert (choice.mails_enabled, choice.line_enabled) == (True, True)


def test_line_cannot_be_turned_on_before_linking(line, client, pro_user):
    client.force_login(pro_user)
    html = alerts_page(client)
    assert 'data-testid="channel-line"' not in html
    assert 'href="https://lin.ee/stocksite-test"' in html

    response = client.post("/account/alerts/channels/", {"mail": "1", "line": "1"}, follow=True)
    assert "先にLINEアカウントを連携してください" in response.content.decode()
    assert not AlertChannelPreference.objects.filter(line_enabled=True).exists()


def test_the_free_plan_sees_that_line_comes_with_pro(line, signed_in):
    html = alerts_page(signed_in)
    assert 'data-testid="line-pro"' in html
    assert 'data-testid="line-add-friend"' not in html


def test_without_the_settings_line_is_hidden_and_staff_see_why(client, user, staff_user, settings):
    settings.LINE_CHANNEL_SECRET = "set"
    settings.LINE_CHANNEL_ACCESS_TOKEN = settings.LINE_ADD_FRIEND_URL = ""
    client.force_login(user)
    html = alerts_page(client)
    assert "LINE" not in html.split('data-testid="alert-channels"')[1].split("</section>")[0]

    client.force_login(staff_user)
    html = alerts_page(client)
    assert 'data-testid="line-not-configured"' in html
    assert "LINE_CHANNEL_ACCESS_TOKEN, LINE_ADD_FRIEND_URL" in html
    assert "LINE_CHANNEL_SECRET" not in html


def test_the_link_page_is_not_there_without_the_settings(client, user):
    client.force_login(user)
    assert client.get("/line/link/?linkToken=abc").status_code == 404


def test_the_pro_plan_includes_line_and_free_does_not(user, pro_user, other_user):
    assert entitlements_for(user=pro_user).line_alerts is True
    assert entitlements_for(user=other_user).line_alerts is False


def test_the_pricing_page_says_which_plan_has_line(client, db):
    html = client.get("/pricing/").content.decode()
    assert "LINEでのアラート通知" in html
    free = html.split('data-testid="plan-free"')[1].split("</section>")[0]
    pro = html.split('data-testid="plan-pro"')[1].split("</section>")[0]
    assert 'data-testid="plan-line-alerts">なし' in free
    assert 'data-testid="plan-line-alerts">あり' in pro


def test_staff_see_the_deliveries_of_a_digest_in_admin(line, client, staff_user, line_linked):
    from alerts.models import AlertDelivery, AlertDigest

    digest = AlertDigest.objects.create(user=line_linked, data_date="2026-11-16")
    AlertDelivery.objects.create(digest=digest, channel="line", state="rejected", error="401")
    staff_sign_in(client, staff_user)
    for path in (
        f"/admin/alerts/alertdigest/{digest.pk}/change/",
        "/admin/alerts/alertdelivery/",
        "/admin/alerts/linelink/",
        "/admin/alerts/linewebhookevent/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path


def test_the_line_pages_read_in_english_too(line, client, line_linked):
    client.force_login(line_linked)
    alerts = client.get("/account/alerts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Where alerts are sent" in alerts
    assert "Your LINE account is linked" in alerts
    link = client.get("/line/link/?linkToken=abc", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "to the LINE account that asked for this link?" in link
    assert "Another LINE account is linked now" in link
