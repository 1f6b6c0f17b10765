"""The search snapshot: every listed stock's split-adjusted closes as a saved engine Market.

Layout under ``settings.SIMILARITY_SNAPSHOT_DIR``::

    <id>/       a saved Market (series ids are stock codes, with dates); <id> sorts by build time
    current     symlink to the folder in use, replaced atomically (os.replace)
    .build.lock serialises builds (the Celery task and the command may overlap)

A build writes a hidden ``.<id>.partial`` folder, renames it to ``<id>`` and only then swaps the
pointer, so a reader sees the old snapshot or the new one, never half of one. Each process keeps
the memory-mapped Market it loaded (the page cache is shared by every process) and, on its next
search, notices a new pointer with one ``readlink`` call: no restart. Folders older than the
current one and the one before are deleted; a process still reading a deleted folder keeps its
mapping (Linux frees the files when the last mapping goes).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.models import DailyBar
from similarity.engine import MIN_LENGTH, Market, PatternError, search
from stocksite.errors import ServiceUnavailableError

POINTER = "current"
KEEP = 2  # the current folder and the one before, for processes that have not switched yet
_PARTIAL_MAX_AGE = 3600.0  # seconds after which an unfinished build's folder is debris


class SnapshotMissing(ServiceUnavailableError):
    code = "snapshot_missing"
    default_message = _("The market data is being prepared; try again in a minute.")


@dataclass(frozen=True, eq=False)
class Snapshot:
    id: str
    folder: Path
    date: dt.date | None  # the last trading day in the data
    market: Market


_lock = threading.Lock()
_current: Snapshot | None = None


def _root() -> Path:
    return Path(settings.SIMILARITY_SNAPSHOT_DIR)


def snapshot_build() -> Snapshot:
    """Build a new snapshot from the database, make it current and prune old folders."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        series, ids, dates = _listed_closes()
        name = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        partial = root / f".{name}.partial"
        Market.from_series(series, ids, dates).save(partial)
        os.rename(partial, root / name)
        link = root / f".{POINTER}.{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(name, link)
        os.replace(link, root / POINTER)
        _prune(root, name)
    snapshot = snapshot_current()
    _warm_up(snapshot.market)
    return snapshot


def warm_up_process() -> bool:
    """Attach the current snapshot and load the engine's compiled kernels in this process.

    A web worker calls it before serving (``gunicorn.conf.py``), so that its first search does
    not pay seconds of loading. Returns whether a snapshot was there to warm up on.
    """
    try:
        snapshot = snapshot_current()
    except SnapshotMissing:
        return False
    _warm_up(snapshot.market)
    return True


def _warm_up(market: Market) -> None:
    """Search the new snapshot once per code path, so the engine's compiled kernels are in
    numba's on-disk cache before web processes need them (compiling takes seconds)."""
    if not len(market) or market.lengths.max() < 61:
        return
    s = int(np.argmax(market.lengths))
    closes = np.asarray(market.series_closes(s))
    for m, mode in ((20, "history"), (60, "history"), (60, "latest")):
        pattern = closes[-m:] + np.linspace(0, 1e-3 * float(np.ptp(closes) or 1.0), m)
        try:
            search(market, pattern, k=1, mode=mode)
        except PatternError:
            continue


def _listed_closes() -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    rows = (
        DailyBar.objects.filter(stock__is_listed=True)
        .order_by("stock__code", "date")
        .values_list("stock__code", "date", "adj_close")
    )
    series, ids, dates = [], [], []
    code, days, closes = None, [], []

    def flush():
        if code is not None and len(closes) >= MIN_LENGTH:
            ids.append(code)
            series.append(np.asarray(closes, dtype=np.float64))
            dates.append(np.asarray(days, dtype="datetime64[D]"))

    for row_code, day, close in rows.iterator(chunk_size=50_000):
        if row_code != code:
            flush()
            code, days, closes = row_code, [], []
        days.append(day)
        closes.append(close)
    flush()
    return series, ids, dates


@contextmanager
def _build_lock(root: Path):
    with open(root / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(root: Path, current: str) -> None:
    folders = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
    newer_or_current = [n for n in folders if n >= current]
    older = [n for n in folders if n < current]
    keep = set(newer_or_current) | set(older[-(KEEP - 1) :] if KEEP > 1 else [])
    for name in folders:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
    now = time.time()
    for partial in root.glob(".*.partial"):
        if now - partial.stat().st_mtime > _PARTIAL_MAX_AGE:
            shutil.rmtree(partial, ignore_errors=True)


def snapshot_current() -> Snapshot:
    """The current snapshot, loaded once per process and reloaded when the pointer moves."""
    global _current
    root = _root()
    for _attempt in range(3):
        try:
            name = os.readlink(root / POINTER)
        except (FileNotFoundError, NotADirectoryError):
            raise SnapshotMissing() from None
        current = _current
        if current is not None and current.id == name and current.folder.parent == root:
            return current
        with _lock:
            current = _current
            if current is None or current.id != name or current.folder.parent != root:
                try:
                    current = _load(root, name)
                except FileNotFoundError:
                    # Pruned between readlink and load: a newer snapshot is current; read again.
                    continue
                _current = current
            return current
    raise SnapshotMissing()


def _load(root: Path, name: str) -> Snapshot:
    market = Market.load(root / name)
    date = None
    if len(market) and market.dates is not None:
        last = np.asarray(market.dates[market.offsets[1:] - 1])
        date = last.max().item()
    return Snapshot(id=name, folder=root / name, date=date, market=market)


def snapshot_health() -> dict:
    """For /healthz: the current snapshot's id, age and size; ``present: false`` before the
    first build (the site still serves everything but searches)."""
    root = _root()
    try:
        name = os.readlink(root / POINTER)
    except (FileNotFoundError, NotADirectoryError):
        return {"ok": True, "present": False}
    snapshot = snapshot_current()
    files = [p for p in snapshot.folder.iterdir() if p.is_file()]
    built = (snapshot.folder / "meta.json").stat().st_mtime
    return {
        "ok": True,
        "present": True,
        "id": name,
        "date": snapshot.date.isoformat() if snapshot.date else None,
        "age_seconds": round(time.time() - built, 1),
        "series": len(snapshot.market),
        "closes": snapshot.market.size,
        "size_bytes": sum(p.stat().st_size for p in files),
    }
