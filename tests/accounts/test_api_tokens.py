"""API tokens (issue 11, findings 1, 10, 15): hashed at rest, shown once, revoked by a new
password, inactive without the plan, and the token endpoint behind allauth's login limits."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_rotate
from billing.models import ComplimentaryGrant, Plan
from tests.factories import staff_sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pass!"


@pytest.fixture
def grant(user):
    now = timezone.now()
    return ComplimentaryGrant.objects.create(
        user=user,
        plan=Plan.objects.get(slug="pro"),
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
    )


def _me(client, key):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def _token_request(client, email, password, **extra):
    return client.post(
        "/api/v1/auth/token/",
        data={"email": email, "password": password},
        content_type="application/json",
        **extra,
    )


def test_the_key_is_not_stored(user, grant):
    key = api_token_rotate(user=user)

    token = ApiToken.objects.get(user=user)
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert all(key not in value for value in stored)
    assert len(key) >= 40


def test_the_account_page_shows_a_new_key_once(client, user, grant):
    client.force_login(user)

    first = client.post("/account/token/rotate/", follow=True)
    key = first.context["new_api_token"]
    again = client.get("/account/")

    assert key in first.content.decode()
    assert key not in again.content.decode()
    assert ApiToken.objects.get(user=user).hint in again.content.decode()
    assert _me(client, key).status_code == 200


def test_the_account_page_is_never_cached(client, user):
    client.force_login(user)

    response = client.get("/account/")

    assert "no-store" in response["Cache-Control"]


def test_admin_does_not_show_keys(client, staff_user, user, grant):
    key = api_token_rotate(user=user)
    staff_sign_in(client, staff_user)

    listing = client.get("/admin/accounts/apitoken/")

    assert listing.status_code == 200
    assert user.email in listing.content.decode()
    assert key not in listing.content.decode()


def test_a_password_change_revokes_the_token(client, user, grant):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    key = api_token_rotate(user=user)
    client.force_login(user)
    new_password = "Another-long-passphrase-7"

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )

    assert response.status_code == 302
    client.logout()
    assert _me(client, key).status_code == 401


def test_a_password_reset_revokes_the_token(client, user, grant):
    key = api_token_rotate(user=user)

    user.set_password("Reset-to-something-new-9")
    user.save()

    assert _me(client, key).status_code == 401


def test_the_token_stops_working_when_the_plan_ends(client, user, grant):
    key = api_token_rotate(user=user)
    assert _me(client, key).status_code == 200

    grant.ends_at = timezone.now() - dt.timedelta(seconds=1)
    grant.starts_at = grant.ends_at - dt.timedelta(days=1)
    grant.save()

    response = _me(client, key)
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_required"


def test_the_token_endpoint_returns_a_working_key(client, user, grant):
    response = _token_request(client, user.email, PASSWORD)

    assert response.status_code == 201
    assert _me(client, response.json()["token"]).status_code == 200


def test_rotating_the_forwarded_for_header_does_not_escape_the_token_throttle(client, user):
    statuses = [
        _token_request(
            client, f"guess{index}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{index}"
        ).status_code
        for index in range(30)
    ]

    assert 429 in statuses
    assert statuses.count(400) <= 10


def test_failed_guesses_lock_the_account_as_the_login_form_does(client, user, grant):
    for index in range(5):
        # Each guess from another address: the per-account limit is what stops them.
        _token_request(client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{index}")

    response = _token_request(client, user.email, PASSWORD, REMOTE_ADDR="198.51.100.99")

    assert response.status_code == 429
    assert not ApiToken.objects.filter(user=user).exists()


def test_token_endpoint_guesses_count_towards_the_login_form_lockout(client, user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    for index in range(5):
        _token_request(client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{index}")

    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert "Too many failed login attempts" in response.content.decode()


def test_an_account_with_two_factor_authentication_gets_no_token_for_a_password(
    client, user, grant
):
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})

    response = _token_request(client, user.email, PASSWORD)

    assert response.status_code == 403
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/search/"])
def test_deeply_nested_json_is_a_400(client, user, grant, path):
    client.force_login(user)

    response = client.post(path, data="[" * 50000, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
