import datetime as dt
import os
import runpy
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from market.models import DailyBar, Stock
from similarity import snapshot as snapshots
from similarity.engine import search
from similarity.snapshot import SnapshotMissing, snapshot_build, snapshot_current
from similarity.tasks import snapshot_rebuild

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2018, 1, 1)


def add_stock(code: str, closes, *, listed: bool = True, first_day: dt.date = FIRST_DAY):
    stock = Stock.objects.create(code=code, name=f"Stock {code}", is_listed=listed)
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
    return tmp_path / "snapshot"


def walk(seed: int, n: int) -> np.ndarray:
    return 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.02, n)))


def test_build_holds_every_listed_stock_with_adjusted_closes_and_dates():
    add_stock("7203", walk(1, 40))
    add_stock("130A", walk(2, 25), first_day=dt.date(2018, 1, 16))
    add_stock("9999", walk(3, 30), listed=False)
    add_stock("1111", walk(4, 3))  # too short to hold a pattern

    snapshot = snapshot_build()

    market = snapshot.market
    assert market.ids == ("130A", "7203")
    assert np.array_equal(market.series_closes(1), walk(1, 40))
    assert market.series_dates(0)[0] == np.datetime64("2018-01-16")
    assert snapshot.date == dt.date(2018, 2, 9)


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
        "alerts_dispatched": True,  # a first data date is a new one
    }


def test_health_reports_age_and_size(client):
    add_stock("7203", walk(1, 50))
    snapshot_build()

    check = client.get("/healthz").json()["checks"]["snapshot"]

    assert check["ok"] is True and check["present"] is True
    assert check["series"] == 1 and check["closes"] == 50
    assert check["date"] == "2018-02-19"
    assert 0 <= check["age_seconds"] < 60
    assert check["size_bytes"] > 50 * 8


def test_health_says_when_no_snapshot_was_built_yet(client):
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
    assert "no similarity snapshot yet" in worker.log.lines[0]
