"""Fuzz the watchlist API from its own OpenAPI schema: no 500, every answer as documented."""

import pytest

from accounts.services import api_token_rotate
from tests.api_fuzz import NEGATIVE, POSITIVE, api_schema, fuzz

CASES = [
    ("/api/v1/watchlist/", "POST", POSITIVE, None),
    ("/api/v1/watchlist/", "POST", NEGATIVE, None),
    ("/api/v1/watchlist/", "GET", POSITIVE, None),
    ("/api/v1/watchlist/{code}/", "DELETE", POSITIVE, None),
    ("/api/v1/watchlist/{code}/", "DELETE", POSITIVE, {"code": "1001"}),
]
EXAMPLES = 40


@pytest.fixture
def watchlist_api_schema(synthetic_market, pro_user):
    with api_schema() as schema:
        yield schema


@pytest.mark.parametrize(("path", "method", "mode", "path_parameters"), CASES)
def test_the_watchlist_api_conforms_to_its_schema(
    watchlist_api_schema, pro_user, path, method, mode, path_parameters
):
    fuzz(
        watchlist_api_schema[path][method],
        mode=mode,
        token=api_token_rotate(user=pro_user),
        examples=EXAMPLES,
        path_parameters=path_parameters,
    )
