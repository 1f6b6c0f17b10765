from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from market.exchanges.tse.files import FileFormatError, read_listing_file
from market.services.listing import stock_listing_upsert


class Command(BaseCommand):
    help = (
        "Import the exchange's list of listed issues (JPX CSV, UTF-8 with BOM, Japanese headers). "
        "Five-digit codes (preferred and bond-type class shares such as 25935) are imported as "
        "they are: they trade on the exchange under those codes."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--delist-missing",
            action="store_true",
            help="Mark stocks that are not in this list as unlisted (only with the whole list).",
        )

    def handle(self, *args, path: Path, delist_missing: bool, **options):
        try:
            rows = read_listing_file(path)
        except FileFormatError as exc:
            raise CommandError(str(exc)) from exc
        result = stock_listing_upsert(rows=rows, delist_missing=delist_missing)
        for code, reason in sorted(result.rejected.items()):
            self.stderr.write(self.style.WARNING(f"{code} skipped: {reason}"))
        if not result.changed:
            self.stdout.write(f"{path.name}: {len(rows)} issues, nothing changed")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{path.name}: {len(rows)} issues: {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged, "
                f"{result.delisted} marked unlisted"
            )
        )
