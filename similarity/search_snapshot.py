"""The search service's view of the market: a saved engine Market, swapped atomically.

Interim, until similarity/snapshot.py (the engine issue's snapshot: Celery task, command,
health check) lands; the service needs only `snapshot_current()` and tests `snapshot_build()`.

Layout: SIMILARITY_SNAPSHOT_DIR/<id>/ holds a saved Market (series ids are stock codes, with
dates); SIMILARITY_SNAPSHOT_DIR/CURRENT names the folder in use and is replaced atomically, so a
reader sees the old snapshot or the new one, never half of one. Each process keeps the loaded
(memory-mapped) Market and notices a new CURRENT on its next search, without a restart.
"""

import datetime as dt
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.models import DailyBar, Stock
from similarity.engine import MIN_LENGTH, Market
from stocksite.api import DomainError

POINTER = "CURRENT"
KEEP = 2  # folders kept: the current one and the one before, for processes still reading it


class SnapshotMissing(DomainError):
    status_code = 503
    default_code = "snapshot_missing"
    default_detail = _("The market data is being prepared; try again in a minute.")


@dataclass(frozen=True, eq=False)
class Snapshot:
    id: str
    date: dt.date | None  # the last trading day in the data
    market: Market


_lock = threading.Lock()
_current: Snapshot | None = None


def snapshot_build() -> Snapshot:
    """Write every stock's split-adjusted closes into a new folder and make it current."""
    root = Path(settings.SIMILARITY_SNAPSHOT_DIR)
    root.mkdir(parents=True, exist_ok=True)
    codes = dict(Stock.objects.values_list("id", "code"))
    ids, series, dates = [], [], []
    rows = DailyBar.objects.order_by("stock_id", "date").values_list(
        "stock_id", "date", "adj_close"
    )
    current_id, days, closes = None, [], []

    def flush():
        if current_id is not None and len(closes) >= MIN_LENGTH:
            ids.append(codes[current_id])
            series.append(np.asarray(closes, dtype=np.float64))
            dates.append(np.asarray(days, dtype="datetime64[D]"))

    for stock_id, day, close in rows.iterator(chunk_size=20_000):
        if stock_id != current_id:
            flush()
            current_id, days, closes = stock_id, [], []
        days.append(day)
        closes.append(close)
    flush()

    name = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    folder = root / name
    Market.from_series(series, ids, dates).save(folder)
    pointer = root / f"{POINTER}.tmp"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, root / POINTER)
    for old in sorted(p for p in root.iterdir() if p.is_dir() and p.name != name)[: -(KEEP - 1)]:
        shutil.rmtree(old, ignore_errors=True)
    return snapshot_current()


def snapshot_current() -> Snapshot:
    """The current snapshot, loaded once per process and re-read when CURRENT changes."""
    global _current
    root = Path(settings.SIMILARITY_SNAPSHOT_DIR)
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SnapshotMissing() from None
    current = _current
    if current is not None and current.id == name:
        return current
    with _lock:
        if _current is None or _current.id != name:
            market = Market.load(root / name)
            last = market.dates[market.offsets[1:] - 1] if len(market) else None
            date = last.max().item() if last is not None and last.size else None
            _current = Snapshot(id=name, date=date, market=market)
        return _current
