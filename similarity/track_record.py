"""Grading the track record (答え合わせ): what a stock did after a search of its latest stretch.

Entry point: ``track_record_grade() -> int`` (grades written), run nightly by Celery beat after
the scrape. A saved search with ``tracks_outcome`` gets one SearchGrade per horizon once that many
trading days of newer bars exist; bars come from the database, so a grade follows the import.
"""

import datetime as dt

import numpy as np
from django.db import transaction
from django.db.models import Count

from market.models import DailyBar, Stock
from similarity.engine import period_ends
from similarity.models import SavedSearch, SearchGrade


def track_record_grade() -> int:
    """Grade every tracked search whose horizons have passed; returns the grades written."""
    pending = (
        SavedSearch.objects.filter(tracks_outcome=True)
        .annotate(graded=Count("grades"))
        .only("id", "spec", "result")
    )
    written = 0
    for saved in pending.iterator(chunk_size=200):
        horizons = saved.result.get("horizons") or []
        if saved.graded >= len(horizons):
            continue
        written += search_grades_write(saved_search=saved)
    return written


@transaction.atomic
def search_grades_write(*, saved_search: SavedSearch) -> int:
    """The grades of one search at each horizon that has passed and is not graded yet."""
    result = saved_search.result
    pattern = result.get("pattern") or {}
    code, end = pattern.get("code"), pattern.get("end_date")
    horizons = result.get("horizons") or []
    if not code or not end or not horizons:
        return 0
    stock = Stock.objects.filter(code=code).order_by("market").first()
    if stock is None:
        return 0
    done = set(saved_search.grades.values_list("horizon", flat=True))
    interval = result.get("interval") or "day"
    bars = _bars_after(stock, dt.date.fromisoformat(end), max(horizons), interval)
    if not bars or bars[0][0].isoformat() != end:
        return 0
    grades = []
    for h in horizons:
        if h in done or len(bars) <= h:
            continue
        outcomes = np.array(
            [
                match["returns"][str(h)]
                for match in result.get("matches", [])
                if match.get("returns", {}).get(str(h)) is not None
            ],
            dtype=np.float64,
        )
        if outcomes.size == 0:
            continue
        realised = bars[h][1] / bars[0][1] - 1.0
        p10, p25, p75, p90 = np.percentile(outcomes, (10, 25, 75, 90))
        grades.append(
            SearchGrade(
                saved_search=saved_search,
                horizon=h,
                interval=interval,
                code=code,
                base_date=bars[0][0],
                outcome_date=bars[h][0],
                realised_return=realised,
                percentile=round(100.0 * float(np.mean(outcomes <= realised)), 1),
                inside_80=bool(p10 <= realised <= p90),
                inside_50=bool(p25 <= realised <= p75),
            )
        )
    SearchGrade.objects.bulk_create(grades, ignore_conflicts=True)
    return len(grades)


# Trading days in a month at most, for the daily bars that cover a number of weeks or months.
_DAYS_PER_BAR = {"day": 1, "week": 5, "month": 23}


def _bars_after(stock, end: dt.date, count: int, interval: str) -> list[tuple[dt.date, float]]:
    """The (date, close) of the pattern's last bar, then of the ``count`` bars of the interval
    after it: trading days, or the last trading day of each later week or month, a period
    counted only once a trading day of the next one shows it complete."""
    rows = list(
        DailyBar.objects.filter(stock=stock, date__gte=end)
        .order_by("date")
        .values_list("date", "adj_close")[: (count + 2) * _DAYS_PER_BAR[interval] + 1]
    )
    if interval == "day" or not rows:
        return rows[: count + 1]
    dates = np.array([day for day, _close in rows], dtype="datetime64[D]")
    ends = period_ends(dates, interval)[:-1]  # the last period may still be under way
    return [rows[0]] + [
        rows[i] for i in ends if i > 0 and not _same_period(rows[0][0], rows[i][0], interval)
    ]


def _same_period(a: dt.date, b: dt.date, interval: str) -> bool:
    if interval == "week":
        return a.isocalendar()[:2] == b.isocalendar()[:2]
    return (a.year, a.month) == (b.year, b.month)


def track_record_replay(*, user, spec: dict) -> SavedSearch:
    """Search a past stretch of a stock with only the data known before it began (as_of), and
    grade it against what followed: a track record from history, for data that stopped long
    ago (the demo's). The search counts against the user's searches of the day."""
    from similarity.services import search_run

    saved = search_run(user=user, spec=spec, options={"as_of": True})
    saved.tracks_outcome = True
    saved.save(update_fields=["tracks_outcome"])
    search_grades_write(saved_search=saved)
    return saved
