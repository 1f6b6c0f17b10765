"""Fuzzing an API from its own OpenAPI schema: no 500, every answer as documented.

Schemathesis generates valid and invalid requests for one operation and calls the WSGI app in
process; Hypothesis drives it (Schemathesis's pytest plugin does not run under pytest 9 yet).
Used by tests/similarity/test_schemathesis.py and tests/alerts/test_schemathesis.py.
"""

import functools
from contextlib import contextmanager

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

from billing.models import Plan

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


@functools.cache
def _schema_loaded():
    """The API's schema, loaded from the app in process once per test process: drf-spectacular
    writes it the same for every test, and loading it took a third of each fuzz test's time."""
    from stocksite.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@contextmanager
def api_schema():
    """The API's schema, for the length of a test."""
    # As Django's test client does: the end of a request must not close the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # The fuzz sends more requests a minute than a plan allows; the throttle is tested elsewhere.
    Plan.objects.filter(slug="pro").update(api_requests_per_minute=1_000_000)
    try:
        yield _schema_loaded()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def fuzz(operation, *, mode, token: str, examples: int, path_parameters=None) -> None:
    """Call ``operation`` with ``examples`` generated cases as the holder of ``token`` and check
    every answer against the schema."""

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    run()
