"""Redis stopped and restarted while the site serves: a private redis-server on a free port
(never the shared one; fixture `private_redis` in tests/conftest.py), stopped for real, and the
site asked for pages, logins and tokens meanwhile (searches: tests/similarity/test_api.py)."""

import time

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_pages_login_and_token_work_while_redis_is_down_and_use_it_again_after(
    private_redis, client, verified
):
    user = verified
    assert client.get("/").status_code == 200
    private_redis.stop()

    assert client.get("/").status_code == 200
    assert client.get("/pricing/").status_code == 200
    assert client.get("/stocks/").status_code == 200
    wrong = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    token = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": "s3cret-Pass!"},
        content_type="application/json",
    )
    login = client.post("/accounts/login/", {"login": user.email, "password": "s3cret-Pass!"})
    assert wrong.status_code == 400  # the form again, with its error
    assert token.status_code < 500
    assert login.status_code == 302
    assert client.get("/account/").status_code == 200
    assert client.get("/healthz").status_code == 503

    private_redis.start()
    time.sleep(0.3)
    cache.set("after-restart", "1")

    assert client.get("/healthz").status_code == 200
    assert private_redis.client().scan(match="*after-restart*")[1]


def test_failed_logins_are_still_limited_while_redis_is_down(private_redis, client, verified):
    private_redis.stop()

    for _ in range(6):
        client.post("/accounts/login/", {"login": verified.email, "password": "wrong"})
    right = client.post("/accounts/login/", {"login": verified.email, "password": "s3cret-Pass!"})

    # allauth's limit (5 failures a key in 5 minutes), counted in this process's memory, refuses
    # even the right password now.
    assert right.status_code == 400
    assert client.get("/account/").status_code == 302
