"""Publishing snapshots to an S3-compatible store and pulling them on other hosts, against a real
S3 server (moto's, in server mode on a free port). A "host" is a snapshot folder: the tests switch
SIMILARITY_SNAPSHOT_DIR between folders, and some hosts run as processes of their own.

Every snapshot holds some 78 MB of base-rate tables whatever its market, so each one built, sent
or fetched costs seconds of CPU in this process and the S3 server's. A test builds and publishes
its own only when building, publishing or a damaged upload is what it is about; the others pull
the one snapshot the module publishes (``published``), which no test writes to, and a host that
needs a snapshot of its own to begin with gets a copy of a built folder (``seed``)."""

import datetime as dt
import json
import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import numpy as np
import pytest
from boto3.s3.transfer import TransferConfig
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from similarity import snapshot as snapshots
from similarity import snapshot_store
from similarity.engine import search
from similarity.snapshot import (
    snapshot_build,
    snapshot_current,
    snapshot_health,
    snapshot_publish,
    snapshot_pull,
)
from similarity.snapshot_store import (
    KEEP,
    Manifest,
    SnapshotDamaged,
    SnapshotStore,
    SnapshotStoreError,
    StoredFile,
)
from similarity.tasks import snapshot_rebuild
from tests.conftest import free_port
from tests.similarity.test_snapshot import add_stock, walk

pytestmark = pytest.mark.django_db

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "stocksite-test",
    "AWS_SECRET_ACCESS_KEY": "stocksite-test-secret",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
}


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server in a process of its own, as a real store would be: in this process's
    threads it would take the interpreter lock from the uploads it serves (a third of the
    file's time)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the S3 server did not start") from None
            time.sleep(0.05)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


def bucket_create(s3_endpoint: str) -> tuple:
    name = f"snapshots-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **credentials())
    s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    return s3, name


def credentials() -> dict:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": CREDENTIALS["AWS_DEFAULT_REGION"],
    }


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket on the S3 server, configured as the snapshot store."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    s3, name = bucket_create(s3_endpoint)
    settings.SNAPSHOT_STORE_URL = f"s3://{name}/stocksite"
    settings.SNAPSHOT_STORE_ENDPOINT = s3_endpoint
    return s3, name


@dataclass(frozen=True)
class Published:
    """The module's published snapshot, and what was built and pulled around it."""

    url: str  # SNAPSHOT_STORE_URL of its bucket, which no test writes to
    endpoint: str
    bucket: tuple  # (client, name)
    built: snapshots.Snapshot  # 7203 and 6758, as built and published
    older: Path  # a built folder of 7203 alone, older than ``built``, never published
    web_host: Path  # a web host that pulled ``built`` as gunicorn starts: read, never written
    web_log: list[str]  # what gunicorn's on_starting logged there


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(message % args)

    error = info


class _Server:
    """What gunicorn hands to on_starting: the hook only logs through it."""

    def __init__(self):
        self.log = _Log()


def on_starting(environment: dict) -> list[str]:
    """gunicorn's on_starting hook run here, with ``environment`` as its process's; its log."""
    on_starting = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))["on_starting"]
    server = _Server()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        on_starting(server)
    return server.log.lines


@pytest.fixture(scope="module")
def published(s3_endpoint, django_db_setup, django_db_blocker, tmp_path_factory) -> Published:
    """One snapshot built and published once for the module, in a bucket of its own, and a web
    host (a folder, a process of its own) that pulled it as gunicorn starts.

    The tests that only pull it, or need a host that pulled it, share them and write to neither:
    what a pull does to a host is checked in the web host's folder itself or in a copy."""
    root = tmp_path_factory.mktemp("published")
    s3, name = bucket_create(s3_endpoint)
    store = {
        "SNAPSHOT_STORE_URL": f"s3://{name}/stocksite",
        "SNAPSHOT_STORE_ENDPOINT": s3_endpoint,
    }
    with (
        pytest.MonkeyPatch.context() as patch,
        django_db_blocker.unblock(),
        override_settings(SIMILARITY_SNAPSHOT_DIR=root / "build", **store),
        transaction.atomic(),
    ):
        for variable, value in CREDENTIALS.items():
            patch.setenv(variable, value)
        patch.setattr(snapshots, "_current", None)
        patch.setattr(snapshots, "_broken", {})
        add_stock("7203", walk(1, 60))
        older = snapshot_build()
        add_stock("6758", walk(2, 60))
        built = build_and_publish()
        transaction.set_rollback(True)
    web_log = on_starting(
        {
            **CREDENTIALS,
            **store,
            "DJANGO_SETTINGS_MODULE": "stocksite.settings",
            "SIMILARITY_SNAPSHOT_DIR": str(root / "web"),
        }
    )
    return Published(
        url=store["SNAPSHOT_STORE_URL"],
        endpoint=s3_endpoint,
        bucket=(s3, name),
        built=built,
        older=older.folder,
        web_host=root / "web",
        web_log=web_log,
    )


@pytest.fixture
def published_store(published, settings, monkeypatch) -> Published:
    """The module's published snapshot's bucket, configured as the snapshot store."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings.SNAPSHOT_STORE_URL = published.url
    settings.SNAPSHOT_STORE_ENDPOINT = published.endpoint
    return published


def earlier(snapshot_id: str, seconds: int) -> str:
    """A snapshot id ``seconds`` before ``snapshot_id``."""
    return (snapshots._built_at(snapshot_id) - dt.timedelta(seconds=seconds)).strftime(
        snapshots.ID_FORMAT
    )


def seed(host_folder: Path, folder: Path, name: str = "") -> str:
    """Put a copy of the built snapshot ``folder`` on a host, as its current snapshot (under
    ``name``, by default its own id): the snapshot a host already serves before a test begins."""
    name = name or folder.name
    host_folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, host_folder / name)
    (host_folder / "current").unlink(missing_ok=True)
    os.symlink(name, host_folder / "current")
    return name


@pytest.fixture(autouse=True)
def host(settings, tmp_path, monkeypatch):
    """Switches this process to a host's snapshot folder; starts on "build"."""
    monkeypatch.setattr(snapshots, "_current", None)
    monkeypatch.setattr(snapshots, "_broken", {})

    def switch(name: str) -> Path:
        settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / name
        snapshots._current = None
        snapshots._broken.clear()
        return tmp_path / name

    switch("build")
    return switch


def build_and_publish() -> snapshots.Snapshot:
    snapshot = snapshot_build()
    snapshot_publish(snapshot)
    return snapshot


def keys(bucket) -> list[str]:
    s3, name = bucket
    return sorted(
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name)
        for o in page.get("Contents", [])
    )


def manifest_ids(bucket) -> list[str]:
    prefix = "stocksite/manifests/"
    return [k[len(prefix) : -len(".json")] for k in keys(bucket) if k.startswith(prefix)]


def subprocess_env(snapshot_dir: Path) -> dict:
    return {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "stocksite.settings",
        "SIMILARITY_SNAPSHOT_DIR": str(snapshot_dir),
        "SNAPSHOT_STORE_URL": settings.SNAPSHOT_STORE_URL,
        "SNAPSHOT_STORE_ENDPOINT": settings.SNAPSHOT_STORE_ENDPOINT,
    }


def test_building_publishes_every_file_then_the_manifest(bucket):
    add_stock("7203", walk(1, 60))

    call_command("build_snapshot")

    built = snapshot_current()
    manifest = json.loads(
        bucket[0]
        .get_object(Bucket=bucket[1], Key=f"stocksite/manifests/{built.id}.json")["Body"]
        .read()
    )
    local = sorted(p.name for p in built.folder.iterdir())
    assert sorted(manifest["files"]) == local
    assert keys(bucket) == sorted(
        [f"stocksite/{built.id}/{name}" for name in local]
        + [f"stocksite/manifests/{built.id}.json"]
    )
    closes = manifest["files"]["closes.npy"]
    assert closes["sha256"] == snapshot_store.sha256_of(built.folder / "closes.npy")
    assert closes["size"] == (built.folder / "closes.npy").stat().st_size


def test_the_rebuild_task_publishes(bucket):
    add_stock("7203", walk(1, 60))

    result = snapshot_rebuild.apply().get()

    assert result["publishing"] is True
    assert manifest_ids(bucket) == [result["id"]]


def test_a_large_file_goes_up_and_comes_back_in_parts(bucket, tmp_path, monkeypatch):
    part = 5 * 1024 * 1024  # S3's smallest part
    monkeypatch.setattr(
        snapshot_store,
        "TRANSFER",
        TransferConfig(multipart_threshold=part, multipart_chunksize=part),
    )
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "big.npy").write_bytes(np.random.default_rng(1).bytes(2 * part + 1))
    manifest = Manifest(
        id="20261206T010203000000",
        built_at=snapshots._built_at("20261206T010203000000"),
        date=None,
        files={
            "big.npy": StoredFile(
                size=2 * part + 1, sha256=snapshot_store.sha256_of(folder / "big.npy")
            )
        },
    )
    store = snapshot_store.store_from_settings()

    store.publish(folder, manifest)

    head = bucket[0].head_object(Bucket=bucket[1], Key=f"stocksite/{manifest.id}/big.npy")
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    assert head["Metadata"] == {"sha256": manifest.files["big.npy"].sha256}
    (tmp_path / "down").mkdir()
    store.download(store.newest(), tmp_path / "down")
    assert (tmp_path / "down" / "big.npy").read_bytes() == (folder / "big.npy").read_bytes()


def test_a_second_host_in_its_own_process_pulls_the_same_snapshot(published_store, settings):
    """The second host is the module's web host: gunicorn's on_starting ran `manage.py
    snapshot_pull --if-missing` for it in a process of its own, in its own folder."""
    built, second = published_store.built, published_store.web_host
    settings.SIMILARITY_SNAPSHOT_DIR = second

    # on_starting logs the command's output at info when it exits with 0, at error otherwise.
    assert published_store.web_log[0].startswith("snapshot pull on start: "), (
        published_store.web_log
    )
    assert f"pulled {built.id}" in published_store.web_log[0]
    pulled = snapshot_current()
    assert pulled.id == built.id and pulled.folder.parent == second
    assert pulled.market.ids == ("6758", "7203")
    pattern = walk(3, 40)
    assert search(pulled.market, pattern, k=5) == search(built.market, pattern, k=5)


def test_a_pulled_snapshot_keeps_its_build_time_as_its_age(published_store, settings):
    built = published_store.built
    settings.SIMILARITY_SNAPSHOT_DIR = published_store.web_host  # pulled there

    meta = snapshot_current().folder / "meta.json"
    assert meta.stat().st_mtime == pytest.approx(
        snapshots._built_at(built.id).timestamp(), abs=0.01
    )


def test_health_says_which_snapshot_a_pulling_host_serves(
    published_store, settings, client, staff_user
):
    built = published_store.built
    settings.SIMILARITY_SNAPSHOT_DIR = published_store.web_host  # pulled there
    client.force_login(staff_user)

    check = client.get("/healthz").json()["checks"]["snapshot"]

    assert check["ok"] is True and check["id"] == built.id
    assert check["age_seconds"] >= 0
    assert check["pull"]["ok"] is True and check["pull"]["newest"] == built.id


# Publishes the current snapshot in a process of its own that stops itself (SIGSTOP) before the
# nth file upload, so that the test can kill it there, as an OOM kill or a deploy would. Files go
# up FILES_AT_ONCE at a time: the nth starts only once n - FILES_AT_ONCE of them are up.
PUBLISH_UNTIL = """
import os, signal, sys
import django
django.setup()
from similarity import snapshot_store
from similarity.snapshot import snapshot_current, snapshot_publish
nth, real, calls = int(sys.argv[1]), snapshot_store._upload_file, []
def stop_here(*args, **kwargs):
    calls.append(1)
    if len(calls) == nth:
        os.kill(os.getpid(), signal.SIGSTOP)
    return real(*args, **kwargs)
snapshot_store._upload_file = stop_here
snapshot_publish(snapshot_current())
"""


def test_an_upload_cut_short_is_never_seen(bucket, host):
    add_stock("7203", walk(1, 60))
    first = build_and_publish()
    add_stock("6758", walk(2, 60))
    second = snapshot_build()
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISH_UNTIL, str(snapshot_store.FILES_AT_ONCE + 4)],
        cwd=settings.BASE_DIR,
        env=subprocess_env(second.folder.parent),
    )
    _, status = os.waitpid(publisher.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "the upload ended before the kill point"
    os.kill(publisher.pid, signal.SIGKILL)
    os.waitpid(publisher.pid, 0)
    publisher.returncode = -signal.SIGKILL
    assert any(k.startswith(f"stocksite/{second.id}/") for k in keys(bucket))
    host("other")

    pull = snapshot_pull()

    assert pull.id == first.id
    assert snapshot_current().market.ids == ("7203",)


def publish_small(folder: Path, snapshot_id: str) -> str:
    """Publish through the store a snapshot of one small file under ``snapshot_id``: what the
    store keeps and prunes does not depend on what a snapshot holds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps({"id": snapshot_id}))
    manifest = Manifest(
        id=snapshot_id,
        built_at=snapshots._built_at(snapshot_id),
        date=None,
        files={
            "meta.json": StoredFile(
                size=(folder / "meta.json").stat().st_size,
                sha256=snapshot_store.sha256_of(folder / "meta.json"),
            )
        },
    )
    assert snapshot_store.store_from_settings().publish(folder, manifest)
    return snapshot_id


def test_the_next_publish_clears_an_upload_cut_short(published, bucket, tmp_path):
    add_stock("7203", walk(1, 60))
    now = snapshots.timezone.now().strftime(snapshots.ID_FORMAT)
    publish_small(tmp_path / "small", earlier(now, 1))  # what the store held before
    cut_short = now  # a snapshot's upload cut short after its first file
    store = snapshot_store.store_from_settings()
    snapshot_store._upload_file(
        store.client,
        published.older / "closes.npy",
        store.bucket,
        f"stocksite/{cut_short}/closes.npy",
        snapshot_store.sha256_of(published.older / "closes.npy"),
    )

    latest = build_and_publish()

    assert not any(k.startswith(f"stocksite/{cut_short}/") for k in keys(bucket))
    assert manifest_ids(bucket)[-1] == latest.id


def test_the_store_keeps_the_newest_few(bucket, tmp_path):
    add_stock("7203", walk(1, 60))
    now = snapshots.timezone.now().strftime(snapshots.ID_FORMAT)

    # KEEP snapshots published before, then one built and published: KEEP + 1 publishes.
    ids = [publish_small(tmp_path / f"small{n}", earlier(now, KEEP - n)) for n in range(KEEP)]
    ids.append(build_and_publish().id)

    assert manifest_ids(bucket) == ids[-KEEP:]
    folders = {k.split("/")[1] for k in keys(bucket) if not k.startswith("stocksite/manifests/")}
    assert folders == set(ids[-KEEP:])


def test_publishing_twice_uploads_once(published_store):
    built = published_store.built  # published by snapshot_publish

    again = snapshot_store.store_from_settings().publish(
        built.folder, snapshot_store.store_from_settings().newest()
    )

    assert again is False


def flip_object_byte(bucket, key: str) -> None:
    s3, name = bucket
    body = bytearray(s3.get_object(Bucket=name, Key=key)["Body"].read())
    body[-8] ^= 0xFF
    s3.put_object(Bucket=name, Key=key, Body=bytes(body))


def truncate_object(bucket, key: str) -> None:
    s3, name = bucket
    body = s3.get_object(Bucket=name, Key=key)["Body"].read()
    s3.put_object(Bucket=name, Key=key, Body=body[: len(body) // 2])


def delete_object(bucket, key: str) -> None:
    bucket[0].delete_object(Bucket=bucket[1], Key=key)


@pytest.fixture(scope="module")
def to_damage(published) -> tuple:
    """The module's published snapshot published again, to a bucket of the damage tests' own."""
    s3, name = bucket_create(published.endpoint)
    with (
        pytest.MonkeyPatch.context() as patch,
        override_settings(
            SNAPSHOT_STORE_URL=f"s3://{name}/stocksite", SNAPSHOT_STORE_ENDPOINT=published.endpoint
        ),
    ):
        for variable, value in CREDENTIALS.items():
            patch.setenv(variable, value)
        snapshot_publish(published.built)
    return s3, name


@pytest.fixture
def damaged_store(to_damage, settings, monkeypatch):
    """``to_damage``'s bucket as the snapshot store, and ``damage(how, key)``: each object the test
    damages is put back as it was published once the test is over."""
    for variable, value in CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    s3, name = to_damage
    settings.SNAPSHOT_STORE_URL = f"s3://{name}/stocksite"
    settings.SNAPSHOT_STORE_ENDPOINT = s3.meta.endpoint_url
    published = {}

    def damage(how, key: str) -> None:
        if key not in published:
            stored = s3.get_object(Bucket=name, Key=key)
            published[key] = (stored["Body"].read(), stored["Metadata"])
        how(to_damage, key)

    yield damage
    for key, (body, metadata) in published.items():
        s3.put_object(Bucket=name, Key=key, Body=body, Metadata=metadata)


@pytest.mark.parametrize(
    ("damage", "name", "error"),
    [
        (flip_object_byte, "closes.npy", SnapshotDamaged),
        (flip_object_byte, "checksums.json", SnapshotDamaged),
        (truncate_object, "spectra.npy", SnapshotDamaged),
        (delete_object, "offsets.npy", SnapshotStoreError),
    ],
)
def test_a_damaged_object_is_refused_and_the_current_snapshot_serves(
    published, damaged_store, host, damage, name, error
):
    """The store's newest snapshot (``to_damage``) has one object damaged; the host pulling it
    serves an older one."""
    second_host = host("second")
    first = seed(second_host, published.older)  # a snapshot of 7203 serves there
    newer = published.built  # 7203 and 6758, the store's newest
    damaged_store(damage, f"stocksite/{newer.id}/{name}")

    with pytest.raises(error):
        snapshot_pull()

    assert snapshot_current().id == first
    folders = [p.name for p in second_host.iterdir() if p.is_dir() and not p.is_symlink()]
    assert folders == [first]  # no partial folder left behind
    assert snapshot_health()["pull"]["ok"] is False


def test_a_manifest_naming_a_path_outside_its_folder_is_refused(published, bucket, host):
    """The published snapshot's manifest, with a path outside its folder added, written to a
    bucket of the test's own: the pull refuses it before it fetches any file."""
    built, (shared, shared_name) = published.built, published.bucket
    s3, name = bucket
    key = f"stocksite/manifests/{built.id}.json"
    manifest = json.loads(shared.get_object(Bucket=shared_name, Key=key)["Body"].read())
    manifest["files"]["../../current"] = manifest["files"]["meta.json"]
    s3.put_object(Bucket=name, Key=key, Body=json.dumps(manifest).encode())
    second = host("second")

    with pytest.raises(SnapshotDamaged):
        snapshot_pull()

    assert not (second / "current").exists()


def test_a_pull_that_cannot_reach_the_store_keeps_the_current_snapshot(
    published_store, host, settings
):
    built = published_store.built
    # A copy of the web host, which pulled the published snapshot.
    shutil.copytree(published_store.web_host, host("second"), symlinks=True, dirs_exist_ok=True)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.SNAPSHOT_STORE_ENDPOINT = f"http://127.0.0.1:{closed.getsockname()[1]}"

    with pytest.raises(SnapshotStoreError):
        snapshot_pull()

    assert snapshot_current().id == built.id
    assert "EndpointConnectionError" in snapshot_health()["pull"]["error"]


def test_two_hosts_converge_on_the_newest_snapshot(published_store, host):
    newest = published_store.built  # 7203 and 6758, the store's newest
    seed(host("first"), published_store.older)  # the first host is one snapshot behind

    ids = []
    for name in ("second", "first"):
        folder = host(name)
        snapshot_pull()
        ids.append(os.readlink(folder / "current"))

    assert ids == [newest.id, newest.id]
    assert snapshot_current().market.ids == ("6758", "7203")


def test_a_host_up_to_date_does_not_download_again(published_store, host):
    # A copy of the web host, which pulled the published snapshot.
    shutil.copytree(published_store.web_host, host("second"), symlinks=True, dirs_exist_ok=True)

    assert snapshot_pull().status == "current"


def test_a_snapshot_built_here_newer_than_the_store_is_kept(published_store):
    add_stock("7203", walk(1, 60))
    local = snapshot_build()

    pull = snapshot_pull()

    assert (pull.status, pull.id) == ("newer", local.id)
    assert snapshot_current().id == local.id


def test_a_pull_deletes_old_local_snapshots(published_store, host):
    second = host("second")
    # The host holds KEEP snapshots older than the store's (the newest current) and pulls.
    for n in range(snapshots.KEEP, 0, -1):
        seed(second, published_store.older, earlier(published_store.built.id, n))

    assert snapshot_pull().status == "pulled"

    folders = sorted(p.name for p in second.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(folders) == snapshots.KEEP
    assert folders[-1] == os.readlink(second / "current")


def test_a_web_host_with_no_snapshot_pulls_before_its_workers_start(published):
    """The module's web host: gunicorn's on_starting ran in a folder with no snapshot, with the
    environment of subprocess_env (``published``)."""
    built, second = published.built, published.web_host

    assert os.readlink(second / "current") == built.id
    assert f"pulled {built.id}" in published.web_log[0]


def test_pull_without_a_store_says_what_is_missing(settings):
    settings.SNAPSHOT_STORE_URL = ""

    with pytest.raises(CommandError, match="SNAPSHOT_STORE_URL is not set"):
        call_command("snapshot_pull")


def test_a_store_url_that_is_not_s3_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="s3://bucket/prefix"):
        SnapshotStore("https://bucket.example.com/prefix")
