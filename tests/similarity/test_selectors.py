import uuid

import pytest

from core.errors import NotFoundError
from similarity.selectors import saved_search_get, saved_search_list
from tests.factories import SavedSearchFactory, UserFactory

pytestmark = pytest.mark.django_db


def _saved(user, label="7974 2015"):
    return SavedSearchFactory(user=user, label=label)


@pytest.fixture
def other_user(db):
    return UserFactory(email="other@example.com", password="x-Pass-9!")


def test_list_has_only_the_users_searches_newest_first(user, other_user):
    older = _saved(user, "older")
    newer = _saved(user, "newer")
    _saved(other_user)

    assert [s.pk for s in saved_search_list(user=user)] == [newer.pk, older.pk]


def test_get_returns_the_owners_search(user):
    saved = _saved(user)

    assert saved_search_get(user=user, search_id=saved.pk) == saved


def test_get_of_someone_elses_search_is_not_found(user, other_user):
    saved = _saved(other_user)

    with pytest.raises(NotFoundError):
        saved_search_get(user=user, search_id=saved.pk)


@pytest.mark.parametrize("search_id", [uuid.uuid4(), "not-a-uuid", ""])
def test_get_of_an_unknown_id_is_not_found(user, search_id):
    with pytest.raises(NotFoundError):
        saved_search_get(user=user, search_id=search_id)
