"""A user's data export (issue 11, finding 13)."""

import json

import pytest

from accounts.services import api_token_rotate
from alerts.models import Alert
from similarity.models import SavedSearch

pytestmark = pytest.mark.django_db


def test_a_user_downloads_their_data(client, user):
    SavedSearch.objects.create(
        user=user, source="prices", spec={"prices": [1, 2, 3]}, pattern=[1, 2, 3], label="mine"
    )
    key = api_token_rotate(user=user)
    Alert.objects.create(
        user=user, name="my shape", source="prices", spec={"prices": [1, 2, 3]}, pattern=[1, 2, 3]
    )
    client.force_login(user)

    response = client.get("/account/export/")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    data = json.loads(text)
    assert data["profile"]["email"] == user.email
    assert [search["label"] for search in data["saved_searches"]] == ["mine"]
    assert [alert["name"] for alert in data["shape_alerts"]] == ["my shape"]
    assert data["api_token"]["starts_with"] == key[:10]
    assert key not in text


def test_the_export_needs_a_sign_in(client):
    response = client.get("/account/export/")

    assert response.status_code == 302


def test_the_export_holds_everything_kept_about_the_user(client, user):
    import datetime as dt

    from alerts.models import AlertDelivery, AlertDigest, AlertHit
    from billing.models import BillingCustomer
    from similarity.models import SearchGrade

    user.language = "en"
    user.save(update_fields=["language"])
    BillingCustomer.objects.create(user=user, stripe_customer_id="cus_export")
    alert = Alert.objects.create(
        user=user, name="my shape", source="prices", spec={"prices": [1, 2, 3]}, pattern=[1, 2, 3]
    )
    day = dt.date(2026, 11, 13)
    AlertHit.objects.create(
        alert=alert, data_date=day, code="7203", correlation=0.9, start_date=day,
        end_date=day, last_close=1500.0,
    )  # fmt: skip
    digest = AlertDigest.objects.create(user=user, data_date=day)
    AlertDelivery.objects.create(digest=digest, channel="mail")
    saved = SavedSearch.objects.create(
        user=user, source="prices", spec={"prices": [1, 2, 3]}, pattern=[1, 2, 3], label="mine"
    )
    SearchGrade.objects.create(
        saved_search=saved, horizon=5, code="7203", base_date=day, outcome_date=day,
        realised_return=0.01, percentile=50.0, inside_80=True, inside_50=True,
    )  # fmt: skip
    client.force_login(user)

    data = json.loads(b"".join(client.get("/account/export/").streaming_content))

    assert data["profile"]["language"] == "en"
    assert data["stripe_customer"]["id"] == "cus_export"
    assert [hit["code"] for hit in data["alert_hits"]] == ["7203"]
    assert [delivery["channel"] for delivery in data["alert_deliveries"]] == ["mail"]
    assert [grade["code"] for grade in data["track_record_grades"]] == ["7203"]
    assert data["alert_channels"]["mail"] is True
