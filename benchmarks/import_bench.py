"""Benchmark of the price import: all of ../shared/data/jp_daily into the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stocksite_bench \\
        .venv/bin/python benchmarks/import_bench.py [--data ../shared/data/jp_daily]

Migrates the database, deletes every daily bar (so that the first import is one), then imports
the folder twice through market.services.imports.price_files_import (what `manage.py import_prices`
runs): the first import inserts every row, the repeat compares every row and writes nothing.
Prints wall-clock seconds and rows per second for each, and the CPU seconds spent by this
process and (PostgreSQL on this machine) by its database backend, which say more than the wall
clock when other work shares the machine. Goal on PostgreSQL: each under 60 s of wall clock.
It deletes data: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocksite.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from market.models import DailyBar  # noqa: E402
from market.services.imports import price_files_import  # noqa: E402


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend, read from /proc when it is local."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "jp_daily")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no jp_daily folder at {args.data}")

    call_command("migrate", verbosity=0)
    DailyBar.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {DailyBar._meta.db_table}")

    files = len(list(args.data.glob("*.csv")))
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"data: {args.data} ({files} files)")
    print()
    print(
        f"{'run':<8} {'seconds':>8} {'rows':>10} {'inserted':>10} {'unchanged':>10} {'rows/s':>10}"
    )
    for label in ("first", "repeat"):
        started, cpu_started = time.perf_counter(), time.process_time()
        db_started = backend_cpu_seconds()
        report = price_files_import(paths=[args.data])
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        db_finished = backend_cpu_seconds()
        db_cpu = f"{db_finished - db_started:>9.1f}" if db_started is not None else f"{'-':>9}"
        if report.failures:
            sys.exit("failed files:\n" + "\n".join(report.failures))
        totals = report.totals
        rows = totals.inserted + totals.updated + totals.unchanged
        print(
            f"{label:<8} {seconds:>8.1f} {rows:>10,} {totals.inserted:>10,} "
            f"{totals.unchanged:>10,} {rows / seconds:>10,.0f} {cpu:>9.1f} {db_cpu}"
        )


if __name__ == "__main__":
    main()
