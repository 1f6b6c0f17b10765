import time

from django.core.management.base import BaseCommand, CommandError

from similarity.snapshot import snapshot_build, snapshot_publish
from similarity.snapshot_intervals import interval_sizes
from similarity.snapshot_store import SnapshotStoreError


class Command(BaseCommand):
    help = (
        "Build the search snapshot from the database and make it current; with "
        "SNAPSHOT_STORE_URL set, publish it to the store for the other hosts."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        snapshot = snapshot_build()
        sizes = interval_sizes(snapshot)
        self.stdout.write(
            self.style.SUCCESS(
                f"snapshot {snapshot.id}: {len(snapshot.market)} stocks, "
                f"{snapshot.market.size} closes up to {snapshot.date or '-'} "
                f"(weekly {sizes.get('week', 0)}, monthly {sizes.get('month', 0)}) "
                f"in {time.perf_counter() - started:.1f} s"
            )
        )
        started = time.perf_counter()
        try:
            manifest = snapshot_publish(snapshot)
        except SnapshotStoreError as exc:
            raise CommandError(
                f"snapshot {snapshot.id} serves on this host but was not published: {exc}"
            ) from exc
        if manifest is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"published {manifest.id}: {len(manifest.files)} files, "
                    f"{manifest.size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
                )
            )
