"""Fuzz the search API from its own OpenAPI schema: no 500, every answer as documented.

Each operation under /api/v1/search*, valid and invalid requests, as a Pro user on the small
real market of conftest.py (the harness is tests/api_fuzz.py).
"""

import pytest

from accounts.services import api_token_rotate
from similarity.services import search_run
from tests.api_fuzz import NEGATIVE, POSITIVE, api_schema, fuzz

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
    with api_schema() as schema:
        yield schema


@pytest.mark.parametrize(("path", "method", "mode", "real_id"), CASES)
def test_search_api_conforms_to_its_schema(
    search_api_schema, pro_user, path, method, mode, real_id
):
    token = api_token_rotate(user=pro_user)
    path_parameters = None
    if real_id:
        saved = search_run(user=pro_user, spec={"source": "prices", "prices": PRICES}, options={})
        path_parameters = {"search_id": str(saved.pk)}

    fuzz(
        search_api_schema[path][method],
        mode=mode,
        token=token,
        examples=EXAMPLES,
        path_parameters=path_parameters,
    )
