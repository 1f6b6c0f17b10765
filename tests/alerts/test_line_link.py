"""Linking a LINE account by LINE's account-link flow: the link page, the nonce, accountLink."""

import datetime as dt
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from alerts.models import AlertChannelPreference, LineLink, LineLinkNonce
from tests.alerts.line_server import account_link, event

LINE_USER = "U" + "3" * 32
LINK_TOKEN = "linktoken-from-line_0123"


@pytest.fixture
def signed_in(client, pro_user):
    client.force_login(pro_user)
    return client


def nonce_of(response) -> str:
    """The nonce of the redirect to LINE's account-link dialog."""
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://access.line.me/dialog/bot/accountLink"
    )
    query = parse_qs(location.query)
    assert query["linkToken"] == [LINK_TOKEN]
    return query["nonce"][0]


def start_linking(client) -> str:
    response = client.post(f"/line/link/?linkToken={LINK_TOKEN}")
    assert response.status_code == 302
    return nonce_of(response)


def test_the_link_page_asks_for_a_sign_in_first_and_keeps_the_token(line, client, db):
    response = client.get(f"/line/link/?linkToken={LINK_TOKEN}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert LINK_TOKEN in parse_qs(urlsplit(response["Location"]).query)["next"][0]


def test_the_link_page_asks_before_it_sends_you_to_line(line, signed_in, pro_user):
    page = signed_in.get(f"/line/link/?linkToken={LINK_TOKEN}")
    assert page.status_code == 200
    assert pro_user.email in page.content.decode()
    assert b'data-testid="line-link-confirm"' in page.content
    assert not LineLinkNonce.objects.exists()  # a GET binds nothing


def test_confirming_redirects_to_line_with_a_fresh_nonce_bound_to_you(line, signed_in, pro_user):
    first, second = start_linking(signed_in), start_linking(signed_in)

    assert first != second
    assert len(first) >= 22  # at least 128 bits in URL-safe base64
    stored = LineLinkNonce.objects.get(nonce=first)
    assert stored.user == pro_user
    assert stored.expires_at <= timezone.now() + dt.timedelta(minutes=10)


@pytest.mark.parametrize("token", ["", "a b", "x" * 300, "<script>"])
def test_a_bad_link_token_is_a_400_that_says_so(line, signed_in, token):
    response = signed_in.post(f"/line/link/?{urlencode({'linkToken': token})}")
    assert response.status_code == 400
    assert "リンクは無効" in response.content.decode()
    assert not LineLinkNonce.objects.exists()


def test_the_free_plan_is_told_line_comes_with_pro(line, client, user):
    client.force_login(user)
    response = client.post(f"/line/link/?linkToken={LINK_TOKEN}")
    assert response.status_code == 403
    assert "Proプラン" in response.content.decode()
    assert not LineLinkNonce.objects.exists()


def test_an_account_link_event_with_your_nonce_links_and_turns_line_on(
    line, signed_in, pro_user, post_webhook
):
    nonce = start_linking(signed_in)

    assert post_webhook(account_link(LINE_USER, nonce)).status_code == 200

    assert LineLink.objects.get(user=pro_user).line_user_id == LINE_USER
    assert AlertChannelPreference.objects.get(user=pro_user).line_enabled is True
    assert not LineLinkNonce.objects.exists()  # used up
    (text,) = line.texts_to(LINE_USER)
    assert "連携しました" in text
    assert "https://stocksite.test/account/alerts/" in text


def test_a_nonce_links_once(line, signed_in, pro_user, post_webhook):
    nonce = start_linking(signed_in)
    post_webhook(account_link(LINE_USER, nonce))
    post_webhook(account_link("U" + "4" * 32, nonce))
    assert list(LineLink.objects.values_list("line_user_id", flat=True)) == [LINE_USER]


@pytest.mark.parametrize("case", ["unknown", "expired", "failed"])
def test_no_link_without_an_ok_result_and_a_live_nonce(
    line, signed_in, pro_user, post_webhook, case
):
    nonce = start_linking(signed_in)
    if case == "unknown":
        nonce = "n" * 43
    if case == "expired":
        LineLinkNonce.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    post_webhook(account_link(LINE_USER, nonce, result="failed" if case == "failed" else "ok"))
    assert not LineLink.objects.exists()
    assert line.pushes == []


def test_a_line_user_is_linked_to_one_account_at_most(
    line, signed_in, pro_user, other_user, post_webhook, client
):
    post_webhook(account_link(LINE_USER, start_linking(signed_in)))
    client.force_login(other_user)
    from billing.models import ComplimentaryGrant, Plan

    ComplimentaryGrant.objects.create(
        user=other_user,
        plan=Plan.objects.get(slug="pro"),
        starts_at=timezone.now() - dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=1),
    )
    post_webhook(account_link(LINE_USER, start_linking(client)))

    assert list(LineLink.objects.values_list("user__email", flat=True)) == [other_user.email]


def test_unlinking_from_the_alerts_page_removes_the_link(line, signed_in, line_linked):
    response = signed_in.post("/line/unlink/")
    assert response.status_code == 302
    assert not LineLink.objects.exists()
    assert AlertChannelPreference.objects.get(user=line_linked).line_enabled is False


def test_a_link_follows_a_follow_event_end_to_end(line, signed_in, pro_user, post_webhook):
    """follow -> link message -> the link page -> accountLink -> linked."""
    post_webhook(event("follow", LINE_USER))
    (message,) = line.texts_to(LINE_USER)
    url = message.split()[-1]
    assert url.startswith("https://stocksite.test/line/link/?linkToken=")
    path = url.removeprefix("https://stocksite.test")
    response = signed_in.post(path)
    location = parse_qs(urlsplit(response["Location"]).query)
    assert line.link_tokens[location["linkToken"][0]] == LINE_USER

    post_webhook(account_link(LINE_USER, location["nonce"][0]))
    assert LineLink.objects.get().user == pro_user


def test_the_account_data_export_includes_the_line_link(line, signed_in, line_linked):
    export = signed_in.get("/account/export/").json()
    assert export["line_link"]["line_user_id"] == line_linked.line_link.line_user_id


def test_deleting_the_account_removes_its_line_link(line, line_linked):
    from accounts.services import account_delete

    start = LineLinkNonce.objects.create(
        user=line_linked, nonce="n" * 43, expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    account_delete(user=line_linked)
    assert not LineLink.objects.exists()
    assert not LineLinkNonce.objects.filter(pk=start.pk).exists()
    assert not AlertChannelPreference.objects.exists()
