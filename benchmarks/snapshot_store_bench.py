"""Benchmark of the snapshot store: publish a whole-market snapshot and pull it on another host.

    python benchmarks/snapshot_store_bench.py [--series 4000]

Builds the similarity benchmark's market (4,000 series, about 18.5 million closes, fixed seed),
writes it as a build does (arrays, base-rate index, checksums), then times the services a
deployment runs: ``snapshot_publish`` (every file up, in 16 MB parts above 16 MB, then the
manifest) and ``snapshot_pull`` on a second host folder (download, SHA-256 of every file, the
snapshot loaded whole, the swap). The store is moto's S3 server on loopback, in this process's
threads: the figures are what the code and the machine cost, not a network's. Wall-clock on a
shared machine; nothing here is a test.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=4000, help="series of the market")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from moto.server import ThreadedMotoServer

    for noisy in ("werkzeug", "botocore"):  # a line per request, per credential lookup
        logging.getLogger(noisy).setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with tempfile.TemporaryDirectory(prefix="snapshot-store-bench-") as scratch:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="stocksite.settings",
            SIMILARITY_SNAPSHOT_DIR=str(Path(scratch) / "build"),
            SNAPSHOT_STORE_URL="s3://stocksite-bench/snapshots",
            SNAPSHOT_STORE_ENDPOINT=f"http://{host}:{port}",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench-secret",
            AWS_DEFAULT_REGION="us-east-1",
        )
        try:
            run(args, Path(scratch))
        finally:
            server.stop()


def run(args, scratch: Path) -> None:
    import django

    django.setup()
    import numpy as np
    from django.test import override_settings

    from benchmarks import similarity_bench
    from similarity.engine import Market
    from similarity.snapshot import (
        ID_FORMAT,
        POINTER,
        snapshot_current,
        snapshot_publish,
        snapshot_pull,
        snapshot_write,
    )
    from similarity.snapshot_store import store_from_settings

    store_from_settings().client.create_bucket(Bucket="stocksite-bench")
    similarity_bench.SERIES = args.series
    series = similarity_bench.build_series()
    ids = [f"S{i:04d}" for i in range(len(series))]
    market = Market.from_series(series, ids, similarity_bench.build_dates(series))
    build = scratch / "build"
    name = time.strftime(ID_FORMAT.replace("%f", "000000"), time.gmtime())
    (build / name).mkdir(parents=True)
    snapshot_write(build / name, market=market, listed=np.ones(len(series), dtype=bool))
    os.symlink(name, build / POINTER)
    built = snapshot_current()
    files = sorted(built.folder.iterdir())
    size = sum(p.stat().st_size for p in files)

    started = time.perf_counter()
    manifest = snapshot_publish(built)
    upload = time.perf_counter() - started
    with override_settings(SIMILARITY_SNAPSHOT_DIR=scratch / "web"):
        pull = snapshot_pull()
    assert pull.status == "pulled" and pull.id == manifest.id == built.id
    print(
        f"snapshot store (moto S3 on loopback): {len(series):,} series, {market.size:,} closes, "
        f"{len(files)} files, {size / 1e6:,.0f} MB; upload {upload:.1f} s "
        f"({size / 1e6 / upload:,.0f} MB/s), pull {pull.seconds:.1f} s "
        f"({pull.bytes / 1e6 / pull.seconds:,.0f} MB/s, SHA-256 and load check included); "
        f"load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
