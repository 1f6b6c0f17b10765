"""Second factor (issue 11, findings 11 and 23): TOTP and recovery codes for users through
allauth.mfa; the admin signs in through allauth's login, limits and second factor."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from tests.factories import staff_sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pass!"


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _code(secret: str) -> str:
    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def test_a_user_sets_up_totp_from_the_account_page(client, user):
    _verified(user)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert "/accounts/2fa/" in client.get("/account/").content.decode()

    # allauth asks for the password again before a security change.
    confirm = client.get("/accounts/2fa/totp/activate/")
    client.post(confirm["Location"], {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    secret = page.context["form"].secret
    response = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})

    assert page.status_code == 200
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_with_totp_the_password_alone_does_not_sign_in(client, user):
    _verified(user)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/account/").status_code == 302
    client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert client.get("/account/").status_code == 200


def test_recovery_codes_are_offered(client, user):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    _verified(user)
    TOTP.activate(user, generate_totp_secret())
    codes = RecoveryCodes.activate(user).get_unused_codes()

    assert len(codes) >= 10


def test_the_admin_login_is_allauths_login(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_password_guesses_are_locked_out(client, staff_user):
    _verified(staff_user)
    for index in range(5):
        client.post(
            "/accounts/login/?next=/admin/",
            {"login": staff_user.email, "password": f"wrong-{index}"},
            REMOTE_ADDR=f"198.51.100.{index}",
        )

    response = client.post(
        "/accounts/login/?next=/admin/",
        {"login": staff_user.email, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.99",
    )

    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_staff_without_a_second_factor_cannot_use_the_admin(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    client.force_login(staff)

    index = client.get("/admin/")
    login = client.get(index["Location"])

    assert index.status_code == 302
    assert login.status_code == 302
    assert login["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_with_a_second_factor_use_the_admin(client, staff_user):
    staff_sign_in(client, staff_user)

    assert client.get("/admin/").status_code == 200


def test_a_session_signed_in_before_the_account_enrolled_cannot_open_the_admin(client, staff_user):
    # Signed in with the password alone (force_login records no second factor in the session),
    # while the account set up TOTP in another session.
    client.force_login(staff_user)

    index = client.get("/admin/")
    login = client.get(index["Location"])

    assert index.status_code == 302
    assert login["Location"].startswith("/accounts/2fa/reauthenticate/")


def _enrol(client):
    confirm = client.get("/accounts/2fa/totp/activate/")
    if confirm.status_code == 302:
        client.post(confirm["Location"], {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    return client.post("/accounts/2fa/totp/activate/", {"code": _code(page.context["form"].secret)})


# allauth announces a factor added once its transaction commits: these tests commit.
@pytest.mark.django_db(transaction=True)
def test_enrolling_ends_the_other_sessions_and_revokes_api_tokens(client, user):
    from django.test import Client

    from accounts.models import ApiToken
    from accounts.services import api_token_rotate

    _verified(user)
    other = Client()
    other.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    key = api_token_rotate(user=user)

    _enrol(client)

    assert other.get("/account/").status_code == 302
    assert client.get("/account/").status_code == 200
    assert not ApiToken.objects.filter(user=user).exists()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


# allauth announces a factor added once its transaction commits: these tests commit.
@pytest.mark.django_db(transaction=True)
def test_removing_a_factor_ends_the_other_sessions_and_revokes_api_tokens(client, user):
    from allauth.mfa.base.internal.flows import delete_and_cleanup
    from django.test import Client, RequestFactory

    from accounts.services import api_token_rotate

    _verified(user)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    _enrol(client)
    other = Client()
    staff_sign_in(other, user)
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)

    request = RequestFactory().post("/accounts/2fa/totp/deactivate/")
    request.user = user
    request.session = client.session
    user.refresh_from_db()
    key = api_token_rotate(user=user)
    assert (
        client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 402
    )  # the token signs in (a plan without the API)
    delete_and_cleanup(request, authenticator)

    assert other.get("/account/").status_code == 302
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


# allauth announces a factor added once its transaction commits: these tests commit.
@pytest.mark.django_db(transaction=True)
def test_staff_who_enrol_land_in_the_admin(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    _verified(staff)
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})

    response = _enrol(client)

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_totp_set_up_page_is_never_cached(client, user):
    _verified(user)
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    confirm = client.get("/accounts/2fa/totp/activate/")
    client.post(confirm["Location"], {"password": PASSWORD})

    page = client.get("/accounts/2fa/totp/activate/")

    assert "no-store" in page["Cache-Control"]


# allauth announces a factor added once its transaction commits: this test commits.
@pytest.mark.django_db(transaction=True)
def test_staff_set_up_their_second_factor_at_the_admin_door_and_land_in_the_admin(
    client, django_user_model
):
    staff = _verified(
        django_user_model.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    )
    signed_in = client.post(
        "/accounts/login/?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )
    admin_index = client.get(signed_in["Location"])
    admin_door = client.get(admin_index["Location"])
    page = client.get(admin_door["Location"])  # no second password prompt

    assert admin_door["Location"] == "/accounts/2fa/totp/activate/"
    assert page.status_code == 200, page.get("Location")
    done = client.post("/accounts/2fa/totp/activate/", {"code": _code(page.context["form"].secret)})
    assert done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
