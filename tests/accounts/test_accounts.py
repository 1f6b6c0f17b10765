import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from tests.factories import UserFactory, staff_sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "Plenty-of-entropy-42"


def test_user_logs_in_with_email_and_has_no_username(django_user_model):
    user = UserFactory(email="Someone@Example.COM", password=PASSWORD)

    assert user.email == "someone@example.com"
    assert not hasattr(user, "username")
    assert django_user_model.USERNAME_FIELD == "email"


def test_signup_sends_a_verification_email_and_confirming_signs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "new@example.com" in mail.outbox[0].to
    key_url = next(line for line in mail.outbox[0].body.splitlines() if "/confirm-email/" in line)
    confirm_path = key_url[key_url.index("/accounts/") :].strip()
    assert client.post(confirm_path).status_code == 302
    assert EmailAddress.objects.get(email="new@example.com").verified
    assert client.get("/account/").status_code == 200


def test_signup_states_the_agreement_to_the_terms_and_the_privacy_policy(client):
    body = client.get("/accounts/signup/").content.decode()

    assert '<a href="/legal/terms/">利用規約</a>' in body
    assert '<a href="/legal/privacy/">プライバシーポリシー</a>に同意' in body


def test_a_confirmed_sign_up_goes_on_to_a_first_search(client):
    client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    key_url = next(line for line in mail.outbox[0].body.splitlines() if "/confirm-email/" in line)

    confirmed = client.post(key_url[key_url.index("/accounts/") :].strip())
    welcome = client.get(confirmed["Location"]).content.decode()

    assert confirmed["Location"] == "/search/?welcome=1"
    assert 'data-testid="welcome"' in welcome and "/stocks/7974/?preset=60" in welcome


def test_signup_with_a_taken_email_is_refused_with_a_message(client, user):
    response = client.post(
        "/accounts/signup/",
        {"email": user.email, "password1": PASSWORD, "password2": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "already registered" in response.content.decode()


def test_signup_with_a_weak_password_is_refused_with_a_message(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "weak@example.com", "password1": "123", "password2": "123"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "too short" in response.content.decode()


def test_forged_csrf_token_is_refused():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/signup/",
        {"email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_COOKIE="csrftoken=forgedforgedforgedforgedforgedfo",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 403
    assert "could not be verified" in response.content.decode()


def test_login_with_a_wrong_password_is_a_400(client, user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})

    assert response.status_code == 400


def test_password_reset_sends_an_email(client, user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post("/accounts/password/reset/", {"email": user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_account_page_needs_login(client):
    response = client.get("/account/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_account_page_shows_email_plan_and_usage(client, user):
    client.force_login(user)

    response = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert user.email in page
    assert "Free" in page
    assert "0 of 10" in page


def test_staff_search_users_in_admin(client, staff_user, user):
    staff_sign_in(client, staff_user)

    response = client.get("/admin/accounts/user/", {"q": "trader"})

    assert response.status_code == 200
    assert user.email in response.content.decode()


def test_password_reset_does_not_say_whether_an_email_has_an_account(client, user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    known = client.post("/accounts/password/reset/", {"email": user.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [message.to for message in mail.outbox] == [[user.email], ["nobody@example.com"]]
    assert "/accounts/password/reset/key/" not in mail.outbox[1].body


def test_passwords_shorter_than_12_characters_are_refused(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "short@example.com", "password1": "Tr4der-2026", "password2": "Tr4der-2026"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "at least 12 characters" in response.content.decode()


def test_common_passwords_are_refused(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "common@example.com", "password1": "qwertyqwerty", "password2": "qwertyqwerty"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "too common" in response.content.decode()


@pytest.mark.parametrize("path", ["/account/", "/account/alerts/", "/account/export/"])
def test_pages_of_a_signed_in_user_are_never_stored(client, user, path):
    client.force_login(user)

    response = client.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_public_page_keeps_its_own_caching(client):
    assert "no-store" not in client.get("/pricing/").get("Cache-Control", "")
