import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_rotate
from billing.models import ComplimentaryGrant, Plan

pytestmark = pytest.mark.django_db


def test_anonymous_api_request_gets_401_in_the_error_format(client):
    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["message"]


def test_signed_in_user_reads_plan_and_usage(client, user):
    client.force_login(user)

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["plan"] == "Free"
    assert response.json()["searches_today"] == 0


def test_token_authentication_works(client, user):
    now = timezone.now()
    ComplimentaryGrant.objects.create(
        user=user,
        plan=Plan.objects.get(slug="pro"),
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1),
    )
    key = api_token_rotate(user=user)

    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_a_wrong_token_is_401(client):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_malformed_json_is_a_400_in_the_error_format(client):
    response = client.post("/api/v1/auth/token/", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "JSON" in response.json()["error"]["message"]


def test_validation_errors_name_the_field(client):
    response = client.post(
        "/api/v1/auth/token/", data={"email": "not-an-email"}, content_type="application/json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"email", "password"}


def test_token_for_a_free_user_needs_a_paid_plan(client, user):
    response = client.post(
        "/api/v1/auth/token/",
        data={"email": user.email, "password": "s3cret-Pass!"},
        content_type="application/json",
    )

    assert response.status_code == 402
    assert "/pricing/" in response.json()["error"]["message"]
    assert not ApiToken.objects.filter(user=user).exists()


def test_token_with_a_wrong_password_is_refused(client, user):
    response = client.post(
        "/api/v1/auth/token/",
        data={"email": user.email, "password": "wrong"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The email or the password is wrong."


def test_unknown_api_address_is_a_json_404(client):
    response = client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
