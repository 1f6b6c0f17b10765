"""Keeping a user's saved searches to the newest limits.SAVED_SEARCHES_KEPT.

Each search saved is followed by a prune. On PostgreSQL it is one statement: the searches
beyond the limit are deleted, with their grades, and the searches re-run from them forget
where they came from (rerun_of's SET_NULL), as Django's deletion would in four to six
statements (read the ids, read them again to collect, delete the grades, update the re-runs,
delete). Elsewhere, or when a delete signal has receivers, Django's deletion runs as before.
"""

from django.db import connection
from django.db.models.signals import post_delete, pre_delete

from similarity import limits
from similarity.models import SavedSearch, SearchGrade


def saved_searches_prune(*, user) -> None:
    """Delete the user's saved searches beyond the newest limits.SAVED_SEARCHES_KEPT."""
    older = (
        SavedSearch.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[limits.SAVED_SEARCHES_KEPT :]
    )
    if connection.vendor == "postgresql" and _only_known_relations() and not _delete_receivers():
        _prune_in_one_statement(older)
        return
    older = list(older)
    if older:  # Only their ids: a deletion reads each row, its result (15-150 KB) included.
        SavedSearch.objects.filter(pk__in=older).only("pk").delete()


# What refers to a saved search, and what the one statement does about it. A relation added later
# sends the prune through Django's deletion until the statement learns it.
_KNOWN_RELATIONS = {
    ("SearchGrade", "saved_search", "CASCADE"),
    ("SavedSearch", "rerun_of", "SET_NULL"),
}


def _only_known_relations() -> bool:
    return {
        (r.related_model.__name__, r.field.name, r.on_delete.__name__)
        for r in SavedSearch._meta.related_objects
    } == _KNOWN_RELATIONS


def _delete_receivers() -> bool:
    return any(
        signal.has_listeners(model)
        for signal in (pre_delete, post_delete)
        for model in (SavedSearch, SearchGrade)
    )


def _prune_in_one_statement(older) -> None:
    # A row both re-run from a doomed search and doomed itself is only deleted: one statement
    # must not modify a row twice. The foreign keys are checked at the statement's end (or the
    # transaction's: Django makes them deferrable), when no row refers to a deleted one.
    searches = SavedSearch._meta.db_table
    grades = SearchGrade._meta.db_table
    grade_fk = SearchGrade._meta.get_field("saved_search").column
    rerun_fk = SavedSearch._meta.get_field("rerun_of").column
    pk = SavedSearch._meta.pk.column
    doomed_sql, params = older.query.sql_with_params()
    qn = connection.ops.quote_name
    sql = (
        f"WITH doomed AS (DELETE FROM {qn(searches)} WHERE {qn(pk)} IN ({doomed_sql}) "
        f"RETURNING {qn(pk)}), "
        f"grades AS (DELETE FROM {qn(grades)} WHERE {qn(grade_fk)} IN "
        f"(SELECT {qn(pk)} FROM doomed)), "
        f"reruns AS (UPDATE {qn(searches)} SET {qn(rerun_fk)} = NULL WHERE {qn(rerun_fk)} IN "
        f"(SELECT {qn(pk)} FROM doomed) AND {qn(pk)} NOT IN (SELECT {qn(pk)} FROM doomed)) "
        "SELECT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
