"""Reads of saved searches. A user only ever sees their own."""

import datetime as dt
import threading
import uuid
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Avg, F, FloatField, Max, QuerySet
from django.utils.translation import gettext_lazy as _

from market.models import DailyBar, Stock
from similarity.models import SavedSearch
from stocksite.errors import NotFoundError

# Average daily turnover is taken over this many calendar days before the market's last bar.
TURNOVER_DAYS = 90

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


@dataclass(eq=False)
class Universe:
    """Stock metadata aligned with a snapshot's series, for filters and match labels.

    Built once per snapshot and process (one query), so a search never queries per match.
    """

    snapshot_id: str
    codes: tuple[str, ...]
    names: list[str]
    segments: np.ndarray
    sector_codes: np.ndarray
    sector_names: np.ndarray
    _masks: dict = field(default_factory=dict)
    _turnover: np.ndarray | None = None

    def mask(self, *, segment: str, sector: str, min_turnover: float) -> np.ndarray | None:
        """Which series pass the filters (None: all of them)."""
        if not segment and not sector and not min_turnover:
            return None
        key = (segment, sector, min_turnover)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.ones(len(self.codes), dtype=bool)
            if segment:
                mask &= self.segments == segment
            if sector:
                mask &= (self.sector_codes == sector) | (self.sector_names == sector)
            if min_turnover:
                mask &= self.turnover() >= min_turnover
            if len(self._masks) > 256:
                self._masks.clear()
            self._masks[key] = mask
        return mask

    def turnover(self) -> np.ndarray:
        if self._turnover is None:
            self._turnover = _turnover_by_series(snapshot_id=self.snapshot_id, codes=self.codes)
        return self._turnover


_universe_lock = threading.Lock()
_universe: Universe | None = None


def search_universe(*, snapshot_id: str, series_ids: tuple[str, ...]) -> Universe:
    """The Universe of a snapshot whose series ids are stock codes; cached for the process."""
    global _universe
    current = _universe
    if current is not None and current.snapshot_id == snapshot_id:
        return current
    with _universe_lock:
        if _universe is None or _universe.snapshot_id != snapshot_id:
            _universe = _universe_build(snapshot_id=snapshot_id, codes=series_ids)
        return _universe


def _universe_build(*, snapshot_id: str, codes: tuple[str, ...]) -> Universe:
    rows = {
        code: (name, segment, sector_code, sector)
        for code, name, segment, sector_code, sector in Stock.objects.filter(
            code__in=codes
        ).values_list("code", "name", "segment", "sector33_code", "sector33")
    }
    blank = ("", "", "", "")
    meta = [rows.get(code, blank) for code in codes]
    return Universe(
        snapshot_id=snapshot_id,
        codes=codes,
        names=[row[0] for row in meta],
        segments=np.array([row[1] for row in meta], dtype=object),
        sector_codes=np.array([row[2] for row in meta], dtype=object),
        sector_names=np.array([row[3] for row in meta], dtype=object),
    )


def _turnover_by_series(*, snapshot_id: str, codes: tuple[str, ...]) -> np.ndarray:
    """Average daily turnover in yen (close x volume) over the market's last TURNOVER_DAYS.

    Shared through the cache by every process that serves the same snapshot.
    """
    key = f"similarity:turnover:{snapshot_id}"
    by_code = cache.get(key)
    if by_code is None:
        last = DailyBar.objects.aggregate(last=Max("date"))["last"]
        by_code = {}
        if last is not None:
            since = last - dt.timedelta(days=TURNOVER_DAYS)
            by_code = dict(
                DailyBar.objects.filter(date__gt=since)
                .values("stock__code")
                .annotate(turnover=Avg(F("close") * F("volume"), output_field=FloatField()))
                .values_list("stock__code", "turnover")
            )
        cache.set(key, by_code, timeout=60 * 60 * 24)
    return np.array([by_code.get(code) or 0.0 for code in codes], dtype=np.float64)
