"""Fuzz the search API from its own OpenAPI schema: no 500, every answer as documented.

Schemathesis generates valid and invalid requests for each operation under /api/v1/search*
and calls the WSGI app in process, as a Pro user, on the small real market of conftest.py.
(Its pytest plugin does not run under pytest 9 yet, so the test drives Hypothesis itself.)
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_rotate
from billing.models import Plan
from similarity.services import search_run

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
# (path, method, generation mode, whether {search_id} is the id of a real saved search).
# A path parameter cannot be made "not a string", so ids are fuzzed positively only.
CASES = [
    ("/api/v1/search/", "POST", POSITIVE, False),
    ("/api/v1/search/", "POST", NEGATIVE, False),
    ("/api/v1/searches/", "GET", POSITIVE, False),
    ("/api/v1/searches/", "GET", NEGATIVE, False),
    ("/api/v1/searches/{search_id}/", "GET", POSITIVE, False),
    ("/api/v1/searches/{search_id}/", "GET", POSITIVE, True),
    ("/api/v1/searches/{search_id}/rerun/", "POST", POSITIVE, False),
    ("/api/v1/searches/{search_id}/rerun/", "POST", POSITIVE, True),
]
EXAMPLES = 50
PRICES = [100, 102, 101, 105, 110, 108, 112, 115, 113, 118]


@pytest.fixture
def search_api_schema(search_market, pro_user):
    from stocksite.wsgi import application

    # As Django's test client does: the end of a request must not close the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # The fuzz sends more requests a minute than a plan allows; the throttle is tested elsewhere.
    Plan.objects.filter(slug="pro").update(api_requests_per_minute=1_000_000)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize(("path", "method", "mode", "real_id"), CASES)
def test_search_api_conforms_to_its_schema(
    search_api_schema, pro_user, path, method, mode, real_id
):
    token = api_token_rotate(user=pro_user)
    operation = search_api_schema[path][method]
    path_parameters = None
    if real_id:
        saved = search_run(user=pro_user, spec={"source": "prices", "prices": PRICES}, options={})
        path_parameters = {"search_id": str(saved.pk)}

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
