"""Fuzz the alerts API from its own OpenAPI schema: no 500, every answer as documented.

Each operation under /api/v1/alerts/, as a Pro user (the harness is tests/api_fuzz.py).
"""

import pytest

from accounts.services import api_token_rotate
from alerts.services import alert_create
from tests.api_fuzz import NEGATIVE, POSITIVE, api_schema, fuzz

# (path, method, generation mode, whether {alert_id} is the id of the user's real alert).
CASES = [
    ("/api/v1/alerts/", "POST", POSITIVE, False),
    ("/api/v1/alerts/", "POST", NEGATIVE, False),
    ("/api/v1/alerts/", "GET", POSITIVE, False),
    ("/api/v1/alerts/{alert_id}/", "GET", POSITIVE, False),
    ("/api/v1/alerts/{alert_id}/", "PATCH", POSITIVE, True),
    ("/api/v1/alerts/{alert_id}/", "PATCH", NEGATIVE, True),
    ("/api/v1/alerts/{alert_id}/", "DELETE", POSITIVE, False),
    ("/api/v1/alerts/{alert_id}/hits/", "GET", POSITIVE, True),
]
EXAMPLES = 40


@pytest.fixture
def alerts_api_schema(synthetic_market, pro_user):
    with api_schema() as schema:
        yield schema


@pytest.mark.parametrize(("path", "method", "mode", "real_id"), CASES)
def test_alerts_api_conforms_to_its_schema(
    alerts_api_schema, pro_user, path, method, mode, real_id
):
    token = api_token_rotate(user=pro_user)
    path_parameters = None
    if real_id:
        alert = alert_create(user=pro_user, spec={"source": "prices", "prices": [1, 3, 2, 5, 4]})
        path_parameters = {"alert_id": alert.pk}

    fuzz(
        alerts_api_schema[path][method],
        mode=mode,
        token=token,
        examples=EXAMPLES,
        path_parameters=path_parameters,
    )
