"""Fuzz the alerts API from its own OpenAPI schema: no 500, every answer as documented.

As tests/similarity/test_schemathesis.py does for the search API: Hypothesis drives Schemathesis
against the WSGI app in process, as a Pro user.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from accounts.services import api_token_rotate
from alerts.services import alert_create
from billing.models import Plan
from tests.similarity.test_schemathesis import CHECKS, NEGATIVE, POSITIVE

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
    from stocksite.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    Plan.objects.filter(slug="pro").update(api_requests_per_minute=1_000_000)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize(("path", "method", "mode", "real_id"), CASES)
def test_alerts_api_conforms_to_its_schema(
    alerts_api_schema, pro_user, path, method, mode, real_id
):
    token = api_token_rotate(user=pro_user)
    operation = alerts_api_schema[path][method]
    path_parameters = None
    if real_id:
        alert = alert_create(user=pro_user, spec={"source": "prices", "prices": [1, 3, 2, 5, 4]})
        path_parameters = {"alert_id": alert.pk}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    fuzz()
