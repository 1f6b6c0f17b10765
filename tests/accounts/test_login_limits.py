"""allauth's login limits behind a proxy (issue 11, finding 3): keyed on the client address from
X-Forwarded-For, so failed logins from strangers do not lock every user out."""

import pytest
from allauth.account.models import EmailAddress

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


def _login(client, email, password, client_address):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


def test_strangers_failing_behind_the_proxy_do_not_lock_others_out(client, user, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    for index in range(11):
        _login(client, f"random{index}@example.com", "wrong", "203.0.113.66")

    response = _login(client, user.email, "s3cret-Pass!", "198.51.100.7")

    assert response.status_code == 302
