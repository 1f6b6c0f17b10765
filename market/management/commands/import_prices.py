import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from market.services.daily_bars import UpsertResult
from market.services.imports import price_files_import

PROGRESS_EVERY_SECONDS = 5.0


class Command(BaseCommand):
    help = (
        "Import daily prices from files or folders: jp_daily files "
        "(Date,Open,Hight,Low,Close,Volume,Adj Close; the code is the file name) or plain "
        "code,date,open,high,low,close,volume[,adj_close] files, optionally gzipped. Each file "
        "is written in one transaction; a malformed file is reported and nothing of it written."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths: list[Path], **options):
        self._verbosity = options["verbosity"]
        self._last_progress = time.monotonic()
        report = price_files_import(paths=paths, on_file=self._progress)
        totals = report.totals
        summary = (
            f"{report.files} files: {totals.inserted} bars inserted, {totals.updated} updated, "
            f"{totals.unchanged} unchanged"
        )
        if not totals.changed and not report.failures:
            summary += ": nothing changed"
        self.stdout.write(summary)
        if report.failures:
            raise CommandError(
                f"{len(report.failures)} of {report.files} files failed, none of them written"
            )

    def _progress(
        self, index: int, count: int, path: Path, result: UpsertResult | None, error: str | None
    ) -> None:
        if error:
            self.stderr.write(self.style.ERROR(f"[{index}/{count}] {error}"))
            return
        now = time.monotonic()
        if self._verbosity >= 2 or (
            self._verbosity >= 1 and (now - self._last_progress >= PROGRESS_EVERY_SECONDS)
        ):
            self._last_progress = now
            self.stdout.write(
                f"[{index}/{count}] {path.name}: {result.inserted} inserted, "
                f"{result.updated} updated, {result.unchanged} unchanged"
            )
