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
    data = json.loads(response.content)
    assert data["profile"]["email"] == user.email
    assert [search["label"] for search in data["saved_searches"]] == ["mine"]
    assert [alert["name"] for alert in data["shape_alerts"]] == ["my shape"]
    assert data["api_token"]["starts_with"] == key[:10]
    assert key not in response.content.decode()


def test_the_export_needs_a_sign_in(client):
    response = client.get("/account/export/")

    assert response.status_code == 302
