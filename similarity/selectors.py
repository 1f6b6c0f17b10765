"""Reads of saved searches. A user only ever sees their own."""

import datetime as dt
import threading
import uuid
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, FloatField, Max, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import NotFoundError
from market.models import DailyBar, IndexBar, Stock
from similarity.engine import Benchmark, BuyAndHoldBenchmark, ExcessSample, ForecastParams
from similarity.models import CalibrationRun, ForecastModel, SavedSearch, SearchGrade

# Average daily turnover is taken over this many calendar days before the market's last bar.
TURNOVER_DAYS = 90
# The segments of ordinary shares: the equal-weighted benchmark holds these (no ETFs, ETNs,
# REITs or funds). A series with no segment (delisted before today's listing) counts as one.
ORDINARY_SEGMENTS = frozenset(
    {
        "プライム（内国株式）",
        "プライム（外国株式）",
        "スタンダード（内国株式）",
        "スタンダード（外国株式）",
        "グロース（内国株式）",
        "グロース（外国株式）",
    }
)

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
    # Per series, an id shared by the funds of one underlying (an ETF and its leveraged or
    # inverse twin), -1 for the rest: their overlapping matches are one market episode.
    twins: np.ndarray
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

    @property
    def ordinary(self) -> np.ndarray:
        """Per series, whether it is an ordinary share (see ORDINARY_SEGMENTS)."""
        return np.array(
            [not segment or segment in ORDINARY_SEGMENTS for segment in self.segments], dtype=bool
        )

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
        code: (name, segment, sector_code, sector, underlying)
        for code, name, segment, sector_code, sector, underlying in Stock.objects.filter(
            code__in=codes
        ).values_list("code", "name", "segment", "sector33_code", "sector33", "underlying")
    }
    blank = ("", "", "", "", "")
    meta = [rows.get(code, blank) for code in codes]
    underlyings = sorted({row[4] for row in meta} - {""})
    return Universe(
        snapshot_id=snapshot_id,
        codes=codes,
        names=[row[0] for row in meta],
        segments=np.array([row[1] for row in meta], dtype=object),
        sector_codes=np.array([row[2] for row in meta], dtype=object),
        sector_names=np.array([row[3] for row in meta], dtype=object),
        twins=np.array(
            [underlyings.index(row[4]) if row[4] else -1 for row in meta], dtype=np.int64
        ),
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


def calibration_latest(*, interval: str = "day") -> CalibrationRun | None:
    """The most recent walk-forward calibration of the forecast on daily (weekly, monthly)
    closes, if one was computed."""
    return (
        CalibrationRun.objects.filter(forecast_model__isnull=False, interval=interval)
        .select_related("forecast_model")
        .order_by("-created_at", "-pk")
        .first()
    )


_forecast_lock = threading.Lock()
_forecast: tuple[int, ForecastParams] | None = None


def forecast_latest(*, interval: str = "day") -> tuple[ForecastModel, ForecastParams] | None:
    """The latest forecast model learned on the interval's closes and its parameters (parsed
    once per version and process); None before the interval's first calibration."""
    global _forecast
    model = (
        ForecastModel.objects.filter(calibration__interval=interval)
        .select_related("calibration")
        .order_by("-created_at", "-pk")
        .first()
    )
    if model is None:
        return None
    cached = _forecast
    if cached is None or cached[0] != model.pk:
        with _forecast_lock:
            cached = (model.pk, ForecastParams.from_json(model.params))
            _forecast = cached
    return model, cached[1]


def track_record_list(*, user) -> QuerySet[SavedSearch]:
    """The user's graded searches, newest first, each with its grades (by horizon)."""
    return (
        SavedSearch.objects.filter(user=user, grades__isnull=False)
        .distinct()
        .only(*LIST_FIELDS)
        .prefetch_related(Prefetch("grades", queryset=SearchGrade.objects.order_by("horizon")))
        .order_by("-created_at")
    )


def track_record_summary(*, user) -> list[dict]:
    """The user's own calibration: per horizon, how many grades and how often the outcome fell
    inside the 10-90 and 25-75 bands of the matches."""
    rows = (
        SearchGrade.objects.filter(saved_search__user=user)
        .values("interval", "horizon")
        .annotate(
            count=Count("id"),
            inside_80=Count("id", filter=Q(inside_80=True)),
            inside_50=Count("id", filter=Q(inside_50=True)),
            percentile=Avg("percentile"),
        )
        .order_by("interval", "horizon")
    )
    order = {"day": 0, "week": 1, "month": 2}
    rows = sorted(rows, key=lambda row: (order.get(row["interval"], 3), row["horizon"]))
    return [
        {
            "horizon": row["horizon"],
            "interval": row["interval"],
            "count": row["count"],
            "inside_80": row["inside_80"] / row["count"],
            "inside_50": row["inside_50"] / row["count"],
            "mean_percentile": round(row["percentile"], 1),
        }
        for row in rows
    ]


# The index that matches are compared with, when its bars are stored.
BENCHMARK_INDEX = "TOPIX"
_benchmark_lock = threading.Lock()
# Per interval ("day", "week", "month"): the snapshot id it was built for and the benchmark.
_benchmark: dict[str, tuple[str, Benchmark]] = {}


def market_benchmark(*, snapshot) -> Benchmark | BuyAndHoldBenchmark:
    """TOPIX where its bars are stored, with the equal-weighted buy-and-hold market of the
    snapshot's ordinary shares (stored in the snapshot) for the days they do not cover (before
    the first, after the last); cached per snapshot, interval and process."""
    interval = getattr(snapshot, "interval", "day")
    cached = _benchmark.get(interval)
    if cached is not None and cached[0] == snapshot.id:
        return cached[1]
    with _benchmark_lock:
        rows = list(
            IndexBar.objects.filter(index__code=BENCHMARK_INDEX)
            .order_by("date")
            .values_list("date", "close")
        )
        benchmark = snapshot.benchmark  # built with the snapshot, memory-mapped
        if benchmark is None:  # a folder built before the snapshot held it
            market = snapshot.market
            universe = search_universe(snapshot_id=snapshot.id, series_ids=market.ids)
            calendar = snapshot.baseline.calendar if snapshot.baseline is not None else None
            benchmark = BuyAndHoldBenchmark.build(market, universe.ordinary, calendar)
        if rows:
            benchmark = Benchmark(
                BENCHMARK_INDEX,
                np.array([day for day, _close in rows], dtype="datetime64[D]"),
                np.array([close for _day, close in rows], dtype=np.float64),
                fallback=benchmark,
            )
        _benchmark[interval] = (snapshot.id, benchmark)
        return benchmark


_excess_lock = threading.Lock()
_excess: dict[str, tuple[str, ExcessSample]] = {}  # per interval, as _benchmark


def base_excess_sample(*, snapshot) -> ExcessSample:
    """The snapshot's sample of window ends whose excess returns over the market benchmark give
    the base rate's excess median; built once per snapshot, interval and process."""
    interval = getattr(snapshot, "interval", "day")
    cached = _excess.get(interval)
    if cached is not None and cached[0] == snapshot.id:
        return cached[1]
    benchmark = market_benchmark(snapshot=snapshot)
    with _excess_lock:
        cached = _excess.get(interval)
        if cached is None or cached[0] != snapshot.id:
            cached = _excess[interval] = (
                snapshot.id,
                ExcessSample.build(snapshot.market, benchmark),
            )
        return cached[1]


def saved_searches_export(*, user) -> dict:
    """What similarity keeps about a user: their section of the account page's download."""
    return {
        "saved_searches": list(
            SavedSearch.objects.filter(user=user)
            .order_by("created_at")
            .values("id", "created_at", "source", "mode", "label", "spec", "options")
            .iterator(chunk_size=200)
        ),
        "track_record_grades": (
            SearchGrade.objects.filter(saved_search__user=user)
            .order_by("graded_at")
            .values(
                "saved_search_id",
                "horizon",
                "code",
                "base_date",
                "outcome_date",
                "realised_return",
                "percentile",
                "inside_80",
                "inside_50",
                "graded_at",
            )
            .iterator(chunk_size=2000)
        ),
    }
