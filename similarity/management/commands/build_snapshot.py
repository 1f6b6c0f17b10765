import time

from django.core.management.base import BaseCommand

from similarity.snapshot import snapshot_build


class Command(BaseCommand):
    help = "Build the search snapshot from the database and make it current."

    def handle(self, *args, **options):
        started = time.perf_counter()
        snapshot = snapshot_build()
        self.stdout.write(
            self.style.SUCCESS(
                f"snapshot {snapshot.id}: {len(snapshot.market)} stocks, "
                f"{snapshot.market.size} closes up to {snapshot.date or '-'} "
                f"in {time.perf_counter() - started:.1f} s"
            )
        )
