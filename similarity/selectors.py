"""Reads of saved searches. A user only ever sees their own."""

import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from similarity.models import SavedSearch
from stocksite.api import NotFoundError

# What a history list needs; the result JSON can be large, so lists leave it out.
LIST_FIELDS = (
    "id",
    "user_id",
    "created_at",
    "source",
    "mode",
    "label",
    "spec",
    "options",
    "match_count",
    "elapsed_ms",
    "snapshot_date",
)


def saved_search_list(*, user) -> QuerySet[SavedSearch]:
    """The user's searches, newest first, without their results (see LIST_FIELDS)."""
    return SavedSearch.objects.filter(user=user).only(*LIST_FIELDS).order_by("-created_at")


def saved_search_get(*, user, search_id: uuid.UUID | str) -> SavedSearch:
    """The user's search with that id; someone else's, or no such id, is a 404."""
    try:
        return SavedSearch.objects.get(pk=search_id, user=user)
    except (SavedSearch.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFoundError(_("No saved search with this id.")) from exc
