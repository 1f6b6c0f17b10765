import datetime as dt

import pytest
from django.db.models.signals import post_delete
from django.utils import timezone

from similarity import limits
from similarity.models import SavedSearch, SearchGrade
from similarity.saved_searches import saved_searches_prune
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _searches(user, count: int) -> list[SavedSearch]:
    """count saved searches of the user, oldest first (a minute apart)."""
    start = timezone.now() - dt.timedelta(days=1)
    searches = []
    for index in range(count):
        saved = SavedSearch.objects.create(
            user=user, source="prices", spec={"prices": [1, 2, 3]}, pattern=[1, 2, 3]
        )
        SavedSearch.objects.filter(pk=saved.pk).update(
            created_at=start + dt.timedelta(minutes=index)
        )
        searches.append(saved)
    return searches


def _grade(saved: SavedSearch) -> SearchGrade:
    day = dt.date(2026, 1, 5)
    return SearchGrade.objects.create(
        saved_search=saved, horizon=5, code="7203", base_date=day, outcome_date=day,
        realised_return=0.01, percentile=50.0, inside_80=True, inside_50=True,
    )  # fmt: skip


def _receiver(**kwargs):
    pass


@pytest.fixture(params=["one statement", "django's deletion"])
def prune_path(request):
    """Both ways of pruning: the one statement, and Django's deletion (taken while a delete
    signal has a receiver)."""
    if request.param == "django's deletion":
        post_delete.connect(_receiver, sender=SavedSearch)
        yield request.param
        post_delete.disconnect(_receiver, sender=SavedSearch)
    else:
        yield request.param


def test_the_prune_deletes_the_oldest_with_their_grades_and_unlinks_their_reruns(
    monkeypatch, prune_path
):
    monkeypatch.setattr(limits, "SAVED_SEARCHES_KEPT", 3)
    user, other = UserFactory(), UserFactory()
    searches = _searches(user, 6)
    others = _searches(other, 5)
    # The second oldest re-ran the oldest (both go); a kept one re-ran the third (which goes).
    SavedSearch.objects.filter(pk=searches[1].pk).update(rerun_of=searches[0])
    SavedSearch.objects.filter(pk=searches[4].pk).update(rerun_of=searches[2])
    SavedSearch.objects.filter(pk=searches[5].pk).update(rerun_of=searches[3])
    doomed_grade, kept_grade = _grade(searches[2]), _grade(searches[3])

    saved_searches_prune(user=user)

    kept = SavedSearch.objects.filter(user=user)
    assert set(kept.values_list("pk", flat=True)) == {saved.pk for saved in searches[3:]}
    assert dict(kept.values_list("pk", "rerun_of")) == {
        searches[3].pk: None,
        searches[4].pk: None,
        searches[5].pk: searches[3].pk,
    }
    assert list(SearchGrade.objects.values_list("pk", flat=True)) == [kept_grade.pk]
    assert not SearchGrade.objects.filter(pk=doomed_grade.pk).exists()
    assert SavedSearch.objects.filter(user=other).count() == len(others)


def test_the_prune_within_the_limit_deletes_nothing_in_one_query(
    monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(limits, "SAVED_SEARCHES_KEPT", 3)
    user = UserFactory()
    searches = _searches(user, 3)

    with django_assert_num_queries(1):
        saved_searches_prune(user=user)

    assert SavedSearch.objects.filter(user=user).count() == len(searches)


def test_the_prune_beyond_the_limit_is_one_statement(monkeypatch, django_assert_num_queries):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's (CI sets DATABASE_URL)")
    monkeypatch.setattr(limits, "SAVED_SEARCHES_KEPT", 3)
    user = UserFactory()
    searches = _searches(user, 5)

    with django_assert_num_queries(1):
        saved_searches_prune(user=user)

    assert set(SavedSearch.objects.filter(user=user).values_list("pk", flat=True)) == {
        saved.pk for saved in searches[2:]
    }


def test_a_delete_receiver_still_hears_of_each_deleted_search(monkeypatch):
    monkeypatch.setattr(limits, "SAVED_SEARCHES_KEPT", 1)
    user = UserFactory()
    searches = _searches(user, 3)
    heard = []

    def receiver(instance, **kwargs):
        heard.append(instance.pk)

    post_delete.connect(receiver, sender=SavedSearch)
    try:
        saved_searches_prune(user=user)
    finally:
        post_delete.disconnect(receiver, sender=SavedSearch)

    assert sorted(heard) == sorted(saved.pk for saved in searches[:2])
