"""PostgreSQL drops the connection in the middle of a request (pg_terminate_backend on this test's
own database, from a second connection, right before one of the request's queries): the request
answers 503, not 500, and the next request works without a restart."""

import psycopg
import pytest
from django.db import connection
from django.test import Client

from accounts.models import User
from accounts.services import api_token_rotate
from market.models import Stock
from tests.factories import ComplimentaryGrantFactory


@pytest.fixture
def postgres(transactional_db, seeded_plans):
    from tests.conftest import REQUIRE_SERVICES

    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("PostgreSQL is required (REQUIRE_SERVICES=1)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL (CI sets REQUIRE_SERVICES=1)")
    Stock.objects.create(code="7203", name="トヨタ自動車")
    user = User.objects.create_user(email="reader@example.com", password="x-Pass-12345")
    ComplimentaryGrantFactory(user=user)  # the API is a Pro feature
    return api_token_rotate(user=user)


def _terminate(backend_pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(
        **{key: params[key] for key in ("dbname", "user", "host", "port") if key in params},
        password=params.get("password"),
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


class DropConnectionAtQuery:
    """A Django execute wrapper: before the request's n-th query, the server kills its session."""

    def __init__(self, n: int):
        self.n, self.seen = n, 0

    def __call__(self, execute, sql, params, many, context):
        self.seen += 1
        if self.seen == self.n:
            _terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)


@pytest.mark.parametrize(
    ("path", "query"), [("/stocks/", 1), ("/stocks/7203/", 2), ("/api/v1/status", 1)]
)
def test_a_connection_dropped_mid_request_is_a_503_and_the_next_request_recovers(
    postgres, path, query
):
    client = Client(
        raise_request_exception=False,
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_AUTHORIZATION=f"Token {postgres}",
    )

    with connection.execute_wrapper(DropConnectionAtQuery(query)):
        dropped = client.get(path)
    recovered = client.get(path)

    assert dropped.status_code == 503
    assert dropped["Retry-After"] == "5"
    assert recovered.status_code == 200
    if path.startswith("/api/"):
        assert dropped.json()["error"]["code"] == "database_unavailable"
    else:
        assert "cannot reach its database" in dropped.content.decode()
        assert '<html lang="en">' in dropped.content.decode()


def test_the_database_down_page_speaks_the_language_of_the_request(postgres):
    client = Client(raise_request_exception=False)  # Japanese, the site's default

    with connection.execute_wrapper(DropConnectionAtQuery(1)):
        dropped = client.get("/stocks/")

    html = dropped.content.decode()
    assert dropped.status_code == 503
    assert '<html lang="ja">' in html
    assert "cannot reach its database" not in html
