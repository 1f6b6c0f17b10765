"""Publishing snapshots to an S3-compatible store and pulling them on other hosts, against a real
S3 server (moto's, in server mode on a free port). A "host" is a snapshot folder: the tests switch
SIMILARITY_SNAPSHOT_DIR between folders, and some hosts run as processes of their own."""

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import numpy as np
import pytest
from boto3.s3.transfer import TransferConfig
from django.conf import settings
from django.core.management import CommandError, call_command

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


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket on the S3 server, configured as the snapshot store."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    name = f"snapshots-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    settings.SNAPSHOT_STORE_URL = f"s3://{name}/stocksite"
    settings.SNAPSHOT_STORE_ENDPOINT = s3_endpoint
    return s3, name


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


def test_a_second_host_in_its_own_process_pulls_the_same_snapshot(bucket, host):
    add_stock("7203", walk(1, 60))
    add_stock("6758", walk(2, 60))
    built = snapshot_build()
    snapshot_publish(built)
    second = host("second")

    done = subprocess.run(
        [sys.executable, "manage.py", "snapshot_pull"],
        cwd=settings.BASE_DIR,
        env=subprocess_env(second),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert f"pulled {built.id}" in done.stdout
    pulled = snapshot_current()
    assert pulled.id == built.id and pulled.folder.parent == second
    assert pulled.market.ids == ("6758", "7203")
    pattern = walk(3, 40)
    assert search(pulled.market, pattern, k=5) == search(built.market, pattern, k=5)


def test_a_pulled_snapshot_keeps_its_build_time_as_its_age(bucket, host):
    add_stock("7203", walk(1, 60))
    built = snapshot_build()
    snapshot_publish(built)
    host("second")

    snapshot_pull()

    meta = snapshot_current().folder / "meta.json"
    assert meta.stat().st_mtime == pytest.approx(snapshots._built_at(built.id).timestamp())


def test_health_says_which_snapshot_a_pulling_host_serves(bucket, host, client, staff_user):
    add_stock("7203", walk(1, 60))
    built = snapshot_build()
    snapshot_publish(built)
    host("second")
    snapshot_pull()
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


def test_the_next_publish_clears_an_upload_cut_short(bucket):
    add_stock("7203", walk(1, 60))
    build_and_publish()
    cut_short = snapshot_build()
    store = snapshot_store.store_from_settings()
    snapshot_store._upload_file(
        store.client,
        cut_short.folder / "closes.npy",
        store.bucket,
        f"stocksite/{cut_short.id}/closes.npy",
        snapshot_store.sha256_of(cut_short.folder / "closes.npy"),
    )

    latest = build_and_publish()

    assert not any(k.startswith(f"stocksite/{cut_short.id}/") for k in keys(bucket))
    assert manifest_ids(bucket)[-1] == latest.id


def test_the_store_keeps_the_newest_few(bucket):
    add_stock("7203", walk(1, 60))

    ids = [build_and_publish().id for _ in range(KEEP + 1)]

    assert manifest_ids(bucket) == ids[-KEEP:]
    folders = {k.split("/")[1] for k in keys(bucket) if not k.startswith("stocksite/manifests/")}
    assert folders == set(ids[-KEEP:])


def test_publishing_twice_uploads_once(bucket):
    add_stock("7203", walk(1, 60))
    built = build_and_publish()

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
    bucket, host, damage, name, error
):
    add_stock("7203", walk(1, 60))
    first = build_and_publish()
    second_host = host("second")
    snapshot_pull()
    host("build")
    add_stock("6758", walk(2, 60))
    newer = build_and_publish()
    damage(bucket, f"stocksite/{newer.id}/{name}")
    host("second")

    with pytest.raises(error):
        snapshot_pull()

    assert snapshot_current().id == first.id
    folders = [p.name for p in second_host.iterdir() if p.is_dir() and not p.is_symlink()]
    assert folders == [first.id]  # no partial folder left behind
    assert snapshot_health()["pull"]["ok"] is False


def test_a_manifest_naming_a_path_outside_its_folder_is_refused(bucket, host):
    add_stock("7203", walk(1, 60))
    built = build_and_publish()
    s3, name = bucket
    key = f"stocksite/manifests/{built.id}.json"
    manifest = json.loads(s3.get_object(Bucket=name, Key=key)["Body"].read())
    manifest["files"]["../../current"] = manifest["files"]["meta.json"]
    s3.put_object(Bucket=name, Key=key, Body=json.dumps(manifest).encode())
    second = host("second")

    with pytest.raises(SnapshotDamaged):
        snapshot_pull()

    assert not (second / "current").exists()


def test_a_pull_that_cannot_reach_the_store_keeps_the_current_snapshot(bucket, host, settings):
    add_stock("7203", walk(1, 60))
    built = build_and_publish()
    host("second")
    snapshot_pull()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.SNAPSHOT_STORE_ENDPOINT = f"http://127.0.0.1:{closed.getsockname()[1]}"

    with pytest.raises(SnapshotStoreError):
        snapshot_pull()

    assert snapshot_current().id == built.id
    assert "EndpointConnectionError" in snapshot_health()["pull"]["error"]


def test_two_hosts_converge_on_the_newest_snapshot(bucket, host):
    add_stock("7203", walk(1, 60))
    build_and_publish()
    host("first")
    snapshot_pull()  # the first host is one snapshot behind
    host("build")
    add_stock("6758", walk(2, 60))
    newest = build_and_publish()

    ids = []
    for name in ("second", "first"):
        folder = host(name)
        snapshot_pull()
        ids.append(os.readlink(folder / "current"))

    assert ids == [newest.id, newest.id]
    assert snapshot_current().market.ids == ("6758", "7203")


def test_a_host_up_to_date_does_not_download_again(bucket, host):
    add_stock("7203", walk(1, 60))
    build_and_publish()
    host("second")
    snapshot_pull()

    assert snapshot_pull().status == "current"


def test_a_snapshot_built_here_newer_than_the_store_is_kept(bucket):
    add_stock("7203", walk(1, 60))
    build_and_publish()
    local = snapshot_build()

    pull = snapshot_pull()

    assert (pull.status, pull.id) == ("newer", local.id)
    assert snapshot_current().id == local.id


def test_a_pull_deletes_old_local_snapshots(bucket, host):
    add_stock("7203", walk(1, 60))
    second = host("second")
    for _ in range(3):
        host("build")
        build_and_publish()
        host("second")
        snapshot_pull()

    folders = sorted(p.name for p in second.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(folders) == snapshots.KEEP
    assert folders[-1] == os.readlink(second / "current")


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


def test_a_web_host_with_no_snapshot_pulls_before_its_workers_start(bucket, host, monkeypatch):
    add_stock("7203", walk(1, 60))
    built = build_and_publish()
    second = host("second")
    for name, value in subprocess_env(second).items():
        monkeypatch.setenv(name, value)
    on_starting = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))["on_starting"]
    server = _Server()

    on_starting(server)

    assert os.readlink(second / "current") == built.id
    assert f"pulled {built.id}" in server.log.lines[0]


def test_pull_without_a_store_says_what_is_missing(settings):
    settings.SNAPSHOT_STORE_URL = ""

    with pytest.raises(CommandError, match="SNAPSHOT_STORE_URL is not set"):
        call_command("snapshot_pull")


def test_a_store_url_that_is_not_s3_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="s3://bucket/prefix"):
        SnapshotStore("https://bucket.example.com/prefix")
