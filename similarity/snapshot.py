"""The search snapshot: every stock's split-adjusted closes as a saved engine Market.

Delisted stocks are in it too (``listed.npy`` says which are listed): history searches and base
rates must see the stocks that collapsed, or they would count survivors only; latest-mode
searches use the listed ones. ``baseline_*.npy`` hold the engine's base-rate index.

Layout under ``settings.SIMILARITY_SNAPSHOT_DIR``::

    <id>/       a saved Market (series ids are stock codes, with dates); <id> sorts by build time
    current     symlink to the folder in use, replaced atomically (os.replace)
    .build.lock serialises builds (the Celery task and the command may overlap)

A build writes a hidden ``.<id>.partial`` folder, checks it loads whole, fsyncs its files and
folder, renames it to ``<id>`` and only then swaps the pointer (fsyncing the parent after each
step), so a reader sees the old snapshot or the new one, never half of one, even after a crash or
a power cut. A build killed half way leaves the current snapshot in place.

Attaching checks the folder: every array present, readable and of the sizes the others imply,
and every file matching the SHA-256 the build wrote in ``checksums.json`` (a flipped byte in a
file of the right size is caught too; folders built before checksums are checked by size only).
A current folder that fails the check is logged and skipped: the newest older folder that passes
serves instead, and with none, searches answer 503 (SnapshotUnavailable) while pages go on.

Each process keeps the memory-mapped Market it loaded (the page cache is shared by every
process) and, on its next search, notices a new pointer with one ``readlink`` call: no restart.
Folders older than the current one and the one before are deleted; a process still reading a
deleted folder keeps its mapping (Linux frees the files when the last mapping goes).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
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

from core.errors import ServiceUnavailableError
from market.models import DailyBar
from similarity.engine import MIN_LENGTH, BaselineIndex, Market, PatternError, base_rate, search

logger = logging.getLogger(__name__)

POINTER = "current"
KEEP = 2  # the current folder and the one before, for processes that have not switched yet
_PARTIAL_MAX_AGE = 3600.0  # seconds after which an unfinished build's folder is debris


class SnapshotMissing(ServiceUnavailableError):
    code = "snapshot_missing"
    default_message = _("The market data is being prepared; try again in a minute.")


class SnapshotUnavailable(SnapshotMissing):
    code = "snapshot_unavailable"
    default_message = _(
        "Search is unavailable: the market data failed its integrity check. "
        "Other pages work; try the search again later."
    )


class SnapshotCorrupt(Exception):
    """A snapshot folder that exists but does not load whole."""


@dataclass(frozen=True, eq=False)
class Snapshot:
    id: str
    folder: Path
    date: dt.date | None  # the last trading day in the data
    market: Market
    # The pointer target this snapshot serves for: its own id, or that of a broken newer folder
    # it stands in for.
    serves_for: str = ""
    listed: np.ndarray | None = None  # per series: listed today (None: all, an older folder)
    baseline: BaselineIndex | None = None  # None: base rates are counted exactly


_lock = threading.Lock()
_current: Snapshot | None = None
_broken: dict[Path, str] = {}  # folder -> why it failed its check, in this process


def _root() -> Path:
    return Path(settings.SIMILARITY_SNAPSHOT_DIR)


def snapshot_build() -> Snapshot:
    """Build a new snapshot from the database, make it current and prune old folders."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        series, ids, dates, listed = _market_closes()
        name = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        partial = root / f".{name}.partial"
        market = Market.from_series(series, ids, dates)
        market.save(partial)
        np.save(partial / "listed.npy", np.asarray(listed, dtype=bool), allow_pickle=False)
        if len(market):
            BaselineIndex.build(market).save(partial)
        _checksums_write(partial)
        _check(partial, checksums=False)  # just written from these bytes: sizes are the check
        _fsync_folder(partial)
        os.rename(partial, root / name)
        _fsync(root)
        link = root / f".{POINTER}.{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(name, link)
        os.replace(link, root / POINTER)
        _fsync(root)
        _prune(root, name)
    snapshot = snapshot_current()
    _warm_up(snapshot.market)
    return snapshot


_warmed_up: set[str] = set()  # the snapshots this process has warmed up on


def warm_up_process() -> bool:
    """Attach the current snapshot, load the engine's compiled kernels and import what a
    result's statistics use (scikit-learn, SciPy) in this process; once per snapshot.

    Every process that searches calls it before serving: the WSGI application (runserver, so
    `make run`, and gunicorn's workers, see ``gunicorn.conf.py``) and each Celery worker
    process, so that the first search takes as long as the second. Returns whether a snapshot
    was there to warm up on.
    """
    try:
        snapshot = snapshot_current()
    except SnapshotMissing:  # also SnapshotUnavailable: no intact snapshot at all
        return False
    if snapshot.id not in _warmed_up:
        _warm_up(snapshot.market, statistics=True, baseline=snapshot.baseline)
        _warmed_up.add(snapshot.id)
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    for path in folder.iterdir():
        _fsync(path)
    _fsync(folder)


def _warm_up(
    market: Market, *, statistics: bool = False, baseline: BaselineIndex | None = None
) -> None:
    """Search the new snapshot once per code path, so the engine's compiled kernels are in
    numba's on-disk cache before web processes need them (compiling takes seconds); with
    `statistics`, also count a base rate and compute a result's statistics once, which loads
    the base rate's kernels and imports scikit-learn and SciPy (seconds more on a first search
    otherwise)."""
    if not len(market) or market.lengths.max() < 61:
        return
    s = int(np.argmax(market.lengths))
    closes = np.asarray(market.series_closes(s))
    for m, mode in ((20, "history"), (60, "history"), (60, "latest")):
        pattern = closes[-m:] + np.linspace(0, 1e-3 * float(np.ptp(closes) or 1.0), m)
        try:
            found = search(market, pattern, k=10 if statistics else 1, mode=mode)
        except PatternError:
            continue
        if statistics and mode == "history" and found:
            from similarity.results.statistics import history_statistics

            baselines = base_rate(market, m, [5, 20], index=baseline)
            history_statistics(market, found, [5, 20], baselines=baselines, benchmark=None)


def _market_closes() -> tuple[list[np.ndarray], list[str], list[np.ndarray], list[bool]]:
    """Every stock's closes, delisted ones included, and whether each is listed."""
    rows = DailyBar.objects.order_by("stock__code", "date").values_list(
        "stock__code", "stock__is_listed", "date", "adj_close"
    )
    series, ids, dates, listed = [], [], [], []
    code, is_listed, days, closes = None, True, [], []

    def flush():
        if code is not None and len(closes) >= MIN_LENGTH:
            ids.append(code)
            listed.append(is_listed)
            series.append(np.asarray(closes, dtype=np.float64))
            dates.append(np.asarray(days, dtype="datetime64[D]"))

    for row_code, row_listed, day, close in rows.iterator(chunk_size=50_000):
        if row_code != code:
            flush()
            code, is_listed, days, closes = row_code, row_listed, [], []
        days.append(day)
        closes.append(close)
    flush()
    return series, ids, dates, listed


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
    """The current snapshot, loaded once per process and reloaded when the pointer moves.

    Raises SnapshotMissing before the first build, SnapshotUnavailable when neither the current
    folder nor an older one passes the check.
    """
    global _current
    root = _root()
    for _attempt in range(3):
        try:
            name = os.readlink(root / POINTER)
        except (FileNotFoundError, NotADirectoryError):
            raise SnapshotMissing() from None
        current = _current
        if current is not None and current.serves_for == name and current.folder.parent == root:
            return current
        with _lock:
            current = _current
            if current is None or current.serves_for != name or current.folder.parent != root:
                try:
                    current = _attach(root, name)
                except FileNotFoundError:
                    # Pruned between readlink and load: a newer snapshot is current; read again.
                    continue
                _current = current
            return current
    raise SnapshotMissing()


def _attach(root: Path, name: str) -> Snapshot:
    """The snapshot in folder ``name``, or the newest intact older one if it fails its check."""
    if root / name not in _broken:
        try:
            return _load(root, name)
        except SnapshotCorrupt as exc:
            _broken[root / name] = str(exc)
            logger.error("similarity snapshot %s is corrupt, not used: %s", name, exc)
    older = sorted(
        (
            p.name
            for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name < name
        ),
        reverse=True,
    )
    for candidate in older:
        if root / candidate in _broken:
            continue
        try:
            snapshot = _load(root, candidate, serves_for=name)
        except (SnapshotCorrupt, FileNotFoundError) as exc:
            _broken[root / candidate] = str(exc)
            continue
        logger.warning("similarity snapshot %s stands in for the corrupt %s", candidate, name)
        return snapshot
    raise SnapshotUnavailable()


def _check(folder: Path, *, checksums: bool = True) -> Market:
    """Load a snapshot folder and check that its arrays are whole (and, with ``checksums``, that
    every file matches the build's record); SnapshotCorrupt if not."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        market = Market.load(folder)
        series, closes = int(meta["series"]), int(meta["closes"])
        sizes = {
            "ids": (len(market.ids), series),
            "offsets": (len(market.offsets), series + 1),
            "closes": (market.closes.size, closes),
            "closes32": (market.closes32.size, closes),
            "center": (market.center.size, series),
            "scale": (market.scale.size, series),
            "max_dev": (market.max_dev.size, series),
            "fft_len": (market.fft_len.size, series),
            "spec_offsets": (market.spec_offsets.size, series + 1),
        }
        if market.dates is not None:
            sizes["dates"] = (market.dates.size, closes)
        if series:
            sizes["offsets[-1]"] = (int(market.offsets[-1]), closes)
            sizes["spectra"] = (market.spectra.size, int(market.spec_offsets[-1]))
    except FileNotFoundError:
        if not folder.is_dir():
            raise  # pruned meanwhile, not corrupt
        raise SnapshotCorrupt(f"{folder}: a file is missing") from None
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise SnapshotCorrupt(f"{folder}: {type(exc).__name__}: {exc}") from exc
    wrong = [
        f"{key} has {got}, expected {want}" for key, (got, want) in sizes.items() if got != want
    ]
    if checksums:
        wrong += _checksums_wrong(folder)
    if wrong:
        raise SnapshotCorrupt(f"{folder}: " + "; ".join(wrong))
    return market


CHECKSUMS = "checksums.json"


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _checksums_write(folder: Path) -> None:
    """Record the SHA-256 of every file of a built folder (before it is checked and renamed)."""
    sums = {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}
    (folder / CHECKSUMS).write_text(json.dumps(sums, indent=1), encoding="utf-8")


def _checksums_wrong(folder: Path) -> list[str]:
    """The files that do not match the checksums the build recorded ([] without a record)."""
    record = folder / CHECKSUMS
    if not record.exists():
        return []
    try:
        sums = json.loads(record.read_text(encoding="utf-8"))
        return [
            f"{name} does not match its checksum"
            for name, digest in sums.items()
            if _sha256(folder / name) != digest
        ]
    except FileNotFoundError:
        if not folder.is_dir():
            raise  # pruned meanwhile, not corrupt
        return ["a file listed in checksums.json is missing"]
    except (OSError, ValueError, AttributeError) as exc:
        return [f"{CHECKSUMS}: {type(exc).__name__}: {exc}"]


def _load(root: Path, name: str, *, serves_for: str = "") -> Snapshot:
    market = _check(root / name)
    date = None
    if len(market) and market.dates is not None:
        last = np.asarray(market.dates[market.offsets[1:] - 1])
        date = last.max().item()
    listed, baseline = _extras(root / name, series=len(market))
    return Snapshot(
        id=name,
        folder=root / name,
        date=date,
        market=market,
        listed=listed,
        baseline=baseline,
        serves_for=serves_for or name,
    )


def _extras(folder: Path, *, series: int) -> tuple[np.ndarray | None, BaselineIndex | None]:
    """Which series are listed, and the base-rate index; SnapshotCorrupt if either is broken."""
    listed_file = folder / "listed.npy"
    try:
        listed = np.load(listed_file, allow_pickle=False) if listed_file.exists() else None
        baseline = BaselineIndex.load(folder)
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise SnapshotCorrupt(f"{folder}: {type(exc).__name__}: {exc}") from exc
    if listed is not None and listed.size != series:
        raise SnapshotCorrupt(f"{folder}: listed has {listed.size}, expected {series}")
    return listed, baseline


def snapshot_health() -> dict:
    """For /healthz: the current snapshot's id, age and size; ``present: false`` before the
    first build (the site still serves everything but searches). A snapshot older than
    SIMILARITY_SNAPSHOT_MAX_AGE_DAYS is not ok: the daily rebuild has stopped."""
    root = _root()
    try:
        name = os.readlink(root / POINTER)
    except (FileNotFoundError, NotADirectoryError):
        return {"ok": True, "present": False}
    try:
        snapshot = snapshot_current()
    except SnapshotUnavailable:
        return {"ok": False, "present": True, "id": name, "corrupt": _corrupt_in(root)}
    files = [p for p in snapshot.folder.iterdir() if p.is_file()]
    age_seconds = time.time() - (snapshot.folder / "meta.json").stat().st_mtime
    return {
        "ok": age_seconds <= settings.SIMILARITY_SNAPSHOT_MAX_AGE_DAYS * 24 * 60 * 60,
        "present": True,
        "id": snapshot.id,
        "corrupt": _corrupt_in(root),
        "date": snapshot.date.isoformat() if snapshot.date else None,
        "age_seconds": round(age_seconds, 1),
        "series": len(snapshot.market),
        "closes": snapshot.market.size,
        "size_bytes": sum(p.stat().st_size for p in files),
    }


def _corrupt_in(root: Path) -> list[str]:
    return sorted(folder.name for folder in _broken if folder.parent == root)
