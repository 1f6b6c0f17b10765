from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from market.demo_market import DEMO_DIR, demo_market_load


class Command(BaseCommand):
    help = (
        "Load the bundled demo market (42 real TSE issues, daily since 2000, see "
        f"{Path(DEMO_DIR).name}/README.md) when the database has no stocks yet."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Load (idempotently) even if stocks exist."
        )

    def handle(self, *args, force: bool, **options):
        result = demo_market_load(force=force)
        if result is None:
            self.stdout.write("The database already has stocks: demo market not loaded.")
            return
        if result.failures:
            raise CommandError("; ".join(result.failures))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo market: {result.stocks} stocks, {result.bars.inserted} bars inserted, "
                f"{result.bars.unchanged} unchanged."
            )
        )
