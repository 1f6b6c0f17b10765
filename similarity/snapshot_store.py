"""The snapshot store: published search snapshots in an S3-compatible bucket (the only network
code of the similarity app).

One build worker publishes each snapshot it builds; every host pulls the newest complete one.
Layout under ``SNAPSHOT_STORE_URL`` (``s3://bucket/prefix``)::

    <prefix>/<id>/<file>         the snapshot folder's files, uploaded first (multipart when large)
    <prefix>/manifests/<id>.json  written LAST: the id, build time, data date, and every file's
                                  size and SHA-256

A snapshot exists for readers only once its manifest does, so an upload cut short (a killed
worker, a lost connection) is never seen: its files lie there without a manifest until the next
publish deletes them. Publishing keeps the newest ``KEEP`` manifests and deletes older snapshots
(the manifest first, so that no reader picks a snapshot whose files are going away).

Everything read from the bucket is checked before use: ids and file names against strict
patterns (a manifest never names a path outside its folder), every downloaded file against the
manifest's size and SHA-256 (``SnapshotDamaged``).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEEP = 3  # published snapshots kept in the store: the newest and two to fall back to
MANIFESTS = "manifests"
ID_PATTERN = re.compile(r"\d{8}T\d{12}")  # snapshot.py's folder names: the build time, UTC
FILE_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
MANIFEST_MAX_BYTES = 1024 * 1024
# Files above PART_SIZE go up and down in parts of that size, several at a time.
PART_SIZE = 16 * 1024 * 1024
TRANSFER = TransferConfig(
    multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=4
)
# Files going up or down at once: a snapshot is some 80 files, most of them small, where each
# request's round trip, not the bandwidth, sets the pace.
FILES_AT_ONCE = 8
# An upload cut short leaves parts that cost storage until aborted; this old, they are debris.
STALE_UPLOAD = dt.timedelta(hours=6)


class SnapshotStoreError(Exception):
    """The store could not be read or written (network, credentials, bucket)."""


class SnapshotDamaged(SnapshotStoreError):
    """A manifest or downloaded file that does not match what was published."""


@dataclass(frozen=True)
class StoredFile:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    id: str
    built_at: dt.datetime
    date: dt.date | None  # the last trading day in the data
    files: dict[str, StoredFile]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "built_at": self.built_at.isoformat(),
                "date": self.date.isoformat() if self.date else None,
                "files": {
                    name: {"size": f.size, "sha256": f.sha256}
                    for name, f in sorted(self.files.items())
                },
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            files = {
                name: StoredFile(size=int(f["size"]), sha256=str(f["sha256"]))
                for name, f in data["files"].items()
            }
            manifest = cls(
                id=str(data["id"]),
                built_at=dt.datetime.fromisoformat(data["built_at"]),
                date=dt.date.fromisoformat(data["date"]) if data["date"] else None,
                files=files,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SnapshotDamaged(f"manifest: {type(exc).__name__}: {exc}") from exc
        bad = [
            name
            for name, f in files.items()
            if not FILE_PATTERN.fullmatch(name)
            or f.size < 0
            or not re.fullmatch(r"[0-9a-f]{64}", f.sha256)
        ]
        if not ID_PATTERN.fullmatch(manifest.id) or bad or not files:
            raise SnapshotDamaged(f"manifest {manifest.id!r}: invalid id or files {bad}")
        return manifest


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class SnapshotStore:
    """One bucket and prefix of an S3-compatible service."""

    def __init__(self, url: str, *, endpoint: str = ""):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ImproperlyConfigured(
                f"SNAPSHOT_STORE_URL must look like s3://bucket/prefix, not {url!r}"
            )
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            config=Config(
                # A connection for each part under way: FILES_AT_ONCE files, each in up to
                # TRANSFER.max_concurrency parts (urllib3 discards the extra ones otherwise).
                max_pool_connections=FILES_AT_ONCE * TRANSFER.max_concurrency,
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 5, "mode": "standard"},
                # Most S3-compatible services want the bucket in the path, not the host name.
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        )

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def publish(self, folder: Path, manifest: Manifest) -> bool:
        """Upload a snapshot folder, its manifest last, then prune; False if already there."""
        with _errors():
            if manifest.id in self._manifest_ids():
                return False
            _each_file(
                lambda name, stored: _upload_file(
                    self.client,
                    folder / name,
                    self.bucket,
                    self._key(manifest.id, name),
                    stored.sha256,
                ),
                manifest.files,
            )
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(MANIFESTS, f"{manifest.id}.json"),
                Body=manifest.to_json(),
                ContentType="application/json",
            )
        self.prune()
        return True

    def newest(self) -> Manifest | None:
        """The newest complete snapshot's manifest, or None in an empty store."""
        with _errors():
            ids = self._manifest_ids()
            if not ids:
                return None
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(MANIFESTS, f"{ids[-1]}.json")
            )
            if response["ContentLength"] > MANIFEST_MAX_BYTES:
                raise SnapshotDamaged(f"manifest {ids[-1]} is {response['ContentLength']} bytes")
            manifest = Manifest.from_json(response["Body"].read())
        if manifest.id != ids[-1]:
            raise SnapshotDamaged(f"manifest {ids[-1]} names snapshot {manifest.id}")
        return manifest

    def download(self, manifest: Manifest, folder: Path) -> None:
        """Fetch every file of a snapshot into ``folder``; SnapshotDamaged on any mismatch."""
        with _errors():
            _each_file(
                lambda name, stored: self._download_file(manifest.id, name, stored, folder),
                manifest.files,
            )

    def _download_file(self, snapshot_id: str, name: str, stored: StoredFile, folder: Path):
        path = folder / name
        key = self._key(snapshot_id, name)
        if stored.size < TRANSFER.multipart_threshold:
            digest = _download_small(self.client, self.bucket, key, path)
        else:  # in ranges, several at a time
            self.client.download_file(self.bucket, key, str(path), Config=TRANSFER)
            digest = sha256_of(path)
        size = path.stat().st_size
        if size != stored.size:
            raise SnapshotDamaged(f"{snapshot_id}/{name}: {size} bytes, {stored.size} published")
        if digest != stored.sha256:
            raise SnapshotDamaged(f"{snapshot_id}/{name} does not match its SHA-256")

    def prune(self, keep: int = KEEP) -> list[str]:
        """Delete all but the newest ``keep`` snapshots, files left by uploads cut short, and
        stale unfinished multipart uploads; returns the ids deleted."""
        with _errors():
            ids = self._manifest_ids()
            old = ids[:-keep] if keep else ids
            for snapshot_id in old:  # unpublish first: no reader picks it from now on
                self.client.delete_object(
                    Bucket=self.bucket, Key=self._key(MANIFESTS, f"{snapshot_id}.json")
                )
            kept = set(ids) - set(old)
            newest = ids[-1] if ids else ""
            # Folders without a manifest older than the newest one are uploads cut short; a newer
            # one may be an upload in progress.
            debris = [i for i in self._folder_ids() if i not in kept and (i in old or i < newest)]
            for snapshot_id in debris:
                self._delete_prefix(self._key(snapshot_id) + "/")
            self._abort_stale_uploads()
        return sorted(set(old) | set(debris))

    def _manifest_ids(self) -> list[str]:
        names = self._list(self._key(MANIFESTS) + "/", delimiter="")
        return sorted(
            n.removesuffix(".json")
            for n in names
            if n.endswith(".json") and ID_PATTERN.fullmatch(n.removesuffix(".json"))
        )

    def _folder_ids(self) -> list[str]:
        prefix = self._key() + "/" if self.prefix else ""
        return sorted(
            n.rstrip("/")
            for n in self._list(prefix, delimiter="/")
            if ID_PATTERN.fullmatch(n.rstrip("/"))
        )

    def _list(self, prefix: str, *, delimiter: str) -> list[str]:
        """Names directly under ``prefix``: objects, or with a delimiter, sub-folders."""
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        for page in paginator.paginate(**kwargs):
            entries = page.get("CommonPrefixes", []) if delimiter else page.get("Contents", [])
            names += [(e["Prefix"] if delimiter else e["Key"])[len(prefix) :] for e in entries]
        return names

    def _delete_prefix(self, prefix: str) -> None:
        keys = [prefix + name for name in self._list(prefix, delimiter="")]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
            )

    def _abort_stale_uploads(self) -> None:
        response = self.client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=self._key() + "/" if self.prefix else ""
        )
        cutoff = dt.datetime.now(dt.UTC) - STALE_UPLOAD
        for upload in response.get("Uploads", []):
            if upload["Initiated"] < cutoff:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )


def _each_file(transfer, files: dict[str, StoredFile]) -> None:
    """``transfer(name, stored)`` for every file, ``FILES_AT_ONCE`` at a time (boto3's clients
    are thread-safe); the first failure is raised once the transfers under way have ended, and
    no file is started after it."""
    with ThreadPoolExecutor(FILES_AT_ONCE, thread_name_prefix="snapshot-store") as pool:
        futures = [pool.submit(transfer, name, stored) for name, stored in files.items()]
        try:
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _upload_file(client, path: Path, bucket: str, key: str, sha256: str) -> None:
    """One file up: in one request below the multipart threshold (the service checks the bytes
    against the SHA-256), in parts above it."""
    metadata = {"sha256": sha256}
    if path.stat().st_size < TRANSFER.multipart_threshold:
        with path.open("rb") as body:
            client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                Metadata=metadata,
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
            )
        return
    client.upload_file(str(path), bucket, key, Config=TRANSFER, ExtraArgs={"Metadata": metadata})


def _download_small(client, bucket: str, key: str, path: Path) -> str:
    """One file down in one request, hashed as it streams in; returns its SHA-256."""
    digest = hashlib.sha256()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    with path.open("wb") as handle:
        for chunk in body.iter_chunks(1024 * 1024):
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


@contextmanager
def _errors():
    """Turns the SDK's failures (network, credentials, missing keys) into SnapshotStoreError."""
    try:
        yield
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, Boto3Error) as exc:
        raise SnapshotStoreError(f"{type(exc).__name__}: {exc}") from exc


def store_from_settings() -> SnapshotStore | None:
    """The configured store, or None when SNAPSHOT_STORE_URL is unset (one host, local only)."""
    if not settings.SNAPSHOT_STORE_URL:
        return None
    return _store(settings.SNAPSHOT_STORE_URL, settings.SNAPSHOT_STORE_ENDPOINT)


@functools.lru_cache(maxsize=4)
def _store(url: str, endpoint: str) -> SnapshotStore:
    # One client per process: a puller asks every few minutes (boto3 clients are thread-safe).
    return SnapshotStore(url, endpoint=endpoint)
