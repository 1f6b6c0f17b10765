"""The search snapshot: every stock's split-adjusted closes as a saved engine Market.

Delisted stocks are in it too (``listed.npy`` says which are listed): history searches and base
rates must see the stocks that collapsed, or they would count survivors only; latest-mode
searches use the listed ones. ``baseline_*.npy`` hold the engine's base-rate index,
``benchmark_*.npy`` the equal-weighted buy-and-hold market of the ordinary shares (a float32 close
per trading day and share: 14 MB for jp_daily's 381 ordinary shares over 9,049 days, about
145 MB for 4,000 shares over those days), built once here and memory-mapped by every process
instead of built in each (5.6 s and 76 MB per process on the benchmark market).

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
file of the right size is caught too). A build says in ``meta.json`` that it wrote the record,
which must then be there and list every file; folders built before checksums carry no such word
and are checked by size only. A process reads each file's bytes once: a file it has already
hashed (its build, or a folder it attached before), unchanged since by inode, size and
modification time, is not read again (so a build hashes its files once, not again as it attaches
them); any write to the file changes its modification time, so it is read again.
A current folder that fails the check is logged and skipped: the newest older folder that passes
serves instead, and with none, searches answer 503 (SnapshotUnavailable) while pages go on.

With ``SNAPSHOT_STORE_URL`` set, the build worker also publishes each snapshot to an
S3-compatible store (``snapshot_publish``; the network code is ``snapshot_store.py``) and every
other host pulls it (``snapshot_pull``): the newest complete snapshot is downloaded into a
``.<id>.partial`` folder, every file checked against the published SHA-256, loaded whole, and
only then swapped in exactly as a build is, under the same lock. A pull that fails half way or
finds a damaged file changes nothing here: the current snapshot goes on serving. A pulled folder
keeps the id (and the files the mtime) it was built with, so hosts agree on ids and ages.

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ServiceUnavailableError
from market.models import DailyBar, Stock
from similarity.engine import (
    MIN_LENGTH,
    BaselineIndex,
    BuyAndHoldBenchmark,
    Market,
    PatternError,
    base_rate,
    search,
)
from similarity.selectors import ORDINARY_SEGMENTS
from similarity.snapshot_intervals import intervals_load, intervals_write, snapshot_at
from similarity.snapshot_store import (
    Manifest,
    SnapshotDamaged,
    SnapshotStore,
    StoredFile,
    store_from_settings,
)

logger = logging.getLogger(__name__)

POINTER = "current"
ID_FORMAT = "%Y%m%dT%H%M%S%f"  # a folder's name is its build time, UTC: ids sort by age
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
    # The equal-weighted buy-and-hold market of the ordinary shares (None: an older folder, so
    # each process builds it).
    benchmark: BuyAndHoldBenchmark | None = None
    # The closes this snapshot's market holds ("day"), and the weekly and monthly markets with
    # their base-rate indexes (similarity.snapshot_intervals).
    interval: str = "day"
    intervals: dict = field(default_factory=dict)

    def at(self, interval: str) -> Snapshot:
        """This snapshot on daily, weekly or monthly closes (similarity.limits.INTERVALS)."""
        return snapshot_at(self, interval)


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
        name = timezone.now().astimezone(dt.UTC).strftime(ID_FORMAT)
        partial = root / f".{name}.partial"
        snapshot_write(
            partial,
            market=Market.from_series(series, ids, dates),
            listed=listed,
            ordinary=_ordinary(ids),
        )
        _check(partial, checksums=False)  # just written from these bytes: sizes are the check
        _fsync_folder(partial)
        _make_current(root, partial, name)
    snapshot = snapshot_current()
    _warm_up(snapshot.market)
    return snapshot


def snapshot_write(folder: Path, *, market: Market, listed, ordinary=None) -> None:
    """Write a snapshot folder: the market, which of its series are listed, the base-rate index,
    the equal-weighted benchmark of the ``ordinary`` series (a mask; None: all) and the
    checksums of them all (a build; the store benchmark on a market of its own)."""
    market.save(folder)
    np.save(folder / "listed.npy", np.asarray(listed, dtype=bool), allow_pickle=False)
    if len(market):
        index = BaselineIndex.build(market)
        index.save(folder)
        _benchmark_write(folder, market, ordinary, index.calendar)
    intervals_write(folder, market)
    _checksums_promise(folder)
    _checksums_write(folder)


def _ordinary(codes) -> np.ndarray:
    """Per code, whether it is an ordinary share: what the equal-weighted benchmark holds (the
    rule of ``selectors.Universe.ordinary``: a code with no segment, delisted, counts)."""
    segments = dict(Stock.objects.filter(code__in=codes).values_list("code", "segment"))
    return np.array(
        [not segments.get(code) or segments[code] in ORDINARY_SEGMENTS for code in codes],
        dtype=bool,
    )


def _benchmark_write(folder: Path, market: Market, ordinary, calendar) -> None:
    """The equal-weighted buy-and-hold benchmark, built once here and memory-mapped by every
    process (``benchmark_*.npy``: a float32 close per trading day and ordinary share)."""
    if market.dates is not None:
        BuyAndHoldBenchmark.build(market, ordinary, calendar).save(folder)


def _benchmark_load(folder: Path) -> BuyAndHoldBenchmark | None:
    """The folder's benchmark, memory-mapped; None for a folder built before it was stored;
    SnapshotCorrupt when it is broken."""
    try:
        return BuyAndHoldBenchmark.load(folder)
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise SnapshotCorrupt(f"{folder}: benchmark: {type(exc).__name__}: {exc}") from exc


def _make_current(root: Path, partial: Path, name: str) -> None:
    """Rename a checked, fsynced partial folder to ``name``, point ``current`` at it and prune."""
    os.rename(partial, root / name)
    _fsync(root)
    link = root / f".{POINTER}.{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, root / POINTER)
    _fsync(root)
    _prune(root, name)


def _built_at(name: str) -> dt.datetime:
    return dt.datetime.strptime(name, ID_FORMAT).replace(tzinfo=dt.UTC)


def snapshot_publish(snapshot: Snapshot) -> Manifest | None:
    """Upload a built snapshot to the store (SNAPSHOT_STORE_URL) and keep the newest few there.

    Returns its manifest, or None when no store is configured. Raises SnapshotStoreError when the
    store cannot be reached: the snapshot still serves on this host, and publishing it again
    later is safe (an id already published is not uploaded twice).
    """
    store = store_from_settings()
    if store is None:
        return None
    sums = json.loads((snapshot.folder / CHECKSUMS).read_text(encoding="utf-8"))
    files = {
        name: StoredFile(size=(snapshot.folder / name).stat().st_size, sha256=digest)
        for name, digest in sums.items()
    }
    record = snapshot.folder / CHECKSUMS
    files[CHECKSUMS] = StoredFile(size=record.stat().st_size, sha256=_sha256(record))
    manifest = Manifest(
        id=snapshot.id, built_at=_built_at(snapshot.id), date=snapshot.date, files=files
    )
    store.publish(snapshot.folder, manifest)
    return manifest


@dataclass(frozen=True)
class Pull:
    """What a pull did: ``pulled`` a new snapshot, or found this host ``current`` (or
    ``newer`` than the store, a snapshot built here), or the store ``empty``."""

    status: str
    id: str | None = None
    bytes: int = 0
    seconds: float = 0.0


PULL_STATUS = ".pull.json"  # the last pull's outcome on this host, for /healthz


def snapshot_pull(*, if_missing: bool = False) -> Pull:
    """Fetch the store's newest complete snapshot, verify every file and make it current.

    With ``if_missing``, only when this host has no snapshot yet (a web host starting). Raises
    SnapshotStoreError (SnapshotDamaged for a file that does not match its checksum) and leaves
    the current snapshot serving: nothing changes here until the new folder is whole and checked.
    """
    store = store_from_settings()
    if store is None:
        raise ImproperlyConfigured("SNAPSHOT_STORE_URL is not set: there is no store to pull from")
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _build_lock(root):
        try:
            current = os.readlink(root / POINTER)
        except (FileNotFoundError, NotADirectoryError):
            current = None
        if if_missing and current is not None:
            return Pull("current", current)
        try:
            pull = _pull(store, root, current, started)
        except Exception as exc:
            _pull_status_write(root, ok=False, error=f"{type(exc).__name__}: {exc}")
            raise
        _pull_status_write(root, ok=True, newest=pull.id)
    return pull


def _pull(store: SnapshotStore, root: Path, current: str | None, started: float) -> Pull:
    manifest = store.newest()
    if manifest is None:
        return Pull("empty")
    if current is not None and current >= manifest.id:
        return Pull("current" if current == manifest.id else "newer", current)
    partial = root / f".{manifest.id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        store.download(manifest, partial)
        recorded = json.loads((partial / CHECKSUMS).read_text(encoding="utf-8"))
        if set(recorded) | {CHECKSUMS} != set(manifest.files) or any(
            manifest.files[name].sha256 != digest for name, digest in recorded.items()
        ):
            raise SnapshotDamaged(f"{manifest.id}: {CHECKSUMS} disagrees with the manifest")
        _check(partial, checksums=False)  # every file's SHA-256 was checked as it came in
        built = manifest.built_at.timestamp()
        for path in partial.iterdir():  # the files keep their build time: /healthz's age
            os.utime(path, (built, built))
        _fsync_folder(partial)
        if (root / manifest.id).exists():  # left by an older pull whose swap never happened
            shutil.rmtree(root / manifest.id)
        _make_current(root, partial, manifest.id)
    except (SnapshotCorrupt, ValueError) as exc:
        raise SnapshotDamaged(f"{manifest.id}: {exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return Pull("pulled", manifest.id, manifest.size, time.perf_counter() - started)


def _pull_status_write(root: Path, *, ok: bool, newest: str | None = None, error: str = "") -> None:
    status = {"at": timezone.now().isoformat(timespec="seconds"), "ok": ok}
    if newest:
        status["newest"] = newest
    if error:
        status["error"] = error[:500]
    temporary = root / f"{PULL_STATUS}.{os.getpid()}"
    temporary.write_text(json.dumps(status), encoding="utf-8")
    os.replace(temporary, root / PULL_STATUS)


_warmed_up: set[str] = set()  # the snapshots this process has warmed up on


def warm_up_process() -> bool:
    """Attach the current snapshot, load the engine's compiled kernels and import what a
    result's statistics use (scikit-learn, SciPy) in this process; once per snapshot.

    Every process that searches calls it before serving (through
    ``similarity.services.search_warm_up``: the WSGI application, so runserver for `make run`
    and gunicorn's workers, and each Celery worker process), so that the first search takes as
    long as the second. Returns whether a snapshot was there to warm up on.
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
            "prefix_offsets": (market.prefix_offsets.size, series + 1),
        }
        if market.dates is not None:
            sizes["dates"] = (market.dates.size, closes)
        if series:
            sizes["offsets[-1]"] = (int(market.offsets[-1]), closes)
            sizes["spectra"] = (market.spectra.size, int(market.spec_offsets[-1]))
            sizes["prefix1"] = (market.prefix1.size, int(market.prefix_offsets[-1]))
            sizes["prefix2"] = (market.prefix2.size, int(market.prefix_offsets[-1]))
            sizes["ssd_prefix"] = (market.ssd_prefix.size, int(market.prefix_offsets[-1]))
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
CHECKSUMS_KEY = "checksums"  # in meta.json: this build wrote CHECKSUMS


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# The SHA-256 of files this process hashed, by (device, inode), with the size and modification
# time (ns) they had then: a file that still has them is not read again. The oldest entries go
# first past _HASHED_MAX (some 60 files a snapshot).
_hashed: dict[tuple[int, int], tuple[int, int, str]] = {}
_HASHED_MAX = 4096
_hashed_lock = threading.Lock()


def _file_key(stat: os.stat_result) -> tuple[tuple[int, int], tuple[int, int]]:
    return (stat.st_dev, stat.st_ino), (stat.st_size, stat.st_mtime_ns)


def _sha256_remember(path: Path) -> str:
    """The file's SHA-256, read now, and remembered with the file's identity and mtime."""
    before = path.stat()
    digest = _sha256(path)
    key, state = _file_key(before)
    if _file_key(path.stat()) == (key, state):  # not written to while it was read
        with _hashed_lock:
            _hashed.pop(key, None)
            _hashed[key] = (*state, digest)
            while len(_hashed) > _HASHED_MAX:
                del _hashed[next(iter(_hashed))]
    return digest


def _sha256_matches(path: Path, digest: str) -> bool:
    """Whether the file's bytes have the SHA-256 ``digest``: read unless this process already
    hashed them, with that result, and the file is unchanged since."""
    key, state = _file_key(path.stat())
    if _hashed.get(key) == (*state, digest):
        return True
    return _sha256_remember(path) == digest


def _checksums_write(folder: Path) -> None:
    """Record the SHA-256 of every file of a built folder (before it is checked and renamed)."""
    sums = {p.name: _sha256_remember(p) for p in sorted(folder.iterdir()) if p.is_file()}
    (folder / CHECKSUMS).write_text(json.dumps(sums, indent=1), encoding="utf-8")


def _checksums_promise(folder: Path) -> None:
    """Say in meta.json that this build records checksums, so that a record deleted or emptied
    later is refused rather than taken for a folder built before checksums."""
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta[CHECKSUMS_KEY] = True
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, meta_path)


def _checksums_wrong(folder: Path) -> list[str]:
    """The files that do not match the checksums the build recorded, or a missing or incomplete
    record where the build promised one ([] for a folder built before checksums)."""
    record = folder / CHECKSUMS
    try:
        promised = bool(
            json.loads((folder / "meta.json").read_text(encoding="utf-8")).get(CHECKSUMS_KEY)
        )
        if not record.exists():
            return [f"{CHECKSUMS} is missing"] if promised else []
        sums = json.loads(record.read_text(encoding="utf-8"))
        files = {p.name for p in folder.iterdir() if p.is_file() and p.name != CHECKSUMS}
        unrecorded = sorted(files - set(sums))
        if unrecorded:
            return [f"{CHECKSUMS} does not list {', '.join(unrecorded)}"]
        return [
            f"{name} does not match its checksum"
            for name, digest in sums.items()
            if not _sha256_matches(folder / name, digest)
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
    try:
        intervals = intervals_load(root / name, market)
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise SnapshotCorrupt(f"{root / name}: {type(exc).__name__}: {exc}") from exc
    return Snapshot(
        id=name,
        folder=root / name,
        date=date,
        market=market,
        listed=listed,
        baseline=baseline,
        benchmark=_benchmark_load(root / name),
        serves_for=serves_for or name,
        intervals=intervals,
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
    """For /healthz: the current snapshot's id, age (since it was built, pulled or not) and size;
    ``present: false`` before the first build or pull (the site still serves everything but
    searches); on a host that pulls, the last pull's outcome. A snapshot older than
    SIMILARITY_SNAPSHOT_MAX_AGE_DAYS is not ok: the daily rebuild has stopped."""
    root = _root()
    pull = _pull_status_read(root)
    try:
        name = os.readlink(root / POINTER)
    except (FileNotFoundError, NotADirectoryError):
        return {"ok": True, "present": False, **pull}
    try:
        snapshot = snapshot_current()
    except SnapshotUnavailable:
        return {"ok": False, "present": True, "id": name, "corrupt": _corrupt_in(root), **pull}
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
        **pull,
    }


def _pull_status_read(root: Path) -> dict:
    """``{"pull": {...}}`` on a host that pulls from the store: when it last tried, whether that
    worked, the newest id it saw or its error; ``{}`` on a host that only builds."""
    try:
        return {"pull": json.loads((root / PULL_STATUS).read_text(encoding="utf-8"))}
    except (OSError, ValueError):
        return {}


def _corrupt_in(root: Path) -> list[str]:
    return sorted(folder.name for folder in _broken if folder.parent == root)
