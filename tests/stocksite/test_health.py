import pytest

from tests.factories import staff_sign_in

UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Nothing listens on port 1: a real connection failure, not a mock.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


@pytest.mark.django_db
def test_healthz_reports_database_and_cache_to_staff(client, staff_user):
    staff_sign_in(client, staff_user)

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True


@pytest.mark.django_db
def test_healthz_tells_the_public_only_ok_or_not(client, user):
    client.force_login(user)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = UNREACHABLE_CACHE

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error"}


@pytest.mark.django_db
def test_healthz_names_the_failure_to_staff_without_its_text(client, staff_user, settings):
    staff_sign_in(client, staff_user)
    settings.CACHES = UNREACHABLE_CACHE

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert "127.0.0.1" not in response.content.decode()
    assert body["checks"]["database"]["ok"] is True
