import datetime as dt
import json
import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from market.models import DailyBar, Stock
from similarity import snapshot as snapshots
from similarity.engine import BuyAndHoldBenchmark, base_rate, search
from similarity.selectors import market_benchmark
from similarity.snapshot import (
    SnapshotMissing,
    SnapshotUnavailable,
    snapshot_build,
    snapshot_current,
    snapshot_health,
)
from similarity.tasks import snapshot_rebuild
from tests.factories import staff_sign_in

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2018, 1, 1)


def add_stock(
    code: str, closes, *, listed: bool = True, first_day: dt.date = FIRST_DAY, segment: str = ""
):
    stock = Stock.objects.create(code=code, name=f"Stock {code}", is_listed=listed, segment=segment)
    DailyBar.objects.bulk_create(
        DailyBar(
            stock=stock,
            date=first_day + dt.timedelta(days=i),
            open=c,
            high=c,
            low=c,
            close=c * 2,
            volume=1000,
            adj_close=c,
        )
        for i, c in enumerate(closes)
    )
    return stock


@pytest.fixture(autouse=True)
def snapshot_dir(settings, tmp_path, monkeypatch):
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    monkeypatch.setattr(snapshots, "_current", None)
    monkeypatch.setattr(snapshots, "_broken", {})
    return tmp_path / "snapshot"


def walk(seed: int, n: int) -> np.ndarray:
    return 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.02, n)))


def test_build_holds_every_stock_delisted_too_with_adjusted_closes_and_dates():
    add_stock("7203", walk(1, 40))
    add_stock("130A", walk(2, 25), first_day=dt.date(2018, 1, 16))
    add_stock("9999", walk(3, 30), listed=False)
    add_stock("1111", walk(4, 3))  # too short to hold a pattern

    snapshot = snapshot_build()

    market = snapshot.market
    assert market.ids == ("130A", "7203", "9999")
    assert snapshot.listed.tolist() == [True, True, False]
    assert np.array_equal(market.series_closes(1), walk(1, 40))
    assert market.series_dates(0)[0] == np.datetime64("2018-01-16")
    assert snapshot.date == dt.date(2018, 2, 9)


def test_build_holds_the_base_rate_index():
    add_stock("7203", walk(1, 300))
    add_stock("9999", walk(3, 200), listed=False)

    snapshot = snapshot_build()

    assert snapshot.baseline is not None
    (indexed,) = base_rate(snapshot.market, 20, (20,), index=snapshot.baseline)
    (exact,) = base_rate(snapshot.market, 20, (20,))
    assert indexed.count == exact.count == 300 - 19 - 20 + 200 - 19 - 20
    assert abs(indexed.median - exact.median) <= 0.001


def test_build_holds_the_buy_and_hold_benchmark_of_the_ordinary_shares_memory_mapped():
    add_stock("7203", walk(1, 300), segment="プライム（内国株式）")
    add_stock("1570", walk(2, 300), segment="ETF・ETN")  # a leveraged ETF: not held
    add_stock("9999", walk(3, 200), first_day=dt.date(2018, 3, 1), listed=False)  # delisted

    snapshot = snapshot_build()

    benchmark = snapshot.benchmark
    assert isinstance(benchmark.levels, np.memmap)
    assert benchmark.levels.shape == (snapshot.baseline.calendar.size, 2)
    ordinary = np.array([code != "1570" for code in snapshot.market.ids])
    built = BuyAndHoldBenchmark.build(snapshot.market, ordinary)
    start = np.array(["2018-03-05", "2018-04-02", "2018-01-10"], dtype="datetime64[D]")
    end = np.array(["2018-06-01", "2018-09-03", "2018-02-01"], dtype="datetime64[D]")
    assert np.array_equal(benchmark.returns(start, end), built.returns(start, end))
    assert not np.allclose(
        benchmark.returns(start, end),
        BuyAndHoldBenchmark.build(snapshot.market).returns(start, end),
    )
    assert market_benchmark(snapshot=snapshot) is benchmark  # no TOPIX: the stored one serves


def test_a_folder_built_before_the_benchmark_was_stored_builds_it_per_process(monkeypatch):
    add_stock("7203", walk(1, 300), segment="プライム（内国株式）")
    add_stock("1570", walk(2, 300), segment="ETF・ETN")
    stored = snapshot_build()
    start, end = np.datetime64("2018-02-01"), np.datetime64("2018-08-01")
    expected = stored.benchmark.returns(start, end)
    for path in stored.folder.glob("benchmark_*.npy"):
        path.unlink()
    checksums = stored.folder / "checksums.json"
    sums = json.loads(checksums.read_text())
    checksums.write_text(json.dumps({k: v for k, v in sums.items() if "benchmark_" not in k}))
    monkeypatch.setattr(snapshots, "_current", None)

    older = snapshot_current()

    assert older.id == stored.id and older.benchmark is None
    assert market_benchmark(snapshot=older).returns(start, end) == expected


def test_search_runs_on_the_built_snapshot():
    add_stock("7203", walk(1, 300))
    add_stock("6758", walk(2, 300))

    market = snapshot_build().market

    best = search(market, market.series_closes(1)[100:140], k=1)[0]
    assert (best.series_id, best.start) == ("7203", 100)


def test_current_is_missing_before_the_first_build():
    with pytest.raises(SnapshotMissing):
        snapshot_current()


def test_a_process_notices_a_new_snapshot_without_restarting(snapshot_dir):
    add_stock("7203", walk(1, 50))
    first = snapshot_build()
    assert snapshot_current() is first

    add_stock("6758", walk(2, 50))
    # Another process builds: only the pointer on disk changes.
    second_folder = snapshot_dir / "29991231T000000000000"
    first.market.save(second_folder)
    os.symlink(second_folder.name, snapshot_dir / "tmp-link")
    os.replace(snapshot_dir / "tmp-link", snapshot_dir / "current")

    current = snapshot_current()

    assert current.id == "29991231T000000000000"
    assert current is snapshot_current()


def test_pointer_swap_is_a_symlink_to_the_new_folder(snapshot_dir):
    add_stock("7203", walk(1, 50))

    snapshot = snapshot_build()

    assert os.readlink(snapshot_dir / "current") == snapshot.id
    assert (snapshot_dir / snapshot.id / "meta.json").is_file()
    assert not list(snapshot_dir.glob(".*.partial"))


def test_old_folders_are_pruned_keeping_the_previous_one(snapshot_dir):
    add_stock("7203", walk(1, 50))

    ids = [snapshot_build().id for _ in range(4)]

    folders = sorted(p.name for p in snapshot_dir.iterdir() if p.is_dir() and not p.is_symlink())
    assert folders == ids[-2:]


def test_a_reader_keeps_its_market_after_its_folder_is_pruned():
    add_stock("7203", walk(1, 300))
    old = snapshot_build()
    pattern = np.asarray(old.market.series_closes(0)[10:40])
    expected = search(old.market, pattern, k=3)

    for _ in range(3):
        snapshot_build()

    assert not old.folder.exists()
    assert search(old.market, pattern, k=3) == expected


def test_build_snapshot_command_reports_what_it_built(capsys):
    add_stock("7203", walk(1, 50))

    call_command("build_snapshot")

    assert "1 stocks, 50 closes up to 2018-02-19" in capsys.readouterr().out
    assert snapshot_current().market.ids == ("7203",)


def test_rebuild_task_builds_and_describes_the_snapshot():
    add_stock("7203", walk(1, 50))

    result = snapshot_rebuild.apply().get()

    assert result == {
        "id": snapshot_current().id,
        "date": "2018-02-19",
        "series": 1,
        "closes": 50,
        "date_advanced": True,  # a first data date is a new one
        "publishing": False,  # no store configured
    }


def test_health_reports_age_and_size(client, staff_user):
    staff_sign_in(client, staff_user)
    add_stock("7203", walk(1, 50))
    snapshot_build()

    check = client.get("/healthz").json()["checks"]["snapshot"]

    assert check["ok"] is True and check["present"] is True
    assert check["series"] == 1 and check["closes"] == 50
    assert check["date"] == "2018-02-19"
    assert 0 <= check["age_seconds"] < 60
    assert check["size_bytes"] > 50 * 8


def test_health_fails_when_the_snapshot_is_older_than_its_limit(client, staff_user, settings):
    staff_sign_in(client, staff_user)
    add_stock("7203", walk(1, 50))
    built = snapshot_build()
    stale = dt.datetime.now().timestamp() - (settings.SIMILARITY_SNAPSHOT_MAX_AGE_DAYS + 1) * 86400
    os.utime(built.folder / "meta.json", (stale, stale))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["snapshot"]["ok"] is False


def test_health_says_when_no_snapshot_was_built_yet(client, staff_user):
    staff_sign_in(client, staff_user)
    check = client.get("/healthz").json()["checks"]["snapshot"]

    assert check == {"ok": True, "present": False}


def test_an_empty_database_gives_an_empty_snapshot():
    snapshot = snapshot_build()

    assert len(snapshot.market) == 0 and snapshot.date is None
    assert search(snapshot.market, np.arange(10.0)) == []


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(message % args if args else message)


class _Worker:
    """What gunicorn hands to post_worker_init: the hook only logs through it."""

    def __init__(self):
        self.log = _Log()


def _gunicorn_hook():
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    return config["post_worker_init"]


def test_a_new_web_worker_attaches_the_snapshot_before_serving(monkeypatch):
    add_stock("7203", walk(1, 300))
    snapshot_build()
    # A freshly forked worker has nothing attached yet.
    monkeypatch.setattr(snapshots, "_current", None)
    worker = _Worker()

    _gunicorn_hook()(worker)

    assert snapshots._current is not None
    assert snapshots._current.market.ids == ("7203",)
    assert worker.log.lines == ["similarity snapshot attached and search kernels loaded"]


def test_a_web_worker_starts_without_a_snapshot():
    worker = _Worker()

    _gunicorn_hook()(worker)

    assert snapshots._current is None
    assert "no intact similarity snapshot" in worker.log.lines[0]


def truncate(folder: Path, name: str = "closes.npy") -> None:
    path = folder / name
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def test_a_truncated_file_in_the_current_snapshot_makes_the_previous_one_serve(monkeypatch):
    add_stock("7203", walk(1, 300))
    previous = snapshot_build()
    add_stock("6758", walk(2, 300))
    current = snapshot_build()
    truncate(current.folder)
    monkeypatch.setattr(snapshots, "_current", None)  # a process attaching afresh

    serving = snapshot_current()

    assert serving.id == previous.id
    assert serving.market.ids == ("7203",)
    assert search(serving.market, walk(3, 40), k=1)
    assert snapshot_health()["corrupt"] == [current.id]
    assert snapshot_health()["id"] == previous.id


@pytest.mark.parametrize("damage", ["closes.npy", "spectra.npy", "offsets.npy", "meta.json"])
def test_with_no_intact_snapshot_searches_are_unavailable(monkeypatch, damage):
    add_stock("7203", walk(1, 300))
    only = snapshot_build()
    truncate(only.folder, damage)
    monkeypatch.setattr(snapshots, "_current", None)

    with pytest.raises(SnapshotUnavailable):
        snapshot_current()
    assert snapshot_health()["ok"] is False


def flip_byte(folder: Path, name: str, offset: int = -8) -> None:
    """Change one byte in place: the file keeps its size and still loads."""
    path = folder / name
    with path.open("r+b") as handle:
        handle.seek(offset, 2)
        byte = handle.read(1)
        handle.seek(offset, 2)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize(
    "name",
    ["closes.npy", "dates.npy", "listed.npy", "baseline_cum_sum.npy", "benchmark_levels.npy"],
)
def test_a_flipped_byte_of_the_right_size_is_caught_by_its_checksum(monkeypatch, name):
    add_stock("7203", walk(1, 300))
    previous = snapshot_build()
    add_stock("6758", walk(2, 300))
    current = snapshot_build()
    assert set(json.loads((current.folder / "checksums.json").read_text())) >= {name, "meta.json"}
    flip_byte(current.folder, name)
    monkeypatch.setattr(snapshots, "_current", None)

    serving = snapshot_current()

    assert serving.id == previous.id
    assert snapshot_health()["corrupt"] == [current.id]


def test_a_folder_built_before_checksums_is_checked_by_size(monkeypatch):
    add_stock("7203", walk(1, 300))
    only = snapshot_build()
    (only.folder / "checksums.json").unlink()
    meta = json.loads((only.folder / "meta.json").read_text())
    del meta[snapshots.CHECKSUMS_KEY]  # as the builds before checksums wrote it
    (only.folder / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setattr(snapshots, "_current", None)

    assert snapshot_current().id == only.id


def test_a_build_reads_its_files_once_and_another_process_reads_them_again(monkeypatch):
    import hashlib

    add_stock("7203", walk(1, 300))
    digests = []
    real = hashlib.file_digest
    monkeypatch.setattr(
        hashlib, "file_digest", lambda *args: digests.append(args[0].name) or real(*args)
    )

    built = snapshot_build()
    files = {p.name for p in built.folder.iterdir()} - {"checksums.json"}

    assert sorted(Path(name).name for name in digests) == sorted(files)
    # Another process (no file hashed yet) reads every file to check it.
    digests.clear()
    monkeypatch.setattr(snapshots, "_current", None)
    monkeypatch.setattr(snapshots, "_hashed", {})
    assert snapshot_current().id == built.id
    assert sorted(Path(name).name for name in digests) == sorted(files)
    # Rewritten in place with its bytes unchanged, a file is read again; the others are not.
    digests.clear()
    monkeypatch.setattr(snapshots, "_current", None)
    flip_byte(built.folder, "closes.npy")
    flip_byte(built.folder, "closes.npy")
    assert snapshot_current().id == built.id
    assert [Path(name).name for name in digests] == ["closes.npy"]


@pytest.mark.parametrize("record", [None, "{}", '{"meta.json": "0"}'])
def test_a_flipped_byte_with_its_record_deleted_or_emptied_is_refused(monkeypatch, record):
    add_stock("7203", walk(1, 300))
    previous = snapshot_build()
    add_stock("6758", walk(2, 300))
    current = snapshot_build()
    flip_byte(current.folder, "closes.npy")
    if record is None:
        (current.folder / "checksums.json").unlink()
    else:
        (current.folder / "checksums.json").write_text(record)
    monkeypatch.setattr(snapshots, "_current", None)

    assert snapshot_current().id == previous.id
    assert snapshot_health()["corrupt"] == [current.id]


def test_a_missing_array_file_counts_as_corrupt(monkeypatch):
    add_stock("7203", walk(1, 300))
    only = snapshot_build()
    (only.folder / "center.npy").unlink()
    monkeypatch.setattr(snapshots, "_current", None)

    with pytest.raises(SnapshotUnavailable):
        snapshot_current()


def test_a_web_worker_boots_on_a_corrupt_snapshot(monkeypatch):
    add_stock("7203", walk(1, 300))
    truncate(snapshot_build().folder)
    monkeypatch.setattr(snapshots, "_current", None)
    worker = _Worker()

    _gunicorn_hook()(worker)

    assert "no intact similarity snapshot" in worker.log.lines[0]


def test_build_writes_files_to_disk_before_the_swap(monkeypatch):
    add_stock("7203", walk(1, 300))
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(
        os, "replace", lambda a, b: events.append(f"replace {Path(b).name}") or real_replace(a, b)
    )

    snapshot_build()

    swap = events.index("replace current")
    # Every array and meta.json, then their folder and the parent, before the pointer moves.
    assert events[:swap].count("fsync") >= len(snapshots.Market.__dataclass_fields__) + 1
    assert events[swap + 1 :] == ["fsync"]


# Runs a real build in its own process, which stops itself (SIGSTOP) at the given call so that
# the test can kill it there (SIGKILL): as an OOM kill or a deploy would, half way.
BUILD_UNTIL = """
import importlib, os, signal, sys
import django
django.setup()
from similarity.snapshot import snapshot_build
module, name, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
owner = importlib.import_module(module)
real, calls = getattr(owner, name), []
def stop_here(*args, **kwargs):
    calls.append(1)
    if len(calls) == nth:
        os.kill(os.getpid(), signal.SIGSTOP)
    return real(*args, **kwargs)
setattr(owner, name, stop_here)
snapshot_build()
"""


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("module", "name", "nth"),
    [
        ("numpy", "save", 3),  # writing the arrays
        ("os", "rename", 1),  # all written, not yet renamed
        ("os", "replace", 2),  # renamed, pointer not yet swapped (1 is meta.json's own rename)
    ],
)
def test_a_rebuild_killed_half_way_leaves_the_current_snapshot_serving(
    snapshot_dir, monkeypatch, module, name, nth
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the building process needs the test database on a server")
    add_stock("7203", walk(1, 300))
    before = snapshot_build()
    add_stock("6758", walk(2, 300))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stocksite.settings",
        "DATABASE_URL": _database_url(),
        "SIMILARITY_SNAPSHOT_DIR": str(snapshot_dir),
    }
    builder = subprocess.Popen(
        [sys.executable, "-c", BUILD_UNTIL, module, name, str(nth)],
        cwd=settings.BASE_DIR,
        env=env,
    )
    _, status = os.waitpid(builder.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "the build ended before the kill point"
    os.kill(builder.pid, signal.SIGKILL)
    os.waitpid(builder.pid, 0)
    builder.returncode = -signal.SIGKILL
    monkeypatch.setattr(snapshots, "_current", None)

    assert os.readlink(snapshot_dir / "current") == before.id
    assert snapshot_current().market.ids == ("7203",)
    after = snapshot_build()  # the dead builder's lock went with it
    assert snapshot_current().id == after.id
    assert snapshot_current().market.ids == ("6758", "7203")


def test_the_web_application_warms_the_search_up_before_serving():
    """runserver (`make run`) and gunicorn load stocksite.wsgi before their first request: by
    then the snapshot is attached, the engine's kernels are loaded and the statistics'
    libraries imported, so the first search takes as long as the second."""
    add_stock("7203", walk(1, 300))
    snapshot_build()
    probe = (
        "import sys, stocksite.wsgi;"
        "from similarity import snapshot;"
        "from similarity.engine import kernels;"
        "print(snapshot._current is not None, bool(kernels.exact_stage.signatures),"
        " 'sklearn.cluster' in sys.modules)"
    )
    env = {**os.environ, "DEBUG": "1"}
    env["SIMILARITY_SNAPSHOT_DIR"] = str(settings.SIMILARITY_SNAPSHOT_DIR)

    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert run.stdout.split() == ["True", "True", "True"], run.stderr[-3000:]
