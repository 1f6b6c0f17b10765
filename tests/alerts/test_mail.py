import time
from urllib.parse import urlparse

import pytest
from django.core import mail

from alerts.mail import digest_message
from alerts.models import AlertChannelPreference, AlertDigest, AlertHit
from alerts.runs import alert_deliveries_send, alerts_check
from alerts.services import alert_create

from .conftest import DAYS, spike_pattern
from .smtp_server import SMTPServer


@pytest.fixture
def smtp(settings):
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "stocksite <alerts@stocksite.test>"
        settings.SITE_URL = "https://stocksite.test"
        yield server


@pytest.fixture
def digest_sent(smtp, user, synthetic_market):
    alert_create(user=user, name="Spike", spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load(DAYS)
    alerts_check()
    alert_deliveries_send()
    assert len(smtp.messages) == 1
    return smtp.messages[0]


def _unsubscribe_url(message) -> str:
    # A long header is folded onto a second line: the value starts with that whitespace.
    return str(message["List-Unsubscribe"]).strip()[1:-1]


def _parts(message):
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


def test_the_digest_reaches_the_smtp_server_with_both_parts(digest_sent, user, synthetic_market):
    message = digest_sent["message"]
    assert digest_sent["to"] == [user.email]
    assert digest_sent["from"] == "alerts@stocksite.test"
    assert message["To"] == user.email
    assert synthetic_market.new_day.strftime("%Y/%m/%d") in message["Subject"]
    subject = str(message["Subject"]).strip()  # a folded header keeps its leading space
    assert subject.startswith("[stocksite] ")
    assert "1件" in subject  # the user's language: the site's, Japanese
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    for body in parts.values():
        assert "1001" in body
        assert "銘柄1001" in body
        assert "Spike" in body
        assert "https://stocksite.test/stocks/1001/?date_from=" in body
        assert "https://stocksite.test/search/?source=stock" in body
        assert "https://stocksite.test/alerts/unsubscribe/" in body
        assert synthetic_market.new_day.strftime("%Y/%m/%d") in body
        assert "円" in body  # the last close in yen


def test_the_digest_has_rfc_8058_one_click_unsubscribe_headers(digest_sent):
    message = digest_sent["message"]
    link = str(message["List-Unsubscribe"]).strip()
    assert link.startswith("<https://stocksite.test/alerts/unsubscribe/") and link.endswith("/>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link[1:-1] in _parts(message)["text/plain"]


def test_the_unsubscribe_link_works_without_a_login(
    digest_sent, client, user, smtp, synthetic_market
):
    path = urlparse(_unsubscribe_url(digest_sent["message"])).path

    page = client.get(path)
    assert page.status_code == 200
    assert "t***@example.com" in page.content.decode()
    assert AlertChannelPreference.objects.filter(user=user, mails_enabled=False).count() == 0

    # What a mail client does for RFC 8058: a POST without cookies or a CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert AlertChannelPreference.objects.get(user=user).mails_enabled is False


def test_after_unsubscribing_hits_are_kept_but_no_mail_is_sent(
    digest_sent, client, user, smtp, synthetic_market
):
    from alerts.models import Alert

    path = urlparse(_unsubscribe_url(digest_sent["message"])).path
    client.post(path)
    Alert.objects.update(last_checked_date=None)
    AlertDigest.objects.all().delete()
    alerts_check()
    alert_deliveries_send()
    assert len(smtp.messages) == 1
    assert not AlertDigest.objects.get().deliveries.exists()


@pytest.mark.parametrize("token", ["nonsense", "eyJ1c2VyIjoxfQ:1vXyZa:forged"])
def test_a_bad_unsubscribe_link_is_a_404(client, db, token):
    assert client.get(f"/alerts/unsubscribe/{token}/").status_code == 404
    assert client.post(f"/alerts/unsubscribe/{token}/").status_code == 404
    assert not AlertChannelPreference.objects.exists()


@pytest.mark.parametrize(("chosen", "site", "expected"), [("", "ja", "ja"), ("en", "ja", "en")])
def test_the_digest_is_written_in_the_user_s_language(
    user, synthetic_market, settings, chosen, site, expected
):
    """A user who chose no language gets the site's."""
    settings.LANGUAGE_CODE = site
    user.language = chosen
    alert_create(user=user, spec={"source": "prices", "prices": spike_pattern()})
    synthetic_market.load(DAYS)
    alerts_check()

    message = digest_message(
        user=user,
        data_date=synthetic_market.new_day,
        hits=list(AlertHit.objects.select_related("alert")),
        unsubscribe_token="token",
    )
    html = message.alternatives[0][0]
    assert f'<html lang="{expected}">' in html
    assert mail.outbox == []


def test_the_unsubscribe_page_masks_the_address_and_is_never_stored(
    digest_sent, client, user, smtp, synthetic_market
):
    page = client.get(urlparse(_unsubscribe_url(digest_sent["message"])).path)

    assert user.email not in page.content.decode()
    assert "no-store" in page["Cache-Control"]


def test_an_unsubscribe_link_expires(digest_sent, client, user, smtp, synthetic_market):
    from unittest import mock

    from alerts.selectors import UNSUBSCRIBE_LINK_DAYS

    path = urlparse(_unsubscribe_url(digest_sent["message"])).path
    later = time.time() + UNSUBSCRIBE_LINK_DAYS * 24 * 3600 + 60

    with mock.patch("time.time", return_value=later):
        response = client.post(path)

    assert response.status_code == 404


def test_an_unsubscribe_link_dies_once_mails_are_turned_back_on(
    digest_sent, client, user, smtp, synthetic_market
):
    from alerts.services import alert_mails_set

    path = urlparse(_unsubscribe_url(digest_sent["message"])).path
    client.post(path)
    alert_mails_set(user=user, enabled=True)

    assert client.post(path).status_code == 404
    assert AlertChannelPreference.objects.get(user=user).mails_enabled is True


def test_each_digest_has_its_own_unsubscribe_link(digest_sent, smtp, synthetic_market):
    from django.core import signing

    from alerts.models import AlertDigest
    from alerts.selectors import UNSUBSCRIBE_SALT

    token = urlparse(_unsubscribe_url(digest_sent["message"])).path.rstrip("/").rsplit("/", 1)[-1]

    assert signing.loads(token, salt=UNSUBSCRIBE_SALT)["digest"] == AlertDigest.objects.get().pk
