"""Scraped bars and splits: what a site shows, adjusted for splits, stored against what we have."""

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from django.db import transaction
from django.db.models import F

from market.bars import Bar
from market.models import DailyBar, ScrapeRun, SplitAdjustment, Stock
from market.services.daily_bars import (
    BarsRejectedError,
    UpsertResult,
    daily_bars_upsert,
    market_summary_invalidate,
)

logger = logging.getLogger(__name__)

PRICE_TOLERANCE = 0.005


class SplitCheckError(BarsRejectedError):
    """Fetched days disagree with stored ones in a way that is not a split."""


@dataclass
class ScrapedBarsResult:
    upsert: UpsertResult = field(default_factory=UpsertResult)
    split: SplitAdjustment | None = None


def split_ratio_detect(*, stored: Sequence[float], fetched: Sequence[float]) -> float:
    """The one ratio stored/fetched that all overlapping days share: 1.0 when nothing happened.

    `stored` are the stored adjusted closes, `fetched` the closes the site shows for the same
    days. Raises SplitCheckError when the days disagree by no single ratio (a corrected price, a
    parser reading the wrong column): that must be looked at by a person, not written.
    """
    if not stored or len(stored) != len(fetched):
        raise ValueError("need the same, non-empty number of stored and fetched closes")
    ratios = [s / f for s, f in zip(stored, fetched, strict=True)]
    ratio = statistics.median(ratios)
    worst = max(abs(r / ratio - 1) for r in ratios)
    if worst > PRICE_TOLERANCE:
        raise SplitCheckError(
            "the re-fetched days disagree with the stored ones, and not by one constant ratio "
            f"(ratios from {min(ratios):.4g} to {max(ratios):.4g}): nothing was written"
        )
    if abs(ratio - 1) <= PRICE_TOLERANCE:
        return 1.0
    # Splits are small fractions (2, 3, 3/2, 1000, 1/10 for a consolidation): snap to one.
    nice = Fraction(ratio).limit_denominator(20)
    return float(nice) if abs(float(nice) / ratio - 1) <= PRICE_TOLERANCE else ratio


@transaction.atomic
def scraped_bars_save(
    *, stock: Stock, bars: Sequence[Bar], source: str, scrape_run: ScrapeRun | None = None
) -> ScrapedBarsResult:
    """Store what a site shows, when the site shows its history adjusted for splits.

    The days that overlap the stored ones are compared, never written over: agreement means no
    split; one constant ratio means a split since the last stored day, so the stored adjusted
    closes are divided by it (raw prices stay as traded) and a SplitAdjustment records it; any
    other disagreement rejects the whole batch. Days after the last stored one are taken as traded;
    when several new days arrive together with a split, the split is taken to fall on the first
    of them (the daily schedule fetches one new day at a time). A stock with no stored bars takes
    the shown history as it is (splits inside it then show in the raw prices too); one whose
    stored history ends before the fetched pages reach back is rejected (raise SCRAPE_MAX_PAGES
    or import the gap from a file).
    """
    result = ScrapedBarsResult()
    if not bars:
        return result
    locked = Stock.objects.select_for_update().get(pk=stock.pk)
    stored = dict(
        DailyBar.objects.filter(
            stock=locked,
            date__gte=min(bar.date for bar in bars),
            date__lte=max(b.date for b in bars),
        ).values_list("date", "adj_close")
    )
    overlap = [bar for bar in bars if bar.date in stored]
    last_stored = locked.last_bar_date
    if last_stored is not None and not overlap:
        raise SplitCheckError(
            f"no fetched day overlaps the stored history (last stored {last_stored}): "
            "cannot check for a split, nothing was written"
        )
    ratio = 1.0
    if overlap:
        ratio = split_ratio_detect(
            stored=[stored[bar.date] for bar in overlap], fetched=[bar.close for bar in overlap]
        )
    if ratio != 1.0:
        result.split = _split_record(
            stock=locked, ratio=ratio, after=last_stored, source=source, scrape_run=scrape_run
        )
    new_bars = [
        _as_traded(bar, ratio) if last_stored is not None and bar.date < last_stored else bar
        for bar in bars
        if bar.date not in stored
    ]
    result.upsert = daily_bars_upsert(stock=locked, bars=new_bars)
    result.upsert.unchanged += len(overlap)
    return result


def _split_record(
    *, stock: Stock, ratio: float, after, source: str, scrape_run: ScrapeRun | None
) -> SplitAdjustment:
    """Divide the stored adjusted closes up to `after` by `ratio`, and record the split."""
    adjusted = DailyBar.objects.filter(stock=stock, date__lte=after).update(
        adj_close=F("adj_close") / ratio
    )
    logger.info("split 1:%g of %s after %s: %d bars", ratio, stock.code, after, adjusted)
    market_summary_invalidate()
    return SplitAdjustment.objects.create(
        stock=stock,
        source=source,
        ratio=ratio,
        effective_after=after,
        bars_adjusted=adjusted,
        scrape_run=scrape_run,
    )


def _as_traded(bar: Bar, ratio: float) -> Bar:
    """A day of a gap in the stored history, shown adjusted by `ratio`, as it traded."""
    return Bar(
        date=bar.date,
        open=bar.open * ratio,
        high=bar.high * ratio,
        low=bar.low * ratio,
        close=bar.close * ratio,
        volume=round(bar.volume / ratio),
        adj_close=bar.close,
    )
